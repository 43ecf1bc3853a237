#!/usr/bin/env python3
"""Legibility of small text: OCR character recall of esl's 1-bit text against FreeType's
hinted monochrome rendering (Pillow, fontmode "1") of the same font file.

Not a CI test: see README.md in this folder for how to run it and the last results.

Each name is set on one line in the same box (BOX_W x BOX_H pixels, black on white), at
each size; tesseract reads it (`--psm 7`, chi_sim or eng) at 1x, 2x and 3x nearest-neighbour
upscales, and the best character recall counts. Character recall = characters of the name
found in order in the OCR text (longest common subsequence, spaces ignored) / characters
of the name.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor

from PIL import Image, ImageDraw, ImageFont

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Product names of our own choosing (not taken from the sample data).
CHINESE = [
    "农夫山泉矿泉水", "康师傅红烧牛肉面", "伊利纯牛奶", "蒙牛酸酸乳", "青岛啤酒",
    "统一冰红茶", "雀巢速溶咖啡", "光明鲜牛奶", "金龙鱼调和油", "海天生抽酱油",
    "老干妈风味豆豉", "双汇火腿肠", "旺旺雪饼", "奥利奥夹心饼干", "德芙巧克力",
    "五常大米", "洗洁精柠檬味", "蓝月亮洗衣液", "维达抽纸", "绿箭口香糖",
    "东北珍珠米", "白砂糖一千克", "鲜榨橙汁",
    # Added 2026-12-07, before the run that used them, to make the sample large enough that a
    # difference of 0.01 is not OCR noise (see README.md).
    "可口可乐", "百事可乐", "雪碧柠檬汽水", "王老吉凉茶", "加多宝", "娃哈哈纯净水",
    "怡宝饮用水", "红牛维生素饮料", "脉动青柠味", "康师傅绿茶", "三只松鼠坚果", "良品铺子肉干",
    "达利园蛋黄派", "好丽友派", "乐事薯片原味", "上好佳虾条", "徐福记糖果", "大白兔奶糖",
    "金锣火腿", "思念水饺", "湾仔码头汤圆", "三全速冻包子", "安井鱼丸", "李锦记蚝油",
    "太太乐鸡精", "恒顺香醋", "鲁花花生油", "福临门大豆油", "中粮面粉", "北京挂面",
    "今麦郎方便面", "白象汤好喝", "农心辛拉面", "伊利安慕希", "蒙牛特仑苏", "君乐宝酸奶",
    "光明优倍", "飞鹤奶粉", "贝因美米粉", "高露洁牙膏", "云南白药牙膏", "舒肤佳香皂",
    "海飞丝洗发水", "潘婷护发素", "立白洗衣粉", "心相印面巾纸", "清风卷纸", "金纺柔顺剂",
    "威露士洗手液", "新鲜鸡蛋十枚", "猪肉五花肉", "精品牛腩", "冷鲜鸡腿", "有机西兰花",
    "山东大葱", "红富士苹果", "海南香蕉", "新疆葡萄干", "赣南脐橙", "陕西猕猴桃",
]
# Held out (2026-12-07): not looked at while choosing light hinting for ideographs up to 12 px
# (crates/render/src/hint.rs), and read once afterwards to check the choice; `--held-out`.
CHINESE_HELD_OUT = [
    "喜之郎果冻", "雀巢咖啡伴侣", "蒙牛纯甄酸奶", "康师傅冰红茶", "统一老坛酸菜牛肉面", "香飘飘奶茶",
    "旺仔牛奶", "小浣熊干脆面", "卫龙辣条", "盼盼法式小面包", "好多鱼薯片", "奥利奥威化饼干",
    "士力架花生巧克力", "益达木糖醇口香糖", "农夫果园混合果汁", "汇源橙汁", "冰露矿泉水",
    "百岁山天然矿泉水", "青岛纯生啤酒", "雪花勇闯天涯", "哈尔滨啤酒", "珠江啤酒", "燕京啤酒",
    "长城干红葡萄酒", "张裕解百纳", "五粮液白酒", "茅台迎宾酒", "泸州老窖特曲", "红星二锅头",
    "金龙鱼大米", "十月稻田五常米", "想念挂面", "陈克明面条", "海天蚝油", "厨邦酱油",
    "千禾零添加酱油", "镇江香醋", "王守义十三香", "家乐鸡精", "海底捞火锅底料", "李锦记辣椒酱",
    "老干妈辣椒油", "乌江榨菜", "涪陵榨菜", "双汇王中王火腿肠", "雨润低温烤肠", "得利斯香肠",
    "安佳黄油", "光明奶酪棒", "妙可蓝多奶酪", "蒙牛真果粒", "伊利优酸乳", "维他柠檬茶",
]
LATIN = [
    "Whole Milk 1L", "Orange Juice", "Sparkling Water", "Greek Yogurt", "Cheddar Cheese",
    "Green Tea", "Dark Chocolate", "Peanut Butter", "Olive Oil 500ml", "Basmati Rice",
    "Tomato Ketchup", "Corn Flakes", "Butter Cookies", "Apple Cider", "Instant Coffee",
    "Strawberry Jam", "Sea Salt Chips", "Dish Soap", "Paper Towels", "Mint Gum",
    "Honey Oat Bar",
    # Added 2026-12-07 with the Chinese names above.
    "Brown Bread", "Rolled Oats", "Baby Spinach", "Red Onions", "Garlic Bulbs", "Frozen Peas",
    "Fish Fingers", "Chicken Breast", "Beef Mince 500g", "Smoked Salmon", "Cream Cheese",
    "Salted Butter", "Tomato Soup", "Baked Beans", "Chickpeas 400g", "Spaghetti", "Basil Pesto",
    "Maple Syrup", "Hand Soap", "Toothpaste", "Cat Food", "Lemonade 2L", "Ground Coffee",
    "Rice Crackers",
]
CHINESE_SIZES = [10, 11, 12, 13, 14, 16]
LATIN_SIZES = [8, 9, 10, 11, 12, 13, 14]
MODEL = "SL121"  # 212 x 104
BOX = (2, 32, 208, 40)  # x, y, w, h: the one-line box, on the label and in Pillow's image


def template(font, size, hinting):
    x, y, w, h = BOX
    return {
        "version": 2,
        "name": f"legibility-{font}-{size}",
        "models": [MODEL],
        "hinting": hinting,
        "elements": [{
            "type": "text", "box": {"x": x, "y": y, "w": w, "h": h},
            "field": "name", "font": font, "size": size, "max_lines": 1,
            "valign": "middle",
        }],
    }


def render_esl(esl, names, sizes, font, hinting, work):
    """Renders every name at every size with `esl golden --bless`; returns {(i, size): path}."""
    tdir, fdir, gdir = (os.path.join(work, d) for d in ("t", "f", "g"))
    for d in (tdir, fdir, gdir):
        shutil.rmtree(d, ignore_errors=True)
        os.makedirs(d)
    for size in sizes:
        with open(os.path.join(tdir, f"s{size}.json"), "w") as f:
            json.dump(template(font, size, hinting), f, ensure_ascii=False)
    for i, name in enumerate(names):
        with open(os.path.join(fdir, f"n{i}.json"), "w") as f:
            json.dump({"id": str(i), "name": name}, f, ensure_ascii=False)
    subprocess.run([esl, "golden", "--templates", tdir, "--fixtures", fdir, "--golden", gdir,
                    "--bless"], check=True, stdout=subprocess.DEVNULL)
    out = {}
    for size in sizes:
        for i in range(len(names)):
            p = os.path.join(gdir, f"s{size}__n{i}__{MODEL.lower()}.png")
            img = Image.open(p).convert("L").point(lambda v: 255 if v > 200 else 0)
            x, y, w, h = BOX
            out[(i, size)] = img.crop((x, y, x + w, y + h))
    return out


def render_pillow(font_file, names, sizes):
    out = {}
    x, y, w, h = BOX
    for size in sizes:
        font = ImageFont.truetype(font_file, size)
        for i, name in enumerate(names):
            img = Image.new("L", (w, h), 255)
            d = ImageDraw.Draw(img)
            d.fontmode = "1"  # FreeType hinted monochrome
            d.text((0, h // 2), name, font=font, fill=0, anchor="lm")
            out[(i, size)] = img
    return out


def lcs(a, b):
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b):
            cur.append(prev[j] + 1 if ca == cb else max(prev[j + 1], cur[j]))
        prev = cur
    return prev[-1]


def ocr(img, lang):
    with tempfile.NamedTemporaryFile(suffix=".png") as f:
        # A white margin helps tesseract find the line.
        pad = Image.new("L", (img.width + 20, img.height + 20), 255)
        pad.paste(img, (10, 10))
        pad.save(f.name)
        # One thread per tesseract: the names are read in parallel instead.
        env = dict(os.environ, OMP_THREAD_LIMIT="1")
        r = subprocess.run(["tesseract", f.name, "-", "-l", lang, "--psm", "7"],
                           capture_output=True, text=True, env=env)
        return r.stdout


def recall(name, img, lang):
    want = name.replace(" ", "")
    best = 0.0
    for k in (1, 2, 3):
        big = img.resize((img.width * k, img.height * k), Image.NEAREST)
        got = ocr(big, lang).replace(" ", "").strip()
        best = max(best, lcs(want, got) / len(want))
        if best == 1.0:
            break
    return best


def paired(a, b):
    """Mean of a - b over the names, and its standard error (the names are the sample)."""
    d = [x - y for x, y in zip(a, b)]
    mean = sum(d) / len(d)
    var = sum((x - mean) ** 2 for x in d) / max(1, len(d) - 1)
    return mean, (var / len(d)) ** 0.5


def table(title, names, sizes, lang, renders):
    """Prints mean recall per renderer and size, then each renderer's difference from the
    last one (the reference) with its standard error: per-name recall swings a lot with
    single pixels, so a difference well inside two standard errors is not a finding."""
    print(f"\n{title} ({len(names)} names)\n")
    print("| renderer | " + " | ".join(f"{s} px" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    scores = []
    for label, imgs in renders:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            per_size = [list(pool.map(lambda i: recall(names[i], imgs[(i, s)], lang),
                                      range(len(names)))) for s in sizes]
        scores.append(per_size)
        cells = [f"{sum(r) / len(r):.2f}" for r in per_size]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)
    ref_label = renders[-1][0]
    print(f"\nDifference from {ref_label}, mean ± standard error over the names:\n")
    print("| renderer | " + " | ".join(f"{s} px" for s in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for (label, _), per_size in zip(renders[:-1], scores[:-1]):
        cells = [f"{m:+.3f} ± {se:.3f}" for m, se in
                 (paired(a, b) for a, b in zip(per_size, scores[-1]))]
        print(f"| {label} | " + " | ".join(cells) + " |", flush=True)


# The cases: title, names, sizes, tesseract language, esl font name, font file in fonts/.
CASES = {
    "chinese": ("Chinese (chi_sim), WenQuanYi Micro Hei subset", CHINESE, CHINESE_SIZES,
                "chi_sim", "cjk", "WenQuanYiMicroHei-GB2312.ttf"),
    "held-out": ("Chinese (chi_sim), WenQuanYi Micro Hei subset, held-out names",
                 CHINESE_HELD_OUT, CHINESE_SIZES, "chi_sim", "cjk",
                 "WenQuanYiMicroHei-GB2312.ttf"),
    "latin": ("Latin (eng), Noto Sans Regular", LATIN, LATIN_SIZES, "eng", "sans",
              "NotoSans-Regular.ttf"),
    "latin-bold": ("Latin bold (eng), Noto Sans Bold", LATIN, LATIN_SIZES, "eng", "sans-bold",
                   "NotoSans-Bold.ttf"),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--esl", default=os.path.join(ROOT, "target", "release", "esl"),
                    help="the esl binary")
    ap.add_argument("--save", help="folder to save every image in (for looking at)")
    ap.add_argument("--only", choices=list(CASES),
                    help="one case only (the default run is chinese and latin)")
    ap.add_argument("--held-out", action="store_true",
                    help="the held-out Chinese names only (CHINESE_HELD_OUT); same as --only held-out")
    args = ap.parse_args()
    chosen = ["held-out"] if args.held_out else [args.only] if args.only else ["chinese", "latin"]
    cases = [CASES[c] for c in chosen]
    with tempfile.TemporaryDirectory() as work:
        for title, names, sizes, lang, font, file in cases:
            renders = [
                ("esl, hinted", render_esl(args.esl, names, sizes, font, True, work)),
                ("esl, `hinting: false`", render_esl(args.esl, names, sizes, font, False, work)),
                ("FreeType hinted mono (Pillow `fontmode = \"1\"`)",
                 render_pillow(os.path.join(ROOT, "fonts", file), names, sizes)),
            ]
            if args.save:
                os.makedirs(args.save, exist_ok=True)
                for k, (label, imgs) in enumerate(renders):
                    for (i, s), img in imgs.items():
                        img.save(os.path.join(args.save, f"{lang}-{s}px-n{i}-r{k}.png"))
            table(title, names, sizes, lang, renders)
    return 0


if __name__ == "__main__":
    sys.exit(main())
