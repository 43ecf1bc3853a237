//! The endpoints of seeds 000 and 001 besides push, flash, ESL and AP basics: shop mapping,
//! AP provisioning, refresh/scan times, firmware, templates, product binding, products,
//! orders, hooks, patrol statistics and audit videos. Parameter checks are written here from
//! the seed, apart from `esl-push`'s table, so that a mistake in one shows against the other.

use serde_json::{Map, Value, json};

use crate::fixture::TemplateFixture;
use crate::server::{
    Endpoint, Params, Reply, Shared, check_shop, esl_in_shop, fail, need, ok, page,
};
use crate::state::{ApSnapshot, State};

/// The paths this module serves.
pub(crate) const PATHS: &[&str] = &[
    "/service/patrol/stat/groupByInspector",
    "/service/patrol/stat/groupByShop",
    "/service/patrol/stat/groupByTemplate",
    "/service/patrol/stat/groupByCheckItem",
    "/service/audit/getVideoList",
    "/order/update",
    "/hook/add",
    "/hook/delete",
    "/device/esl/setRefreshTime",
    "/device/ap/bind",
    "/device/ap/unbind",
    "/device/ap/updateName",
    "/device/ap/setScanTime",
    "/device/ap/firmware/getList",
    "/device/ap/firmware/upgrade",
    "/device/esl/firmware/getList",
    "/device/esl/firmware/upgrade",
    "/template/create",
    "/template/update",
    "/template/getList",
    "/template/getInfo",
    "/template/delete",
    "/product/bindEsl",
    "/product/unbindEsl",
    "/product/getBindEslList",
    "/product/updateTemplate",
    "/product/getInfo",
    "/product/getList",
    "/product/create",
    "/product/update",
    "/product/delete",
    "/shop/bind",
    "/shop/unbind",
    "/shop/update",
];

/// The code for a missing or malformed parameter: the endpoint's own listed "invalid
/// parameter" code (5020 or 5023), else 5022 from the general list.
pub(crate) fn param_code(path: &str) -> i64 {
    match path {
        "/device/ap/bind" => 5023,
        "/template/getList"
        | "/product/bindEsl"
        | "/product/unbindEsl"
        | "/product/getBindEslList"
        | "/product/updateTemplate"
        | "/product/getList" => 5020,
        _ => 5022,
    }
}

/// The text of an id given as a JSON string or number.
pub(crate) fn id_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

type Res = Result<Reply, Reply>;

fn int(ep: Endpoint, params: &Params, key: &str) -> Result<Option<i64>, Reply> {
    match params.get(key).map(|v| v.trim()) {
        None | Some("") => Ok(None),
        Some(v) => v.parse::<i64>().map(Some).map_err(|_| {
            fail(
                ep.param_code(),
                format!("invalid parameter: {key} must be an integer, got {v:?}"),
            )
        }),
    }
}

/// A JSON-array parameter. A value that is not JSON is code 1 with the seed's message
/// ("product_list: JSON.parse error", Product APIs §6.1.3); a missing one the endpoint's code.
fn array(ep: Endpoint, params: &Params, key: &str) -> Result<Vec<Value>, Reply> {
    let text = need(ep, params, key)?;
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Array(a)) => Ok(a),
        Ok(_) => Err(fail(
            ep.param_code(),
            format!("invalid parameter: {key} must be a JSON array"),
        )),
        Err(_) => Err(fail(1, format!("{key}: JSON.parse error"))),
    }
}

fn unavailable(path: &str) -> Reply {
    fail(1, format!("{path} is currently unavailable"))
}

fn shop_of_sunmi_no(st: &State, ep: Endpoint, params: &Params) -> Result<String, Reply> {
    let no = need(ep, params, "sunmi_shop_no")?;
    if st.sunmi_shops.contains_key(no) {
        Ok(no.to_owned())
    } else {
        Err(fail(
            5013,
            format!("invalid saas provider or shop: unknown sunmi_shop_no {no:?}"),
        ))
    }
}

/// An ESL of the shop named by `esl_id` or `esl_code`.
fn esl_by_id_or_code(
    st: &State,
    ep: Endpoint,
    shop: &str,
    params: &Params,
) -> Result<String, Reply> {
    if let Some(id) = params.get("esl_id").filter(|v| !v.trim().is_empty()) {
        return Ok(esl_in_shop(st, shop, id)?.snap.esl_id.clone());
    }
    if let Some(code) = params.get("esl_code").filter(|v| !v.trim().is_empty()) {
        return st
            .esls
            .values()
            .find(|e| e.snap.esl_code == *code && e.snap.shop_id.as_deref() == Some(shop))
            .map(|e| e.snap.esl_id.clone())
            .ok_or_else(|| {
                fail(
                    5301,
                    format!("invalid ESL: no ESL with code {code:?} in shop"),
                )
            });
    }
    Err(fail(
        ep.param_code(),
        "invalid parameter: esl_code or esl_id is required",
    ))
}

fn template_in_shop<'a>(st: &'a State, shop: &str, id: &str) -> Result<&'a TemplateFixture, Reply> {
    st.templates
        .get(id)
        .filter(|t| t.shop_id == shop)
        .ok_or_else(|| {
            fail(
                5343,
                format!("invalid template: no template {id:?} in shop"),
            )
        })
}

fn product_exists(st: &State, shop: &str, id: &str) -> Result<(), Reply> {
    if st.products.contains_key(&(shop.to_owned(), id.to_owned())) {
        Ok(())
    } else {
        Err(fail(
            5015,
            format!("invalid product: no product {id:?} in shop"),
        ))
    }
}

/// Prices: non-negative numbers or numeric strings (Product APIs §3.1.2).
fn product_valid(p: &Map<String, Value>, creating: bool) -> bool {
    let id_ok = !id_text(p.get("id")).is_empty();
    let name_ok = !creating
        || p.get("name")
            .and_then(Value::as_str)
            .is_some_and(|n| !n.is_empty());
    let prices_ok = ["price", "promote_price", "member_price"]
        .iter()
        .all(|k| match p.get(*k) {
            None | Some(Value::Null) => true,
            Some(Value::Number(n)) => n.as_f64().is_some_and(|f| f >= 0.0),
            Some(Value::String(s)) => s.trim().parse::<f64>().is_ok_and(|f| f >= 0.0),
            Some(_) => false,
        });
    id_ok && name_ok && prices_ok
}

pub(crate) fn run(shared: &Shared, path: &'static str, params: &Params) -> Res {
    let ep = Endpoint::Extra(path);
    match path {
        "/service/patrol/stat/groupByInspector"
        | "/service/patrol/stat/groupByShop"
        | "/service/patrol/stat/groupByTemplate"
        | "/service/patrol/stat/groupByCheckItem" => {
            let period = int(ep, params, "period")?.unwrap_or(1);
            if !(1..=5).contains(&period) {
                return Err(fail(
                    5022,
                    format!("invalid parameter: period {period} is not 1..5"),
                ));
            }
            let st = shared.lock();
            shop_of_sunmi_no(&st, ep, params)?;
            Ok(ok(patrol_sample(path)))
        }
        "/service/audit/getVideoList" => {
            let st = shared.lock();
            // shop_id and sunmi_shop_no "can replace each other".
            if params.get("shop_id").is_some_and(|v| !v.is_empty()) {
                check_shop(&st, ep, params)?;
            } else if params.get("sunmi_shop_no").is_some_and(|v| !v.is_empty()) {
                shop_of_sunmi_no(&st, ep, params)?;
            } else {
                return Err(fail(
                    5022,
                    "invalid parameter: sunmi_shop_no or shop_id is required",
                ));
            }
            let start = int(ep, params, "start_time")?;
            let end = int(ep, params, "end_time")?;
            let (skip, take) = page(params)?;
            let videos: Vec<Value> = audit_videos()
                .into_iter()
                .filter(|v| {
                    let t = v["start_time"].as_i64().unwrap_or(0);
                    start.is_none_or(|s| t >= s) && end.is_none_or(|e| t < e)
                })
                .filter(|v| params.get("ipc_id").is_none_or(|i| v["ipc_id"] == *i))
                .collect();
            let total = videos.len();
            let list: Vec<Value> = videos.into_iter().skip(skip).take(take).collect();
            Ok(ok(
                json!({ "audit_video_list": list, "total_count": total }),
            ))
        }
        "/order/update" => {
            let orders = array(ep, params, "order_list")?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let mut invalid = Vec::new();
            for o in orders {
                let no = id_text(o.get("order_no"));
                if no.is_empty() || !o.is_object() {
                    invalid.push(json!(no));
                    continue;
                }
                st.orders.insert((shop.clone(), no), o);
            }
            Ok(ok(json!({ "invalid_list": invalid })))
        }
        "/hook/add" => {
            let callback = need(ep, params, "http_callback")?.to_owned();
            if !(callback.starts_with("http://") || callback.starts_with("https://")) {
                return Err(fail(
                    5022,
                    format!("invalid parameter: http_callback {callback:?} is not an http(s) URL"),
                ));
            }
            let events = event_list(ep, params)?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            for e in events {
                st.hooks.insert((shop.clone(), e), callback.clone());
            }
            Ok(ok(json!({})))
        }
        "/hook/delete" => {
            let events = event_list(ep, params)?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            for e in events {
                st.hooks.remove(&(shop.clone(), e));
            }
            Ok(ok(json!({})))
        }
        "/device/esl/setRefreshTime" => {
            int(ep, params, "refresh_time")?;
            need(ep, params, "refresh_time")?;
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            esl_by_id_or_code(&st, ep, &shop, params)?;
            Err(unavailable(path))
        }
        "/device/ap/setScanTime" => {
            need(ep, params, "ap_id")?;
            need(ep, params, "scan_time")?;
            int(ep, params, "scan_time")?;
            let st = shared.lock();
            check_shop(&st, ep, params)?;
            Err(unavailable(path))
        }
        "/device/ap/firmware/upgrade" | "/device/esl/firmware/upgrade" => {
            let st = shared.lock();
            check_shop(&st, ep, params)?;
            Err(unavailable(path))
        }
        "/device/ap/bind" => {
            let sn = need(ep, params, "ap_sn")?.to_owned();
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            if let Some(a) = st.aps.values().find(|a| a.ap_sn == sn) {
                return Err(fail(
                    5339,
                    format!("AP already bound to a shop ({})", a.shop_id),
                ));
            }
            let Some(model) = st.ap_stock.remove(&sn) else {
                return Err(fail(
                    5300,
                    format!("invalid AP: no AP with serial number {sn:?}"),
                ));
            };
            st.next_id += 1;
            let id = st.next_id.to_string();
            let name = params.get("ap_name").cloned().unwrap_or_default();
            st.aps.insert(
                id.clone(),
                ApSnapshot {
                    ap_id: id.clone(),
                    ap_sn: sn,
                    ap_name: name,
                    model_name: model,
                    shop_id: shop,
                    status: 1,
                    software_version: "1.0.1".to_owned(),
                    reboots: 0,
                },
            );
            Ok(ok(json!({ "ap_id": id })))
        }
        "/device/ap/unbind" | "/device/ap/updateName" => {
            let ap_id = need(ep, params, "ap_id")?.to_owned();
            let name = if path == "/device/ap/updateName" {
                Some(need(ep, params, "ap_name")?.to_owned())
            } else {
                None
            };
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            if st.aps.get(&ap_id).is_none_or(|a| a.shop_id != shop) {
                return Err(fail(
                    5300,
                    format!("invalid AP: no AP {ap_id:?} in shop {shop:?}"),
                ));
            }
            match name {
                Some(n) => {
                    if let Some(a) = st.aps.get_mut(&ap_id) {
                        a.ap_name = n;
                    }
                }
                None => {
                    if let Some(a) = st.aps.remove(&ap_id) {
                        st.ap_stock.insert(a.ap_sn, a.model_name);
                    }
                }
            }
            Ok(ok(json!({})))
        }
        "/device/ap/firmware/getList" | "/device/esl/firmware/getList" => {
            // Paging is "currently unavailable" in the seed: checked if given, then ignored.
            page(params)?;
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let mut latest: std::collections::BTreeMap<String, String> = Default::default();
            let mut note = |model: String, version: &str| {
                let e = latest.entry(model).or_default();
                if version_key(version) > version_key(e) {
                    *e = version.to_owned();
                }
            };
            if path.starts_with("/device/ap/") {
                for a in st.aps.values().filter(|a| a.shop_id == shop) {
                    note(a.model_name.clone(), &a.software_version);
                }
            } else {
                for e in st
                    .esls
                    .values()
                    .filter(|e| e.snap.shop_id.as_deref() == Some(shop.as_str()))
                {
                    note(e.snap.model.name().to_owned(), &e.software_version);
                }
            }
            let list: Vec<Value> = latest
                .into_iter()
                .map(|(m, v)| json!({ "model_name": m, "software_version": v }))
                .collect();
            // Seed 001 ESL §6.3.3 prints the ESL list under `ap_firmware_list` too: sent so.
            Ok(ok(
                json!({ "total_count": list.len(), "ap_firmware_list": list }),
            ))
        }
        "/template/create" => {
            let name = need(ep, params, "template_name")?.to_owned();
            let color = int(ep, params, "template_color")?;
            let screen = int(ep, params, "template_screen")?;
            let json_text = need(ep, params, "template_json")?.to_owned();
            let (Some(color), Some(screen)) = (color, screen) else {
                return Err(fail(
                    5022,
                    "invalid parameter: template_color and template_screen are required",
                ));
            };
            if !(1..=2).contains(&color) || !(1..=3).contains(&screen) {
                return Err(fail(
                    5343,
                    format!(
                        "invalid template: colour {color} / screen {screen} not in the seed's lists"
                    ),
                ));
            }
            if serde_json::from_str::<Value>(&json_text).is_err() {
                return Err(fail(5343, "invalid template: template_json is not JSON"));
            }
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            if st
                .templates
                .values()
                .any(|t| t.shop_id == shop && t.template_name == name)
            {
                return Err(fail(
                    5346,
                    format!("template name already exists: {name:?}"),
                ));
            }
            st.next_id += 1;
            let id = st.next_id.to_string();
            st.templates.insert(
                id.clone(),
                TemplateFixture {
                    template_id: id.clone(),
                    shop_id: shop,
                    template_name: name,
                    template_color: color,
                    template_screen: screen,
                    template_json: json_text,
                },
            );
            Ok(ok(json!({ "template_id": id })))
        }
        "/template/update" => {
            let id = need(ep, params, "template_id")?.to_owned();
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            template_in_shop(&st, &shop, &id)?;
            let name = params
                .get("template_name")
                .filter(|v| !v.is_empty())
                .cloned();
            if let Some(n) = &name {
                if st
                    .templates
                    .values()
                    .any(|t| t.shop_id == shop && t.template_name == *n && t.template_id != id)
                {
                    return Err(fail(5346, format!("template name already exists: {n:?}")));
                }
            }
            let json_text = params
                .get("template_json")
                .filter(|v| !v.is_empty())
                .cloned();
            if json_text
                .as_deref()
                .is_some_and(|j| serde_json::from_str::<Value>(j).is_err())
            {
                return Err(fail(5343, "invalid template: template_json is not JSON"));
            }
            if let Some(t) = st.templates.get_mut(&id) {
                if let Some(n) = name {
                    t.template_name = n;
                }
                if let Some(j) = json_text {
                    t.template_json = j;
                }
            }
            Ok(ok(json!({})))
        }
        "/template/getList" => {
            let (skip, take) = page(params)?;
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let all: Vec<&TemplateFixture> = st
                .templates
                .values()
                .filter(|t| t.shop_id == shop)
                .collect();
            let list: Vec<Value> = all
                .iter()
                .skip(skip)
                .take(take)
                .map(|t| {
                    json!({
                        "template_id": t.template_id, "template_name": t.template_name,
                        "template_color": t.template_color, "template_screen": t.template_screen,
                    })
                })
                .collect();
            Ok(ok(
                json!({ "total_count": all.len(), "template_list": list }),
            ))
        }
        "/template/getInfo" => {
            let id = need(ep, params, "template_id")?;
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let t = template_in_shop(&st, &shop, id)?;
            let screen_name = match t.template_screen {
                1 => "2.13",
                2 => "2.6",
                _ => "4.2",
            };
            Ok(ok(json!({
                "template_name": t.template_name,
                "template_color_name": if t.template_color == 1 { "BW" } else { "BWR" },
                "template_screen_type_name": screen_name,
                "template_json": t.template_json,
                "template_color": t.template_color,
                "template_screen": t.template_screen,
            })))
        }
        "/template/delete" => {
            let ids = array(ep, params, "template_id_list")?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            for id in ids {
                let id = id_text(Some(&id));
                if st.templates.get(&id).is_some_and(|t| t.shop_id == shop) {
                    st.templates.remove(&id);
                }
            }
            Ok(ok(json!({})))
        }
        "/product/bindEsl" => {
            let product = need(ep, params, "product_id")?.to_owned();
            let template = need(ep, params, "template_id")?.to_owned();
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            product_exists(&st, &shop, &product)?;
            template_in_shop(&st, &shop, &template)?;
            let esl = esl_by_id_or_code_any(&st, ep, &shop, params)?;
            st.bindings.insert(esl.clone(), (product, template));
            if let Some(e) = st.esls.get_mut(&esl) {
                e.snap.status = 2;
            }
            Ok(ok(json!({})))
        }
        "/product/unbindEsl" => {
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let esl = esl_by_id_or_code_any(&st, ep, &shop, params)?;
            if st.bindings.remove(&esl).is_none() {
                return Err(fail(
                    5320,
                    format!("ESL not bound: ESL {esl} shows no product"),
                ));
            }
            Ok(ok(json!({})))
        }
        "/product/getBindEslList" => {
            let product = need(ep, params, "product_id")?.to_owned();
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            product_exists(&st, &shop, &product)?;
            let list: Vec<Value> = st
                .bindings
                .iter()
                .filter(|(_, (p, _))| *p == product)
                .filter_map(|(esl, (_, t))| st.esls.get(esl).map(|e| (e, t)))
                .filter(|(e, _)| e.snap.shop_id.as_deref() == Some(shop.as_str()))
                .map(|(e, t)| {
                    json!({
                        "esl_id": e.snap.esl_id, "esl_code": e.snap.esl_code,
                        "template_id": t, "status": e.snap.status,
                    })
                })
                .collect();
            Ok(ok(json!({ "esl_list": list })))
        }
        "/product/updateTemplate" => {
            let product = need(ep, params, "product_id")?.to_owned();
            let template = need(ep, params, "template_id")?.to_owned();
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            product_exists(&st, &shop, &product)?;
            template_in_shop(&st, &shop, &template)?;
            for (_, (p, t)) in st.bindings.iter_mut() {
                if *p == product {
                    t.clone_from(&template);
                }
            }
            Ok(ok(json!({})))
        }
        "/product/getInfo" => {
            let product = need(ep, params, "product_id")?.to_owned();
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            match st.products.get(&(shop, product.clone())) {
                Some(p) => Ok(ok(Value::Object(p.clone()))),
                None => Err(fail(5015, format!("invalid product id {product:?}"))),
            }
        }
        "/product/getList" => {
            let (skip, take) = page(params)?;
            let keyword = params
                .get("keyword")
                .map(|k| k.trim().to_lowercase())
                .unwrap_or_default();
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let all: Vec<&Map<String, Value>> = st
                .products
                .iter()
                .filter(|((s, _), _)| *s == shop)
                .map(|(_, p)| p)
                .filter(|p| {
                    keyword.is_empty()
                        || ["name", "seq_num", "bar_code"].iter().any(|k| {
                            p.get(*k)
                                .and_then(Value::as_str)
                                .is_some_and(|v| v.to_lowercase().contains(&keyword))
                        })
                })
                .collect();
            let list: Vec<Value> = all
                .iter()
                .skip(skip)
                .take(take)
                .map(|p| {
                    let mut o = Map::new();
                    for k in [
                        "id",
                        "name",
                        "seq_num",
                        "bar_code",
                        "category_id",
                        "price",
                        "modified_time",
                    ] {
                        if let Some(v) = p.get(k) {
                            o.insert(k.to_owned(), v.clone());
                        }
                    }
                    Value::Object(o)
                })
                .collect();
            Ok(ok(
                json!({ "total_count": all.len(), "product_list": list }),
            ))
        }
        "/product/create" | "/product/update" => {
            let creating = path == "/product/create";
            let items = array(ep, params, "product_list")?;
            let now = shared.now();
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let (mut exist, mut not_exist, mut invalid) = (Vec::new(), Vec::new(), Vec::new());
            for item in items {
                let Value::Object(mut p) = item else {
                    invalid.push(json!(""));
                    continue;
                };
                let id = id_text(p.get("id"));
                if !product_valid(&p, creating) {
                    invalid.push(json!(id));
                    continue;
                }
                let key = (shop.clone(), id.clone());
                p.insert("id".into(), json!(id));
                p.insert("modified_time".into(), json!(now));
                match (creating, st.products.get_mut(&key)) {
                    (true, Some(_)) => exist.push(json!(id)),
                    (true, None) => {
                        st.products.insert(key, p);
                    }
                    // Update changes only existing products (Product APIs §3.2.3; see the
                    // README's seed decisions on §6.2.2).
                    (false, None) => not_exist.push(json!(id)),
                    (false, Some(old)) => {
                        for (k, v) in p {
                            old.insert(k, v);
                        }
                    }
                }
            }
            if creating {
                Ok(ok(json!({ "exist_list": exist, "invalid_list": invalid })))
            } else {
                Ok(ok(
                    json!({ "not_exist_list": not_exist, "invalid_list": invalid }),
                ))
            }
        }
        "/product/delete" => {
            let ids = array(ep, params, "product_key_list")?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let mut not_exist = Vec::new();
            for id in ids {
                let id = id_text(Some(&id));
                if st.products.remove(&(shop.clone(), id.clone())).is_none() {
                    not_exist.push(json!(id));
                } else {
                    st.bindings.retain(|_, (p, _)| *p != id);
                }
            }
            Ok(ok(json!({ "not_exist_list": not_exist })))
        }
        "/shop/bind" => {
            let shop_id = need(ep, params, "shop_id")?.to_owned();
            for key in [
                "shop_name",
                "sunmi_shop_no",
                "sunmi_shop_key",
                "company_id",
                "company_name",
                "contact_person",
                "phone",
            ] {
                need(ep, params, key)?;
            }
            shop_ints(ep, params)?;
            let no = need(ep, params, "sunmi_shop_no")?.to_owned();
            let key = need(ep, params, "sunmi_shop_key")?.to_owned();
            let mut st = shared.lock();
            if st.shops.contains_key(&shop_id) {
                return Err(fail(5042, format!("shop already mapped: {shop_id:?}")));
            }
            match st.sunmi_shops.get(&no) {
                None => {
                    return Err(fail(
                        5032,
                        format!("invalid shop_id: unknown sunmi_shop_no {no:?}"),
                    ));
                }
                Some((_, Some(other))) => {
                    return Err(fail(
                        5042,
                        format!("shop already mapped: {no} is mapped to {other}"),
                    ));
                }
                Some((k, None)) if *k != key => return Err(fail(5043, "API key error")),
                Some(_) => {}
            }
            st.sunmi_shops.insert(no, (key, Some(shop_id.clone())));
            let name = params.get("shop_name").cloned().unwrap_or_default();
            st.shops.insert(shop_id.clone(), name);
            let details: Params = params
                .iter()
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "app_id" | "random" | "timestamp" | "sign" | "sunmi_shop_key"
                    )
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            st.shop_details.insert(shop_id, details);
            Ok(ok(json!({})))
        }
        "/shop/unbind" => {
            let shop_id = need(ep, params, "shop_id")?.to_owned();
            let mut st = shared.lock();
            if st.shops.remove(&shop_id).is_none() {
                return Err(fail(
                    5032,
                    format!("invalid shop_id: {shop_id:?} is not mapped"),
                ));
            }
            st.shop_details.remove(&shop_id);
            for (_, mapped) in st.sunmi_shops.values_mut() {
                if mapped.as_deref() == Some(shop_id.as_str()) {
                    *mapped = None;
                }
            }
            Ok(ok(json!({})))
        }
        "/shop/update" => {
            let shop_id = need(ep, params, "shop_id")?.to_owned();
            need(ep, params, "shop_name")?;
            need(ep, params, "company_name")?;
            shop_ints(ep, params)?;
            let mut st = shared.lock();
            if !st.shops.contains_key(&shop_id) {
                return Err(fail(
                    5032,
                    format!("invalid shop_id: {shop_id:?} is not mapped"),
                ));
            }
            let name = params.get("shop_name").cloned().unwrap_or_default();
            st.shops.insert(shop_id.clone(), name);
            let d = st.shop_details.entry(shop_id).or_default();
            // "Currently the contact name and contact phone cannot be changed": not taken.
            for (k, v) in params {
                if !matches!(
                    k.as_str(),
                    "app_id"
                        | "random"
                        | "timestamp"
                        | "sign"
                        | "shop_id"
                        | "contact_person"
                        | "phone"
                ) {
                    d.insert(k.clone(), v.clone());
                }
            }
            Ok(ok(json!({})))
        }
        other => Err(fail(5022, format!("{other} is not served"))),
    }
}

/// Like `esl_by_id_or_code`, but an ESL bound to another shop is 5336/5338, not 5301.
fn esl_by_id_or_code_any(
    st: &State,
    ep: Endpoint,
    shop: &str,
    params: &Params,
) -> Result<String, Reply> {
    let id = params.get("esl_id").filter(|v| !v.trim().is_empty());
    let code = params.get("esl_code").filter(|v| !v.trim().is_empty());
    let found = st.esls.values().find(|e| {
        id.is_some_and(|i| *i == e.snap.esl_id)
            || (id.is_none() && code.is_some_and(|c| *c == e.snap.esl_code))
    });
    match found {
        Some(e) if e.snap.shop_id.as_deref() == Some(shop) => Ok(e.snap.esl_id.clone()),
        Some(e) if e.snap.shop_id.is_some() => {
            let code = if ep.path() == "/product/bindEsl" {
                5338
            } else {
                5336
            };
            Err(fail(
                code,
                format!("ESL {} is bound to another shop", e.snap.esl_id),
            ))
        }
        _ => esl_by_id_or_code(st, ep, shop, params),
    }
}

fn shop_ints(ep: Endpoint, params: &Params) -> Result<(), Reply> {
    for key in ["industry_id", "format", "status"] {
        int(ep, params, key)?;
    }
    if let Some(f) = int(ep, params, "format")? {
        if !(0..=2).contains(&f) {
            return Err(fail(
                5022,
                format!("invalid parameter: format {f} is not 0, 1 or 2"),
            ));
        }
    }
    if let Some(s) = int(ep, params, "status")? {
        if !(1..=2).contains(&s) {
            return Err(fail(
                5022,
                format!("invalid parameter: status {s} is not 1 or 2"),
            ));
        }
    }
    Ok(())
}

fn event_list(ep: Endpoint, params: &Params) -> Result<Vec<i64>, Reply> {
    array(ep, params, "event_list")?
        .into_iter()
        .map(|v| {
            v.as_i64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
                .ok_or_else(|| {
                    fail(
                        5022,
                        format!("invalid parameter: event {v} is not an integer"),
                    )
                })
        })
        .collect()
}

/// Dotted versions compare by their numbers (`1.0.10` > `1.0.9`).
fn version_key(v: &str) -> Vec<u64> {
    v.split('.').map(|p| p.parse().unwrap_or(0)).collect()
}

/// The seed's own samples (seed 000, 巡店 §3.3.1–§3.3.4), served for every known shop number.
fn patrol_sample(path: &str) -> Value {
    match path {
        "/service/patrol/stat/groupByInspector" => json!({ "patrol_inspector_summary_list": [{
            "inspection_user_name": "小明", "plan_task_undone_count": 0, "plan_task_done_count": 7,
            "plan_task_doing_count": 0, "plan_task_total_count": 28, "check_total_count": 349,
            "check_done_count": 2, "total_time_duration": 295645, "task_normal_count": 7,
            "task_non_count": 1602, "task_total_count": 1609, "task_realtime_count": 699,
            "task_snapshot_count": 523, "task_evaluate_count": 40, "last_inspection_time": 1600867095
        }]}),
        "/service/patrol/stat/groupByShop" => json!({ "patrol_shop_summary_list": [{
            "check_total_count": 0, "scoreless_total_count": 0, "avg_score": 5.58,
            "rectify_count": 438, "rectify_done_count": 398, "realtime_need_count": 393,
            "realtime_total_count": 777, "snapshot_problem_count": 286, "snapshot_total_count": 645,
            "evaluate_need_count": 45, "evaluate_total_count": 126
        }]}),
        "/service/patrol/stat/groupByTemplate" => json!({ "patrol_template_summary_list": [{
            "template_id": "549755813846", "template_name": "你好世界", "total_score": 3925,
            "total_full_score": 5240, "total_count": 126
        }]}),
        _ => json!({ "patrol_check_item_summary_list": [
            { "template_id": "549755813846", "check_item_name": "调料归类正确", "check_score_count": 3, "check_total_count": 5 },
            { "template_id": "549755813846", "check_item_name": "食材未过期", "check_score_count": 5, "check_total_count": 5 }
        ]}),
    }
}

/// Two videos after the seed's sample (seed 000, 收银审计 §3.3.1).
fn audit_videos() -> Vec<Value> {
    vec![
        json!({
            "order_id": "B12019060414421630291", "video_id": "549755813351",
            "video_url": "http://test.cdn.sunmi.com/VIDEO/abcdefgh.flv",
            "snapshot_url": "http://test.cdn.sunmi.com/VIDEO/abcdefgh.jpg",
            "purchase_time": 1565235765, "start_time": 1565235760, "end_time": 1565235770,
            "amount": 30.12, "ipc_id": "549755811465", "ipc_sn": "SS101D8BS09178"
        }),
        json!({
            "order_id": "B12019060414421630292", "video_id": "549755813352",
            "video_url": "http://test.cdn.sunmi.com/VIDEO/ijklmnop.flv",
            "snapshot_url": "http://test.cdn.sunmi.com/VIDEO/ijklmnop.jpg",
            "purchase_time": 1565239365, "start_time": 1565239360, "end_time": 1565239370,
            "amount": 8.5, "ipc_id": "549755811466", "ipc_sn": "SS101D8BS09179"
        }),
    ]
}
