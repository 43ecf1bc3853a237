//! The renderer: walks a template's layout for a product and draws it.

use std::sync::Arc;

use esl_model::{Ink, Model, Product};

use crate::bind::{self, BindFailure};
use crate::codes;
use crate::error::{RenderError, Warning};
use crate::fonts::FontBook;
use crate::loader::Template;
use crate::panel::PanelImage;
use crate::raster::{Canvas, Rect};
use crate::template::{
    BarcodeElement, Condition, Element, FontList, HAlign, ImageElement, OnError, PriceElement,
    QrElement, SmallPosition, TextElement, VAlign,
};
use crate::text::{self, Chain, TextBox};

/// Options of a [`Renderer`].
#[derive(Clone, Debug, Default)]
pub struct RenderOptions {
    /// Treat every [`Warning`] as an error.
    pub strict: bool,
}

/// A rendered label and what is worth knowing about it.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// The label.
    pub image: PanelImage,
    /// Characters no font had, text cut to fit, …
    pub warnings: Vec<Warning>,
}

/// Renders templates with one font book. Cheap to clone, `Send + Sync`: share one across
/// threads and render from all of them.
///
/// ```
/// # #[cfg(feature = "embedded-fonts")] {
/// use esl_model::{Model, Product};
/// use esl_render::{Renderer, Template};
///
/// let template = Template::from_json(br#"{
///     "version": 1, "models": ["SL121", "SL126+"],
///     "elements": [
///         {"type": "text", "box": {"x": 4, "y": 4, "w": 200, "h": 24}, "field": "name", "size": 20},
///         {"type": "price", "box": {"x": 4, "y": 40, "w": 200, "h": 60}, "field": "price",
///          "currency": "$", "size": 48, "align": "right", "color": "red"}
///     ]}"#, "example", None)?;
/// let renderer = Renderer::bundled();
/// let product = Product::new().with("name", "Coffee beans 500 g").with("price", "12.99");
/// let label = renderer.render(&template, &product, Model::Sl121)?;
/// assert_eq!((label.image.width(), label.image.height()), (212, 104));
/// let png: Vec<u8> = label.image.to_png(1)?;
/// # }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Debug)]
pub struct Renderer {
    fonts: Arc<FontBook>,
    options: RenderOptions,
}

impl Renderer {
    /// A renderer with a font book and options.
    #[must_use]
    pub fn new(fonts: FontBook, options: RenderOptions) -> Renderer {
        Renderer {
            fonts: Arc::new(fonts),
            options,
        }
    }

    /// A renderer with the bundled fonts and default options.
    #[cfg(feature = "embedded-fonts")]
    #[must_use]
    pub fn bundled() -> Renderer {
        Renderer::new(FontBook::bundled(), RenderOptions::default())
    }

    /// The font book.
    #[must_use]
    pub fn fonts(&self) -> &FontBook {
        &self.fonts
    }

    /// Renders `product` with `template` for `model`.
    ///
    /// # Errors
    /// [`RenderError::UnsupportedModel`] when the template does not serve the model; a
    /// missing field without fallback, a value that is not a number where one is needed,
    /// an unknown font, a price too wide for its box even at `min_size`; in strict mode,
    /// any warning.
    pub fn render(
        &self,
        template: &Template,
        product: &Product,
        model: Model,
    ) -> Result<Rendered, RenderError> {
        let Some(layout) = template.layout(model) else {
            return Err(RenderError::UnsupportedModel {
                template: template.name.clone(),
                model,
                supported: template
                    .models()
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        };
        let (pw, ph) = model.size();
        let turns = layout.rotation.quarter_turns();
        let (dw, dh) = if turns % 2 == 1 { (ph, pw) } else { (pw, ph) };
        let mut cx = Ctx {
            r: self,
            template,
            product,
            model,
            canvas: Canvas::new(dw, dh, model.palette(), template.spec.background.into()),
            warnings: Vec::new(),
        };
        let full = cx.canvas.bounds();
        cx.elements(layout.elements, &layout.path, 0, 0, full)?;
        let Ctx {
            canvas, warnings, ..
        } = cx;
        if self.options.strict {
            if let Some(w) = warnings.first() {
                return Err(RenderError::Strict {
                    template: template.name.clone(),
                    warning: w.clone(),
                });
            }
        }
        let canvas = canvas.rotated(turns);
        Ok(Rendered {
            image: PanelImage::new(model, canvas.width, canvas.height, canvas.pixels),
            warnings,
        })
    }
}

/// Where a code element's value comes from and what it does on failure.
struct CodeBinding<'a> {
    field: Option<&'a String>,
    literal: Option<&'a String>,
    fallback: Option<&'a String>,
    on_error: OnError,
    error_text: Option<&'a String>,
}

struct Ctx<'a> {
    r: &'a Renderer,
    template: &'a Template,
    product: &'a Product,
    model: Model,
    canvas: Canvas,
    warnings: Vec<Warning>,
}

impl Ctx<'_> {
    fn fail(&self, path: &str, f: BindFailure) -> RenderError {
        let template = self.template.name.clone();
        let element = path.to_owned();
        match f {
            BindFailure::Missing(field) => RenderError::MissingField {
                template,
                element,
                field,
            },
            BindFailure::Value(source) => RenderError::BadValue {
                template,
                element,
                source,
            },
            BindFailure::Condition(message) => RenderError::BadCondition {
                template,
                element,
                message,
            },
        }
    }

    fn shown(&self, when: Option<&Condition>, path: &str) -> Result<bool, RenderError> {
        match when {
            None => Ok(true),
            Some(c) => bind::eval(c, self.product, self.model).map_err(|f| self.fail(path, f)),
        }
    }

    fn chain(&self, fonts: &FontList, path: &str) -> Result<Chain, RenderError> {
        let book = self.r.fonts();
        let mut chain = Vec::new();
        for name in fonts
            .names()
            .iter()
            .chain(&self.template.spec.fallback_fonts)
        {
            match book.index_of(name) {
                Some(i) => chain.push(i),
                None => {
                    return Err(RenderError::UnknownFont {
                        template: self.template.name.clone(),
                        element: path.to_owned(),
                        font: name.clone(),
                        known: book.known(),
                    });
                }
            }
        }
        for &i in book.fallback() {
            if !chain.contains(&i) {
                chain.push(i);
            }
        }
        Ok(Chain(chain))
    }

    fn report_missing(&mut self, path: &str, missing: &[char]) {
        for &ch in missing {
            self.warnings.push(Warning::MissingGlyph {
                element: path.to_owned(),
                ch,
                code: ch as u32,
            });
        }
    }

    fn elements(
        &mut self,
        elements: &[Element],
        path: &str,
        ox: i32,
        oy: i32,
        clip: Rect,
    ) -> Result<(), RenderError> {
        for (i, el) in elements.iter().enumerate() {
            let p = format!("{path}[{i}]");
            self.element(el, &p, ox, oy, clip)?;
        }
        Ok(())
    }

    fn element(
        &mut self,
        el: &Element,
        path: &str,
        ox: i32,
        oy: i32,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let abs = |b: &crate::template::BoxSpec| {
            Rect::new(ox.saturating_add(b.x), oy.saturating_add(b.y), b.w, b.h)
        };
        match el {
            Element::Text(t) => {
                if self.shown(t.when.as_ref(), path)? {
                    self.text(t, abs(&t.bounds), path, clip)?;
                }
            }
            Element::Price(t) => {
                if self.shown(t.when.as_ref(), path)? {
                    self.price(t, abs(&t.bounds), path, clip)?;
                }
            }
            Element::Rect(r) => {
                if self.shown(r.when.as_ref(), path)? {
                    self.canvas.rounded_rect(
                        abs(&r.bounds),
                        r.radius,
                        r.fill.map(Ink::from),
                        r.outline.map(|c| (Ink::from(c), r.stroke)),
                        clip,
                    );
                }
            }
            Element::Ellipse(e) => {
                if self.shown(e.when.as_ref(), path)? {
                    self.canvas.ellipse(
                        abs(&e.bounds),
                        e.fill.map(Ink::from),
                        e.outline.map(|c| (Ink::from(c), e.stroke)),
                        clip,
                    );
                }
            }
            Element::Line(l) => {
                if self.shown(l.when.as_ref(), path)? {
                    let from = (ox.saturating_add(l.from.x), oy.saturating_add(l.from.y));
                    let to = (ox.saturating_add(l.to.x), oy.saturating_add(l.to.y));
                    self.canvas.line(from, to, l.width, l.color.into(), clip);
                }
            }
            Element::Image(img) => {
                if self.shown(img.when.as_ref(), path)? {
                    self.image(img, abs(&img.bounds), clip);
                }
            }
            Element::Barcode(b) => {
                if self.shown(b.when.as_ref(), path)? {
                    self.barcode(b, abs(&b.bounds), path, clip)?;
                }
            }
            Element::Qrcode(q) => {
                if self.shown(q.when.as_ref(), path)? {
                    self.qrcode(q, abs(&q.bounds), path, clip)?;
                }
            }
            Element::Group(g) => {
                if self.shown(g.when.as_ref(), path)? {
                    let b = abs(&g.bounds);
                    let inner = clip.intersect(b);
                    if let Some(bg) = g.background {
                        self.canvas.fill_rect(b, bg.into(), inner);
                    }
                    self.elements(&g.elements, &format!("{path}.elements"), b.x0, b.y0, inner)?;
                }
            }
        }
        Ok(())
    }

    fn text(
        &mut self,
        t: &TextElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let value = match (&t.field, &t.text) {
            (Some(field), _) => {
                match bind::format_field(
                    self.product,
                    field,
                    t.format.as_ref(),
                    self.template.spec.utc_offset,
                )
                .map_err(|f| self.fail(path, f))?
                {
                    Some(v) => bind::decorate(&v, t.case, &t.prefix, &t.suffix),
                    None => match &t.fallback {
                        Some(fb) => fb.clone(),
                        None => return Err(self.fail(path, BindFailure::Missing(field.clone()))),
                    },
                }
            }
            (None, Some(literal)) => match bind::interpolate(literal, self.product) {
                Ok(v) => bind::decorate(&v, t.case, &t.prefix, &t.suffix),
                Err(BindFailure::Missing(field)) => match &t.fallback {
                    Some(fb) => fb.clone(),
                    None => return Err(self.fail(path, BindFailure::Missing(field))),
                },
                Err(other) => return Err(self.fail(path, other)),
            },
            (None, None) => String::new(),
        };
        if value.is_empty() {
            return Ok(());
        }
        let clip = clip.intersect(bounds);
        if let Some(bg) = t.background {
            self.canvas.fill_rect(bounds, bg.into(), clip);
        }
        let chain = self.chain(&t.font, path)?;
        let tb = TextBox {
            bounds,
            chain: &chain,
            size: t.size,
            min_size: t.min_size.unwrap_or(t.size),
            max_lines: t.max_lines,
            line_spacing: t.line_spacing,
            align: t.align,
            valign: t.valign,
        };
        let layout = text::layout(self.r.fonts(), &tb, &value);
        self.report_missing(path, &layout.missing);
        if let Some(shown) = &layout.truncated {
            self.warnings.push(Warning::Truncated {
                element: path.to_owned(),
                size: layout.size,
                shown: shown.clone(),
            });
        }
        text::draw_layout(
            &mut self.canvas,
            self.r.fonts(),
            &layout,
            t.color.into(),
            t.strike,
            clip,
        );
        Ok(())
    }

    fn price(
        &mut self,
        t: &PriceElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let amount = self
            .product
            .amount(&t.field)
            .map_err(|e| self.fail(path, e.into()))?;
        let Some(amount) = amount else {
            return match &t.fallback {
                None => Err(self.fail(path, BindFailure::Missing(t.field.clone()))),
                Some(fb) if fb.is_empty() => Ok(()),
                Some(fb) => {
                    let as_text = TextElement {
                        id: t.id.clone(),
                        when: None,
                        bounds: t.bounds,
                        field: None,
                        text: Some(fb.clone()),
                        format: None,
                        prefix: String::new(),
                        suffix: String::new(),
                        case: crate::template::Case::None,
                        fallback: None,
                        font: t.font.clone(),
                        size: t.small_size.unwrap_or(t.size / 2).max(1),
                        min_size: Some(
                            t.min_size
                                .unwrap_or(t.size)
                                .min(t.small_size.unwrap_or(t.size / 2))
                                .max(1),
                        ),
                        max_lines: 2,
                        line_spacing: 1.15,
                        align: t.align,
                        valign: t.valign,
                        color: t.color,
                        background: t.background,
                        strike: false,
                    };
                    self.text(&as_text, bounds, path, clip)
                }
            };
        };
        let parts = bind::money_parts(amount, t.decimals, &t.thousands_separator);
        let chain = self.chain(&t.font, path)?;
        let book = self.r.fonts();
        let small_of = |size: u32| -> u32 {
            let ratio = t.small_size.map_or(0.5, |s| s as f32 / t.size as f32);
            ((size as f32 * ratio).round() as u32).max(1)
        };
        let small_text = if parts.fraction.is_empty() {
            String::new()
        } else {
            format!("{}{}", t.decimal_separator, parts.fraction)
        };
        let min = t.min_size.unwrap_or(t.size);
        let mut missing = Vec::new();
        let mut chosen = None;
        for size in (min..=t.size).rev() {
            let small = small_of(size);
            let cur = text::run(book, &chain, &t.currency, small, &mut missing);
            let int = text::run(book, &chain, &parts.integer, size, &mut missing);
            let frac = text::run(book, &chain, &small_text, small, &mut missing);
            let gap = if t.currency.is_empty() {
                0.0
            } else {
                (small as f32 * 0.1).round()
            };
            let width = cur.width + gap + int.width + frac.width;
            let (digit_h, below) = text::digit_extent(book, &chain, size);
            if width.round() as i32 <= bounds.width() && digit_h + below <= bounds.height() {
                chosen = Some((size, small, cur, int, frac, gap, width, digit_h, below));
                break;
            }
        }
        self.report_missing(path, &missing);
        let Some((size, small, cur, int, frac, gap, width, digit_h, below)) = chosen else {
            return Err(RenderError::PriceOverflow {
                template: self.template.name.clone(),
                element: path.to_owned(),
                price: format!("{}{}{}", t.currency, parts.integer, small_text),
                width: bounds.width() as u32,
                min_size: min,
            });
        };
        let clip = clip.intersect(bounds);
        if let Some(bg) = t.background {
            self.canvas.fill_rect(bounds, bg.into(), clip);
        }
        let w = width.round() as i32;
        let x0 = match t.align {
            HAlign::Left => bounds.x0,
            HAlign::Center => bounds.x0 + (bounds.width() - w).div_euclid(2),
            HAlign::Right => bounds.x1 - w,
        };
        let baseline = match t.valign {
            VAlign::Top => bounds.y0 + digit_h,
            VAlign::Middle => bounds.y0 + (bounds.height() + digit_h - below).div_euclid(2),
            VAlign::Bottom => bounds.y1 - below,
        };
        let small_baseline = match t.small_position {
            SmallPosition::Top => baseline - digit_h + text::digit_extent(book, &chain, small).0,
            SmallPosition::Baseline => baseline,
        };
        let ink: Ink = t.color.into();
        let mut pen = x0 as f32;
        let draw = |canvas: &mut Canvas, line: &text::Line, size: u32, base: i32, pen: &mut f32| {
            for g in &line.glyphs {
                let gx = (*pen + g.x).round() as i32;
                text::draw_glyph(canvas, book.face(g.face), g.id, size, (gx, base), ink, clip);
            }
            *pen += line.width;
        };
        if !t.currency_after {
            draw(&mut self.canvas, &cur, small, small_baseline, &mut pen);
            pen += gap;
        }
        draw(&mut self.canvas, &int, size, baseline, &mut pen);
        draw(&mut self.canvas, &frac, small, small_baseline, &mut pen);
        if t.currency_after {
            pen += gap;
            draw(&mut self.canvas, &cur, small, small_baseline, &mut pen);
        }
        if t.strike {
            let th = text::strike_thickness(size);
            let y = baseline - digit_h / 2 - th / 2;
            self.canvas
                .fill_rect(Rect::new(x0 - 1, y, (w + 2) as u32, th as u32), ink, clip);
        }
        Ok(())
    }

    /// The value of a code element: its field, or its literal with placeholders filled.
    /// `Ok(Err(text))` when the field is missing and the fallback `text` is to be drawn
    /// instead (an empty fallback draws nothing).
    fn code_value(
        &self,
        c: &CodeBinding<'_>,
        path: &str,
    ) -> Result<Result<String, String>, RenderError> {
        let missing = |f: String| match c.fallback {
            Some(fb) => Ok(Err(fb.clone())),
            None => Err(self.fail(path, BindFailure::Missing(f))),
        };
        match (c.field, c.literal) {
            (Some(f), _) => match bind::format_field(self.product, f, None, 0)
                .map_err(|e| self.fail(path, e))?
            {
                Some(v) => Ok(Ok(v.trim().to_owned())),
                None => missing(f.clone()),
            },
            (None, Some(lit)) => match bind::interpolate(lit, self.product) {
                Ok(v) => Ok(Ok(v)),
                Err(BindFailure::Missing(f)) => missing(f),
                Err(other) => Err(self.fail(path, other)),
            },
            (None, None) => Ok(Ok(String::new())),
        }
    }

    /// Draws a code element: resolves its value, lets `draw` encode and draw it, and applies
    /// the element's `on_error` policy when `draw` reports why it could not.
    fn code(
        &mut self,
        c: &CodeBinding<'_>,
        bounds: Rect,
        path: &str,
        clip: Rect,
        draw: impl FnOnce(&mut Self, &str) -> Result<Result<(), String>, RenderError>,
    ) -> Result<(), RenderError> {
        let value = match self.code_value(c, path)? {
            Ok(v) => v,
            Err(fallback) => return self.plain_text(&fallback, bounds, path, clip),
        };
        let Err(reason) = draw(self, &value)? else {
            return Ok(());
        };
        if c.on_error == OnError::Fail {
            return Err(RenderError::Code {
                template: self.template.name.clone(),
                element: path.to_owned(),
                field: c.field.cloned(),
                value,
                reason,
            });
        }
        self.warnings.push(Warning::CodeNotDrawn {
            element: path.to_owned(),
            value: value.clone(),
            reason,
        });
        if c.on_error == OnError::Text {
            let shown = c.error_text.cloned().unwrap_or(value);
            self.plain_text(&shown, bounds, path, clip)?;
        }
        Ok(())
    }

    /// Draws `text` fitted into `bounds` with the bundled sans font (for code fallbacks).
    fn plain_text(
        &mut self,
        text: &str,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        if text.is_empty() {
            return Ok(());
        }
        let chain = self.chain(&FontList::One("sans".to_owned()), path)?;
        let size = (bounds.height().clamp(1, 16)) as u32;
        let tb = TextBox {
            bounds,
            chain: &chain,
            size,
            min_size: size.min(8),
            max_lines: 2,
            line_spacing: 1.1,
            align: HAlign::Center,
            valign: VAlign::Middle,
        };
        let layout = text::layout(self.r.fonts(), &tb, text);
        self.report_missing(path, &layout.missing);
        text::draw_layout(
            &mut self.canvas,
            self.r.fonts(),
            &layout,
            Ink::Black,
            false,
            clip.intersect(bounds),
        );
        Ok(())
    }

    fn barcode(
        &mut self,
        b: &BarcodeElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let binding = CodeBinding {
            field: b.field.as_ref(),
            literal: b.value.as_ref(),
            fallback: b.fallback.as_ref(),
            on_error: b.on_error,
            error_text: b.error_text.as_ref(),
        };
        self.code(&binding, bounds, path, clip, |me, value| {
            me.draw_barcode(b, value, bounds, path, clip)
        })
    }

    /// Encodes and draws; `Ok(Err(reason))` when the value cannot be encoded or the code
    /// does not fit.
    fn draw_barcode(
        &mut self,
        b: &BarcodeElement,
        value: &str,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<Result<(), String>, RenderError> {
        let code = match codes::encode_linear(b.symbology, value) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e.0)),
        };
        let total = code.quiet.0 + code.modules.len() as u32 + code.quiet.1;
        let m = bounds.width() as u32 / total;
        if m == 0 {
            return Ok(Err(format!(
                "needs {total} px of width at 1 px per module (quiet zones included); the box is {} px",
                bounds.width()
            )));
        }
        let width = (total * m) as i32;
        let x0 = match b.align {
            HAlign::Left => bounds.x0,
            HAlign::Center => bounds.x0 + (bounds.width() - width).div_euclid(2),
            HAlign::Right => bounds.x1 - width,
        };
        let bars_x = x0 + (code.quiet.0 * m) as i32;
        // Human-readable digits: the largest size at which every group fits its modules.
        let chain = self.chain(&b.font, path)?;
        let book = self.r.fonts();
        let mut text_size = 0u32;
        if b.human_readable {
            let max = b
                .text_size
                .unwrap_or_else(|| (bounds.height() as u32 / 4).clamp(6, 8 * m + 4));
            let mut missing = Vec::new();
            for size in (6..=max.max(6)).rev() {
                let fits = code.text.iter().all(|g| {
                    let w = text::run(book, &chain, &g.text, size, &mut missing).width;
                    w <= ((g.to - g.from) as u32 * m) as f32 + m as f32
                });
                if fits {
                    text_size = size;
                    break;
                }
            }
            if text_size == 0 {
                return Ok(Err("the box is too narrow for the human-readable digits; widen it or set human_readable to false".to_owned()));
            }
        }
        let text_band = if text_size > 0 {
            text_size as i32 + 1
        } else {
            0
        };
        let bar_h = bounds.height() - text_band;
        if bar_h < 8 {
            return Ok(Err(format!(
                "the box is {} px high: too low for bars of at least 8 px and the digits",
                bounds.height()
            )));
        }
        let clip = clip.intersect(bounds);
        self.canvas.fill_rect(
            Rect::new(x0, bounds.y0, width as u32, bounds.height() as u32),
            Ink::White,
            clip,
        );
        let guard_h = bar_h + text_band / 2;
        for (i, (&bar, &guard)) in code.modules.iter().zip(&code.guards).enumerate() {
            if bar {
                let h = if guard && text_size > 0 {
                    guard_h
                } else {
                    bar_h
                };
                self.canvas.fill_rect(
                    Rect::new(bars_x + (i as u32 * m) as i32, bounds.y0, m, h as u32),
                    Ink::Black,
                    clip,
                );
            }
        }
        if text_size > 0 {
            let mut missing = Vec::new();
            for g in &code.text {
                let line = text::run(book, &chain, &g.text, text_size, &mut missing);
                let centre = bars_x * 2 + (g.from + g.to) * m as i32;
                let x = (centre - line.width.round() as i32).div_euclid(2);
                let baseline = bounds.y1 - (text_size as f32 * 0.22).round() as i32;
                for gl in &line.glyphs {
                    let gx = x + gl.x.round() as i32;
                    text::draw_glyph(
                        &mut self.canvas,
                        book.face(gl.face),
                        gl.id,
                        text_size,
                        (gx, baseline),
                        Ink::Black,
                        clip,
                    );
                }
            }
            self.report_missing(path, &missing);
        }
        Ok(Ok(()))
    }

    fn qrcode(
        &mut self,
        q: &QrElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let binding = CodeBinding {
            field: q.field.as_ref(),
            literal: q.value.as_ref(),
            fallback: q.fallback.as_ref(),
            on_error: q.on_error,
            error_text: q.error_text.as_ref(),
        };
        self.code(&binding, bounds, path, clip, |me, value| {
            me.draw_qrcode(q, value, bounds, path, clip)
        })
    }

    /// Encodes and draws; `Ok(Err(reason))` when the value cannot be encoded or the code
    /// does not fit.
    fn draw_qrcode(
        &mut self,
        q: &QrElement,
        value: &str,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<Result<(), String>, RenderError> {
        let code = match codes::encode_qr(value, q.ec_level) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e.0)),
        };
        let total = code.width + 2 * q.quiet_zone;
        let side = bounds.width().min(bounds.height()) as u32;
        let m = side / total;
        let min_m = if q.allow_1px { 1 } else { 2 };
        if m < min_m {
            return Ok(Err(if m == 0 {
                format!(
                    "a {w}×{w}-module code with its quiet zone needs {total} px at 1 px per module; the box gives {side} px",
                    w = code.width
                )
            } else {
                format!(
                    "modules would be 1 px, which does not scan reliably: {} px are needed for 2 px modules (or set allow_1px)",
                    total * 2
                )
            }));
        }
        if q.quiet_zone < 4 {
            self.warnings.push(Warning::NarrowQuietZone {
                element: path.to_owned(),
                modules: q.quiet_zone,
            });
        }
        let size = (total * m) as i32;
        let x0 = bounds.x0 + (bounds.width() - size).div_euclid(2);
        let y0 = bounds.y0 + (bounds.height() - size).div_euclid(2);
        let clip = clip.intersect(bounds);
        self.canvas.fill_rect(
            Rect::new(x0, y0, size as u32, size as u32),
            Ink::White,
            clip,
        );
        let origin = (q.quiet_zone * m) as i32;
        for (i, &dark) in code.dark.iter().enumerate() {
            if dark {
                let (cx, cy) = (i as u32 % code.width, i as u32 / code.width);
                self.canvas.fill_rect(
                    Rect::new(
                        x0 + origin + (cx * m) as i32,
                        y0 + origin + (cy * m) as i32,
                        m,
                        m,
                    ),
                    Ink::Black,
                    clip,
                );
            }
        }
        Ok(Ok(()))
    }

    fn image(&mut self, img: &ImageElement, bounds: Rect, clip: Rect) {
        let Some(src) = img.decoded.and_then(|i| self.template.images.get(i)) else {
            return;
        };
        let clip = clip.intersect(bounds);
        let opts = img.quantise_options();
        // The picture is fitted to its box and quantised as a whole (dithered, or by plain
        // threshold), and every pixel it covers at least half opaquely is drawn, white
        // included; the margins of `contain` and transparent areas keep what is below.
        let bw = bounds.width().max(1) as u32;
        let fitted =
            crate::quantise::resize_to_fit(src, bw, bounds.height().max(1) as u32, img.fit);
        let inks = crate::quantise::quantise(&fitted, self.canvas.palette, &opts);
        for ((px, &ink), i) in fitted.pixels().zip(&inks).zip(0u32..) {
            if let Some(ink) = Ink::from_index(ink).filter(|_| px[3] >= 128) {
                let (x, y) = ((i % bw) as i32, (i / bw) as i32);
                self.canvas.put(bounds.x0 + x, bounds.y0 + y, ink, clip);
            }
        }
    }
}
