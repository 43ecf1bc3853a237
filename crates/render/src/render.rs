//! The first stage: a template's layout resolved for a product and a model into a
//! [`Scene`], and the [`Renderer`] that runs both stages.

use std::collections::BTreeMap;
use std::sync::Arc;

use ab_glyph::GlyphId;
use esl_model::{Ink, Model, Product};

use crate::bind::{self, BindFailure};
use crate::codes;
use crate::error::{RenderError, Warning};
use crate::fonts::{Face, FontBook};
use crate::layout;
use crate::loader::Template;
use crate::panel::PanelImage;
use crate::raster::Rect;
use crate::rasterise::rasterise;
use crate::scene::{
    BarcodeContent, Content, GlyphPos, PictureContent, PriceContent, PricePart, PriceRole, Prim,
    QrContent, Scene, SceneElement, TextContent,
};
use crate::template::{
    Align, BarcodeElement, Color, Condition, ContainerElement, Currency, CurrencyAlign,
    CurrencyPosition, Element, FontList, HAlign, ImageElement, Justify, OnError, OnMissing,
    Padding, PriceElement, QrElement, Size, SmallPosition, Span, TextElement, UnitPriceElement,
    VAlign,
};
use crate::text::{self, Chain, Run, SpanStyle, TextBox};
use crate::unit_price;

use crate::limits::MAX_VALUE_CHARS;

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
/// [`Renderer::render`] runs the two stages in turn: [`Renderer::bind`] resolves a label
/// into a [`Scene`] (all the fallible work), and [`rasterise`](crate::rasterise) draws it.
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

    /// Renders `product` with `template` for `model`: [`Renderer::bind`], then
    /// [`rasterise`](crate::rasterise).
    ///
    /// # Errors
    /// As [`Renderer::bind`].
    pub fn render(
        &self,
        template: &Template,
        product: &Product,
        model: Model,
    ) -> Result<Rendered, RenderError> {
        let scene = self.bind(template, product, model)?;
        let image = rasterise(&scene);
        Ok(Rendered {
            image,
            warnings: scene.warnings,
        })
    }

    /// Resolves `product` with `template` for `model` into a [`Scene`]: conditions
    /// evaluated, values bound and formatted, fonts chosen, text fitted and broken into
    /// lines, prices split into parts, codes encoded, pictures prepared, every box placed
    /// and clipped.
    ///
    /// # Errors
    /// [`RenderError::UnsupportedModel`] when the template does not serve the model; a
    /// missing field without fallback, a value that is not a number where one is needed or
    /// is longer than [`MAX_VALUE_CHARS`], an unknown font, a price too wide for its box
    /// even at `min_size`, a code that cannot be drawn with `on_error: fail`; in strict
    /// mode, any warning.
    pub fn bind(
        &self,
        template: &Template,
        product: &Product,
        model: Model,
    ) -> Result<Scene, RenderError> {
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
        let canvas = Rect::new(0, 0, dw, dh);
        let mut b = Builder {
            r: self,
            template,
            product,
            model,
            canvas,
            fonts: Vec::new(),
            font_index: BTreeMap::new(),
            elements: Vec::new(),
            warnings: Vec::new(),
            hint: true,
        };
        b.elements(layout.elements, &layout.path, 0, 0, canvas)?;
        let Builder {
            fonts,
            elements,
            warnings,
            ..
        } = b;
        if self.options.strict {
            if let Some(w) = warnings.first() {
                return Err(RenderError::Strict {
                    template: template.name.clone(),
                    warning: w.clone(),
                });
            }
        }
        Ok(Scene {
            template: template.name.clone(),
            model,
            rotation: layout.rotation,
            width: dw,
            height: dh,
            background: model.palette().map(template.spec.background.into()),
            fonts,
            elements,
            warnings,
        })
    }

    /// Draws a scene made by [`Renderer::bind`]; the same as [`rasterise`](crate::rasterise).
    #[must_use]
    pub fn rasterise(&self, scene: &Scene) -> PanelImage {
        rasterise(scene)
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

impl<'a> CodeBinding<'a> {
    fn of_barcode(b: &'a BarcodeElement) -> CodeBinding<'a> {
        CodeBinding {
            field: b.field.as_ref(),
            literal: b.value.as_ref(),
            fallback: b.fallback.as_ref(),
            on_error: b.on_error,
            error_text: b.error_text.as_ref(),
        }
    }

    fn of_qr(q: &'a QrElement) -> CodeBinding<'a> {
        CodeBinding {
            field: q.field.as_ref(),
            literal: q.value.as_ref(),
            fallback: q.fallback.as_ref(),
            on_error: q.on_error,
            error_text: q.error_text.as_ref(),
        }
    }
}

/// How a text is set: what text elements, unit prices and price fallbacks share.
struct TextStyle<'a> {
    font: &'a FontList,
    size: u32,
    min_size: u32,
    max_lines: u32,
    line_spacing: f32,
    align: HAlign,
    valign: VAlign,
    color: Color,
    background: Option<Color>,
    strike: bool,
}

impl<'a> TextStyle<'a> {
    fn of_text(t: &'a TextElement) -> TextStyle<'a> {
        TextStyle {
            font: &t.font,
            size: t.size,
            min_size: t.min_size.unwrap_or(t.size),
            max_lines: t.max_lines,
            line_spacing: t.line_spacing,
            align: t.align,
            valign: t.valign,
            color: t.color,
            background: t.background,
            strike: t.strike,
        }
    }
}

/// The texts of a price.
struct PriceTexts {
    prefix: String,
    currency: String,
    integer: String,
    fraction: String,
    suffix: String,
}

/// A price measured at one size.
#[derive(Default)]
struct PriceMeasure {
    small: u32,
    csize: u32,
    pre: text::Line,
    cur: text::Line,
    int: text::Line,
    frac: text::Line,
    suf: text::Line,
    gap: f32,
    width: f32,
    digit_h: i32,
    below: i32,
    missing: Vec<char>,
}

/// A natural size with the padding around it.
fn pad(w: i32, h: i32, p: &Padding) -> (i32, i32) {
    let px = |v: u32| i32::try_from(v).unwrap_or(i32::MAX);
    (
        w.saturating_add(px(p.left)).saturating_add(px(p.right)),
        h.saturating_add(px(p.top)).saturating_add(px(p.bottom)),
    )
}

/// A piece of a text to set: its text and the span it comes from (`None`: the element's
/// own style).
type Piece<'t> = (String, Option<&'t Span>);

/// The font chain, full size and ink of each piece of a text.
struct PieceLooks {
    chains: Vec<Chain>,
    looks: Vec<(u32, Ink)>,
}

impl PieceLooks {
    /// The pieces' styles for layout, in the pieces' order.
    fn styles(&self) -> Vec<SpanStyle<'_>> {
        self.chains
            .iter()
            .zip(&self.looks)
            .map(|(chain, &(size, _))| SpanStyle { chain, size })
            .collect()
    }
}

/// The runs of pieces, piece `i` in style `i`.
fn runs<'p>(pieces: &'p [Piece<'_>]) -> Vec<Run<'p>> {
    pieces
        .iter()
        .enumerate()
        .map(|(style, (text, _))| Run { text, style })
        .collect()
}

/// A glyph to place: the book's face index, the glyph, its integer origin.
type Placement = (usize, GlyphId, i32, i32);

/// Builds the scene of one label.
struct Builder<'a> {
    r: &'a Renderer,
    template: &'a Template,
    product: &'a Product,
    model: Model,
    /// The design canvas.
    canvas: Rect,
    /// The fonts the scene draws with, in order of first use.
    fonts: Vec<Arc<Face>>,
    /// Book index → index in `fonts`.
    font_index: BTreeMap<usize, u32>,
    elements: Vec<SceneElement>,
    warnings: Vec<Warning>,
    /// Whether the element being built hints its text (its `hinting`, else the
    /// template's, else on); set before an element is measured or drawn.
    hint: bool,
}

impl Builder<'_> {
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

    /// Refuses a bound value longer than [`MAX_VALUE_CHARS`].
    fn check_length(&self, path: &str, value: &str) -> Result<(), RenderError> {
        self.check_chars(path, value.chars().count())
    }

    /// Refuses a value of `chars` characters when it is longer than any label shows.
    fn check_chars(&self, path: &str, chars: usize) -> Result<(), RenderError> {
        if chars > MAX_VALUE_CHARS {
            return Err(RenderError::ValueTooLong {
                template: self.template.name.clone(),
                element: path.to_owned(),
                chars,
                max: MAX_VALUE_CHARS,
            });
        }
        Ok(())
    }

    fn shown(&self, when: Option<&Condition>, path: &str) -> Result<bool, RenderError> {
        match when {
            None => Ok(true),
            Some(c) => bind::eval(c, self.product, self.model).map_err(|f| self.fail(path, f)),
        }
    }

    /// Whether `el` hints its text: its own `hinting`, else the template's, else on.
    fn hint_of(&self, el: &Element) -> bool {
        el.hinting().or(self.template.spec.hinting).unwrap_or(true)
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
        Ok(Chain(chain, self.hint))
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

    /// The scene's index of a book face, adding it on first use.
    fn font(&mut self, book_index: usize) -> u32 {
        if let Some(&i) = self.font_index.get(&book_index) {
            return i;
        }
        let i = self.fonts.len() as u32;
        self.fonts.push(self.r.fonts().face_arc(book_index));
        self.font_index.insert(book_index, i);
        i
    }

    /// Glyph primitives for placed glyphs of one size and ink: one primitive per font, in
    /// order of first appearance. Glyphs whose em box cannot reach `clip` are left out.
    fn glyphs(
        &mut self,
        placed: impl IntoIterator<Item = Placement>,
        size: u32,
        ink: Ink,
        clip: Rect,
    ) -> Vec<Prim> {
        let mut out: Vec<Prim> = Vec::new();
        let reach = i32::try_from(size).unwrap_or(i32::MAX).saturating_mul(2);
        for (face, id, x, y) in placed {
            // A glyph's ink lies within about one em of its origin; two ems is a safe
            // margin for any outline, and it keeps far-off glyphs out of the scene.
            let em = Rect {
                x0: x.saturating_sub(reach),
                y0: y.saturating_sub(reach),
                x1: x.saturating_add(reach),
                y1: y.saturating_add(reach),
            };
            if em.intersect(clip).is_empty() {
                continue;
            }
            let font = self.font(face);
            let pos = GlyphPos { id: id.0, x, y };
            let existing = out.iter_mut().find_map(|p| match p {
                Prim::Glyphs {
                    font: f, glyphs, ..
                } if *f == font => Some(glyphs),
                _ => None,
            });
            match existing {
                Some(glyphs) => glyphs.push(pos),
                None => out.push(Prim::Glyphs {
                    font,
                    size,
                    hinted: self.hint,
                    ink,
                    glyphs: vec![pos],
                }),
            }
        }
        out
    }

    /// Adds an element: its clip is cut to the canvas, and an element with nothing visible
    /// keeps its place in the list but draws nothing.
    fn push(
        &mut self,
        path: &str,
        id: Option<&String>,
        bounds: Rect,
        clip: Rect,
        content: Content,
        prims: Vec<Prim>,
    ) {
        let clip = clip.intersect(self.canvas);
        let (clip, prims) = if clip.is_empty() {
            (None, Vec::new())
        } else {
            (Some(clip), prims)
        };
        self.elements.push(SceneElement {
            path: path.to_owned(),
            id: id.cloned(),
            bounds,
            clip,
            content,
            prims,
        });
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
            self.element(el, &p, (ox, oy), None, clip)?;
        }
        Ok(())
    }

    /// Resolves one element: its box is `given` (a container placed it) or its own `box`
    /// relative to `origin`.
    fn element(
        &mut self,
        el: &Element,
        path: &str,
        (ox, oy): (i32, i32),
        given: Option<Rect>,
        clip: Rect,
    ) -> Result<(), RenderError> {
        if !self.shown(el.when(), path)? {
            return Ok(());
        }
        self.hint = self.hint_of(el);
        let bounds = given.unwrap_or_else(|| match el.geometry().0 {
            Some(b) => Rect::new(ox.saturating_add(b.x), oy.saturating_add(b.y), b.w, b.h),
            // The loader makes sure every element outside a container has a box.
            None => Rect::new(ox, oy, 0, 0),
        });
        match el {
            Element::Text(t) => {
                if let Some(pieces) = self.text_pieces(t, path)? {
                    let style = TextStyle::of_text(t);
                    self.draw_text(&style, t.id.as_ref(), &pieces, bounds, path, clip)?;
                }
            }
            Element::Price(t) => self.price(t, bounds, path, clip)?,
            Element::UnitPrice(u) => self.unit_price(u, bounds, path, clip)?,
            Element::Rect(r) => {
                let prim = Prim::RoundRect {
                    rect: bounds,
                    radius: r.radius,
                    fill: r.fill.map(Ink::from),
                    outline: r.outline.map(Ink::from),
                    stroke: r.stroke,
                };
                let inner_clip = clip.intersect(bounds);
                self.push(
                    path,
                    r.id.as_ref(),
                    bounds,
                    inner_clip,
                    Content::Shape,
                    vec![prim],
                );
                if !r.children.is_empty() {
                    let inner = layout::inner(bounds, &r.padding);
                    let children = format!("{path}.children");
                    self.stack(
                        &r.children,
                        &children,
                        inner,
                        r.align,
                        r.justify,
                        inner_clip,
                    )?;
                }
            }
            Element::Ellipse(e) => {
                let prim = Prim::Ellipse {
                    rect: bounds,
                    fill: e.fill.map(Ink::from),
                    outline: e.outline.map(Ink::from),
                    stroke: e.stroke,
                };
                let clip = clip.intersect(bounds);
                self.push(
                    path,
                    e.id.as_ref(),
                    bounds,
                    clip,
                    Content::Shape,
                    vec![prim],
                );
            }
            Element::Line(l) => {
                let from = (ox.saturating_add(l.from.x), oy.saturating_add(l.from.y));
                let to = (ox.saturating_add(l.to.x), oy.saturating_add(l.to.y));
                let half = (l.width / 2) as i32;
                let bounds = Rect {
                    x0: from.0.min(to.0) - half,
                    y0: from.1.min(to.1) - half,
                    x1: from.0.max(to.0) + half + 1,
                    y1: from.1.max(to.1) + half + 1,
                };
                let prim = Prim::Line {
                    from,
                    to,
                    width: l.width,
                    ink: l.color.into(),
                };
                self.push(
                    path,
                    l.id.as_ref(),
                    bounds,
                    clip,
                    Content::Shape,
                    vec![prim],
                );
            }
            Element::Image(img) => self.image(img, bounds, path, clip),
            Element::Barcode(b) => self.barcode(b, bounds, path, clip)?,
            Element::Qrcode(q) => self.qrcode(q, bounds, path, clip)?,
            Element::Group(g) => {
                let inner = clip.intersect(bounds);
                let prims = g
                    .background
                    .map(|bg| Prim::Fill {
                        rect: bounds,
                        ink: bg.into(),
                    })
                    .into_iter()
                    .collect();
                self.push(path, g.id.as_ref(), bounds, inner, Content::Group, prims);
                let origin = layout::inner(bounds, &g.padding);
                self.elements(
                    &g.elements,
                    &format!("{path}.elements"),
                    origin.x0,
                    origin.y0,
                    inner,
                )?;
            }
            Element::Row(c) | Element::Column(c) | Element::Stack(c) => {
                let inner_clip = clip.intersect(bounds);
                let prims = c
                    .background
                    .map(|bg| Prim::Fill {
                        rect: bounds,
                        ink: bg.into(),
                    })
                    .into_iter()
                    .collect();
                self.push(
                    path,
                    c.id.as_ref(),
                    bounds,
                    inner_clip,
                    Content::Group,
                    prims,
                );
                let inner = layout::inner(bounds, &c.padding);
                let children = format!("{path}.children");
                match el {
                    Element::Stack(_) => {
                        self.stack(
                            &c.children,
                            &children,
                            inner,
                            c.align,
                            c.justify,
                            inner_clip,
                        )?;
                    }
                    _ => {
                        let horizontal = matches!(el, Element::Row(_));
                        self.line(c, horizontal, &children, inner, inner_clip)?;
                    }
                }
            }
        }
        Ok(())
    }

    /// The children of a row or column, laid out in `inner`.
    fn line(
        &mut self,
        c: &ContainerElement,
        horizontal: bool,
        path: &str,
        inner: Rect,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let mut shown = Vec::new();
        let mut items = Vec::new();
        for (i, child) in c.children.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if !self.shown(child.when(), &p)? || self.draws_nothing(child, &p)? {
                continue;
            }
            let (_, w, h) = child.geometry();
            let (main, cross) = if horizontal { (w, h) } else { (h, w) };
            let main = main.unwrap_or(Size::Fit);
            let cross = cross.unwrap_or(Size::Fill(1));
            let room_cross = if horizontal {
                inner.height()
            } else {
                inner.width()
            };
            // Across first: a column's children wrap their text to the width they get.
            let cross_px = match cross {
                Size::Px(v) => Some(i32::try_from(v).unwrap_or(i32::MAX)),
                Size::Fill(_) => None,
                Size::Fit => {
                    let hint = if horizontal { None } else { Some(room_cross) };
                    let (nw, nh) = self.natural(child, &p, hint)?;
                    Some(if horizontal { nh } else { nw })
                }
            };
            let main = match main {
                Size::Fit => {
                    let width = if horizontal {
                        None
                    } else {
                        Some(cross_px.unwrap_or(room_cross))
                    };
                    let (nw, nh) = self.natural(child, &p, width)?;
                    Size::Px((if horizontal { nw } else { nh }).max(0) as u32)
                }
                other => other,
            };
            items.push(layout::Item {
                main,
                cross: cross_px,
            });
            shown.push(i);
        }
        let boxes = layout::line(inner, horizontal, c.gap, c.align, c.justify, &items);
        for (i, b) in shown.into_iter().zip(boxes) {
            let p = format!("{path}[{i}]");
            self.element(&c.children[i], &p, (b.x0, b.y0), Some(b), clip)?;
        }
        Ok(())
    }

    /// The children of a stack (or of a rect), each placed in `inner`.
    fn stack(
        &mut self,
        children: &[Element],
        path: &str,
        inner: Rect,
        align: Align,
        justify: Justify,
        clip: Rect,
    ) -> Result<(), RenderError> {
        for (i, child) in children.iter().enumerate() {
            let p = format!("{path}[{i}]");
            if !self.shown(child.when(), &p)? {
                continue;
            }
            let (_, w, h) = child.geometry();
            let px = |s: Option<Size>| match s {
                Some(Size::Px(v)) => Some(Some(i32::try_from(v).unwrap_or(i32::MAX))),
                Some(Size::Fit) => None,
                Some(Size::Fill(_)) | None => Some(None),
            };
            let (mut cw, mut ch) = (px(w), px(h));
            if cw.is_none() || ch.is_none() {
                let hint = cw.flatten().or(Some(inner.width()));
                let (nw, nh) = self.natural(child, &p, hint)?;
                cw = cw.or(Some(Some(nw)));
                ch = ch.or(Some(Some(nh)));
            }
            let b = layout::stacked(inner, cw.flatten(), ch.flatten(), align, justify);
            self.element(child, &p, (b.x0, b.y0), Some(b), clip)?;
        }
        Ok(())
    }

    /// Whether a shown element draws nothing at all (a text whose value is empty): it then
    /// takes no room in a row or column.
    fn draws_nothing(&mut self, el: &Element, path: &str) -> Result<bool, RenderError> {
        Ok(match el {
            Element::Text(t) => self.text_pieces(t, path)?.is_none(),
            _ => false,
        })
    }

    /// The natural size of an element: what `"fit"` gives it. `width` is the width it will
    /// have, when known (text wraps to it; pictures keep their aspect).
    fn natural(
        &mut self,
        el: &Element,
        path: &str,
        width: Option<i32>,
    ) -> Result<(i32, i32), RenderError> {
        self.hint = self.hint_of(el);
        let book = self.r.fonts();
        Ok(match el {
            Element::Text(t) => match self.text_pieces(t, path)? {
                None => (0, 0),
                Some(pieces) => {
                    let looks = self.piece_looks(&TextStyle::of_text(t), &pieces, path)?;
                    let styles = looks.styles();
                    let runs = runs(&pieces);
                    let mut missing = Vec::new();
                    let wrap = width.filter(|_| t.max_lines > 1).map(|w| w as f32);
                    text::natural(
                        book,
                        &styles,
                        &runs,
                        (t.size, t.line_spacing, t.max_lines),
                        wrap,
                        &mut missing,
                    )
                }
            },
            Element::UnitPrice(u) => match self.unit_price_text(u, path)? {
                None => (0, 0),
                Some(value) => {
                    let chain = self.chain(&u.font, path)?;
                    let styles = [SpanStyle {
                        chain: &chain,
                        size: u.size,
                    }];
                    let runs = [Run {
                        text: &value,
                        style: 0,
                    }];
                    let mut missing = Vec::new();
                    text::natural(book, &styles, &runs, (u.size, 1.15, 1), None, &mut missing)
                }
            },
            Element::Price(t) => match self.price_parts(t, path)? {
                None => (0, 0),
                Some(parts) => {
                    let chain = self.chain(&t.font, path)?;
                    let m = self.measure_price(t, &parts, &chain, t.size);
                    (m.width.ceil() as i32, m.digit_h + m.below)
                }
            },
            Element::Barcode(b) => {
                let binding = CodeBinding::of_barcode(b);
                match self.code_value(&binding, path)? {
                    Ok(v) => match codes::encode_linear(b.symbology, &v) {
                        Ok(code) => {
                            let total = code.quiet.0 + code.modules.len() as u32 + code.quiet.1;
                            ((total * 2) as i32, 50)
                        }
                        Err(_) => (0, 0),
                    },
                    Err(_) => (0, 0),
                }
            }
            Element::Qrcode(q) => {
                let binding = CodeBinding::of_qr(q);
                match self.code_value(&binding, path)? {
                    Ok(v) => match codes::encode_qr(&v, q.ec_level) {
                        Ok(code) => {
                            let m = if q.allow_1px { 1 } else { 2 };
                            let side = ((code.width + 2 * q.quiet_zone) * m) as i32;
                            (side, side)
                        }
                        Err(_) => (0, 0),
                    },
                    Err(_) => (0, 0),
                }
            }
            Element::Image(img) => match img.decoded.and_then(|i| self.template.images.get(i)) {
                None => (0, 0),
                Some(src) => {
                    let (sw, sh) = src.dimensions();
                    let (sw, sh) = (sw as i32, sh as i32);
                    match width {
                        Some(w) if sw > 0 => {
                            (w, (i64::from(sh) * i64::from(w) / i64::from(sw)) as i32)
                        }
                        _ => (sw, sh),
                    }
                }
            },
            Element::Rect(r) => {
                let (w, h) = self.children_natural(&r.children, path, width, &r.padding)?;
                (w, h)
            }
            Element::Stack(c) => self.children_natural(&c.children, path, width, &c.padding)?,
            Element::Row(c) | Element::Column(c) => {
                let horizontal = matches!(el, Element::Row(_));
                let mut main = 0i32;
                let mut cross = 0i32;
                let mut n = 0i32;
                let inner_w =
                    width.map(|w| w - i32::try_from(c.padding.left + c.padding.right).unwrap_or(0));
                for (i, child) in c.children.iter().enumerate() {
                    let p = format!("{path}.children[{i}]");
                    if !self.shown(child.when(), &p)? || self.draws_nothing(child, &p)? {
                        continue;
                    }
                    let (_, cw, chh) = child.geometry();
                    let (ms, cs) = if horizontal { (cw, chh) } else { (chh, cw) };
                    let hint = if horizontal {
                        match cw {
                            Some(Size::Px(v)) => Some(v as i32),
                            _ => None,
                        }
                    } else {
                        match cw {
                            Some(Size::Px(v)) => Some(v as i32),
                            _ => inner_w,
                        }
                    };
                    let (nw, nh) = self.natural(child, &p, hint)?;
                    let (nm, nc) = if horizontal { (nw, nh) } else { (nh, nw) };
                    let m = match ms {
                        Some(Size::Px(v)) => v as i32,
                        _ => nm,
                    };
                    let cr = match cs {
                        Some(Size::Px(v)) => v as i32,
                        _ => nc,
                    };
                    main = main.saturating_add(m);
                    cross = cross.max(cr);
                    n += 1;
                }
                main = main.saturating_add(
                    i32::try_from(c.gap)
                        .unwrap_or(i32::MAX)
                        .saturating_mul((n - 1).max(0)),
                );
                let (w, h) = if horizontal {
                    (main, cross)
                } else {
                    (cross, main)
                };
                pad(w, h, &c.padding)
            }
            Element::Group(g) => {
                let mut w = 0i32;
                let mut h = 0i32;
                for child in &g.elements {
                    if let Some(b) = child.geometry().0 {
                        w = w.max(b.x.saturating_add(i32::try_from(b.w).unwrap_or(i32::MAX)));
                        h = h.max(b.y.saturating_add(i32::try_from(b.h).unwrap_or(i32::MAX)));
                    }
                }
                pad(w, h, &g.padding)
            }
            Element::Ellipse(_) | Element::Line(_) => (0, 0),
        })
    }

    /// The natural size of stacked children: the largest of them, with the padding.
    fn children_natural(
        &mut self,
        children: &[Element],
        path: &str,
        width: Option<i32>,
        padding: &Padding,
    ) -> Result<(i32, i32), RenderError> {
        let inner_w = width.map(|w| w - i32::try_from(padding.left + padding.right).unwrap_or(0));
        let (mut w, mut h) = (0i32, 0i32);
        for (i, child) in children.iter().enumerate() {
            let p = format!("{path}.children[{i}]");
            if !self.shown(child.when(), &p)? {
                continue;
            }
            let (_, cw, ch) = child.geometry();
            let (nw, nh) = self.natural(child, &p, inner_w)?;
            w = w.max(match cw {
                Some(Size::Px(v)) => v as i32,
                _ => nw,
            });
            h = h.max(match ch {
                Some(Size::Px(v)) => v as i32,
                _ => nh,
            });
        }
        Ok(pad(w, h, padding))
    }

    /// A text element's pieces after binding and formatting; `None` when it draws nothing.
    /// A plain text is one piece in the element's own style; rich text has a piece per
    /// non-empty span.
    fn text_pieces<'t>(
        &self,
        t: &'t TextElement,
        path: &str,
    ) -> Result<Option<Vec<Piece<'t>>>, RenderError> {
        // What the element shows when a field it needs is missing.
        let fallback = |field: String| -> Result<Option<Vec<Piece<'t>>>, RenderError> {
            match &t.fallback {
                Some(fb) if fb.is_empty() => Ok(None),
                Some(fb) => {
                    self.check_length(path, fb)?;
                    Ok(Some(vec![(fb.clone(), None)]))
                }
                None => Err(self.fail(path, BindFailure::Missing(field))),
            }
        };
        let offset = self.template.spec.utc_offset;
        if let Some(spans) = &t.spans {
            let mut pieces = Vec::with_capacity(spans.len());
            let mut chars = 0;
            for (i, span) in spans.iter().enumerate() {
                let sp = format!("{path}.spans[{i}]");
                let value = match (&span.field, &span.text) {
                    (Some(field), _) => {
                        match bind::format_field(self.product, field, span.format.as_ref(), offset)
                            .map_err(|f| self.fail(&sp, f))?
                        {
                            Some(v) => v,
                            None => match &span.fallback {
                                Some(fb) => fb.clone(),
                                None => return fallback(field.clone()),
                            },
                        }
                    }
                    (None, Some(literal)) => match bind::interpolate(literal, self.product) {
                        Ok(v) => v,
                        Err(BindFailure::Missing(field)) => match &span.fallback {
                            Some(fb) => fb.clone(),
                            None => return fallback(field),
                        },
                        Err(other) => return Err(self.fail(&sp, other)),
                    },
                    (None, None) => String::new(),
                };
                let value = bind::decorate(&value, t.case, "", "");
                if !value.is_empty() {
                    // The spans together are one text, bounded as one value.
                    chars += value.chars().count();
                    self.check_chars(path, chars)?;
                    pieces.push((value, Some(span)));
                }
            }
            return Ok((!pieces.is_empty()).then_some(pieces));
        }
        let value = match (&t.field, &t.text) {
            (Some(field), _) => {
                match bind::format_field(self.product, field, t.format.as_ref(), offset)
                    .map_err(|f| self.fail(path, f))?
                {
                    Some(v) => bind::decorate(&v, t.case, &t.prefix, &t.suffix),
                    None => return fallback(field.clone()),
                }
            }
            (None, Some(literal)) => match bind::interpolate(literal, self.product) {
                Ok(v) => bind::decorate(&v, t.case, &t.prefix, &t.suffix),
                Err(BindFailure::Missing(field)) => return fallback(field),
                Err(other) => return Err(self.fail(path, other)),
            },
            (None, None) => String::new(),
        };
        if value.is_empty() {
            return Ok(None);
        }
        self.check_length(path, &value)?;
        Ok(Some(vec![(value, None)]))
    }

    /// The font chain, full size and ink of each piece of a text set in `style`.
    fn piece_looks(
        &self,
        style: &TextStyle<'_>,
        pieces: &[Piece<'_>],
        path: &str,
    ) -> Result<PieceLooks, RenderError> {
        let base = self.chain(style.font, path)?;
        let book = self.r.fonts();
        let mut chains = Vec::with_capacity(pieces.len());
        let mut looks = Vec::with_capacity(pieces.len());
        for (i, (_, span)) in pieces.iter().enumerate() {
            let Some(span) = span else {
                chains.push(base.clone());
                looks.push((style.size, style.color.into()));
                continue;
            };
            let chain = if span.font.is_none() && !span.bold {
                base.clone()
            } else {
                let fonts = span.font.as_ref().unwrap_or(style.font);
                let names: Vec<String> = fonts
                    .names()
                    .iter()
                    .map(|n| {
                        let bold = format!("{n}-bold");
                        if span.bold && book.index_of(&bold).is_some() {
                            bold
                        } else {
                            n.clone()
                        }
                    })
                    .collect();
                self.chain(&FontList::Many(names), &format!("{path}.spans[{i}]"))?
            };
            chains.push(chain);
            looks.push((
                span.size.unwrap_or(style.size),
                span.color.unwrap_or(style.color).into(),
            ));
        }
        Ok(PieceLooks { chains, looks })
    }

    /// Fits the `pieces` into `bounds` with `style` and adds the element.
    fn draw_text(
        &mut self,
        style: &TextStyle<'_>,
        id: Option<&String>,
        pieces: &[Piece<'_>],
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let resolved = self.piece_looks(style, pieces, path)?;
        let styles = resolved.styles();
        let runs = runs(pieces);
        let looks = &resolved.looks;
        let tb = TextBox {
            bounds,
            styles: &styles,
            size: style.size,
            min_size: style.min_size,
            max_lines: style.max_lines,
            line_spacing: style.line_spacing,
            align: style.align,
            valign: style.valign,
        };
        let book = self.r.fonts();
        let layout = text::layout(book, &tb, &runs);
        self.report_missing(path, &layout.missing);
        if let Some(shown) = &layout.truncated {
            self.warnings.push(Warning::Truncated {
                element: path.to_owned(),
                size: layout.size,
                shown: shown.clone(),
            });
        }
        let clip = clip.intersect(bounds);
        let mut prims = Vec::new();
        if let Some(bg) = style.background {
            prims.push(Prim::Fill {
                rect: bounds,
                ink: bg.into(),
            });
        }
        // One group of glyph primitives per (size, ink), in order of first appearance.
        let mut groups: Vec<(u32, Ink)> = Vec::new();
        for (i, &(_, ink)) in looks.iter().enumerate() {
            let size = layout.sizes.get(i).copied().unwrap_or(layout.size);
            if !groups.contains(&(size, ink)) {
                groups.push((size, ink));
            }
        }
        for &(size, ink) in &groups {
            let placed: Vec<Placement> = layout
                .lines
                .iter()
                .flat_map(|(line, x, baseline)| {
                    line.glyphs
                        .iter()
                        .filter(|g| {
                            layout.sizes.get(g.style).copied() == Some(size)
                                && looks.get(g.style).map(|l| l.1) == Some(ink)
                        })
                        .map(move |g| (g.face, g.id, x + g.x.round() as i32, *baseline))
                })
                .collect();
            prims.extend(self.glyphs(placed, size, ink, clip));
        }
        if style.strike {
            let ink: Ink = style.color.into();
            for (line, x, baseline) in &layout.lines {
                if line.glyphs.is_empty() {
                    continue;
                }
                let th = text::strike_thickness(line.size);
                let y = baseline - (line.size as f32 * 0.3).round() as i32 - th / 2;
                prims.push(Prim::Fill {
                    rect: Rect::new(*x, y, line.width.round() as u32, th as u32),
                    ink,
                });
            }
        }
        let content = Content::Text(TextContent {
            size: layout.size,
            lines: layout
                .lines
                .iter()
                .map(|(l, _, _)| l.text.clone())
                .collect(),
            truncated: layout.truncated.is_some(),
        });
        self.push(path, id, bounds, clip, content, prims);
        Ok(())
    }

    /// A currency sign as the product gives it.
    fn currency(&self, c: &Currency, path: &str) -> Result<String, RenderError> {
        Ok(match c {
            Currency::Literal(s) => s.clone(),
            Currency::Field { field, fallback } => self
                .product
                .text(field)
                .map_err(|e| self.fail(path, e.into()))?
                .map(|v| v.trim().to_owned())
                .filter(|v| !v.is_empty())
                .unwrap_or_else(|| fallback.clone()),
        })
    }

    /// A price's texts: `None` when the element draws nothing (a missing amount with an
    /// empty fallback, or a prefix or suffix naming a missing field); `Some(Err(text))` when
    /// the fallback text is to be drawn instead.
    fn price_parts(
        &self,
        t: &PriceElement,
        path: &str,
    ) -> Result<Option<Result<PriceTexts, String>>, RenderError> {
        let amount = self
            .product
            .amount(&t.field)
            .map_err(|e| self.fail(path, e.into()))?;
        let Some(amount) = amount else {
            return match &t.fallback {
                None => Err(self.fail(path, BindFailure::Missing(t.field.clone()))),
                Some(fb) if fb.is_empty() => Ok(None),
                Some(fb) => Ok(Some(Err(fb.clone()))),
            };
        };
        let affix = |lit: &Option<String>| -> Result<Option<String>, RenderError> {
            match lit {
                None => Ok(Some(String::new())),
                Some(l) => match bind::interpolate(l, self.product) {
                    Ok(v) => Ok(Some(v)),
                    Err(BindFailure::Missing(_)) => Ok(None),
                    Err(other) => Err(self.fail(path, other)),
                },
            }
        };
        let (Some(prefix), Some(suffix)) = (affix(&t.prefix)?, affix(&t.suffix)?) else {
            return Ok(None);
        };
        let parts = bind::money_parts(amount, t.decimals, &t.thousands_separator);
        let fraction = if parts.fraction.is_empty() {
            String::new()
        } else {
            format!("{}{}", t.decimal_separator, parts.fraction)
        };
        Ok(Some(Ok(PriceTexts {
            prefix,
            currency: self.currency(&t.currency, path)?,
            integer: parts.integer,
            fraction,
            suffix,
        })))
    }

    /// The runs and extent of a price at `size`.
    fn measure_price(
        &self,
        t: &PriceElement,
        parts: &Result<PriceTexts, String>,
        chain: &Chain,
        size: u32,
    ) -> PriceMeasure {
        let book = self.r.fonts();
        let mut missing = Vec::new();
        let Ok(p) = parts else {
            return PriceMeasure::default();
        };
        let ratio = |s: Option<u32>, default: f32| s.map_or(default, |s| s as f32 / t.size as f32);
        let small = ((size as f32 * ratio(t.small_size, 0.5)).round() as u32).max(1);
        let csize = match t.currency_size {
            Some(_) => ((size as f32 * ratio(t.currency_size, 0.5)).round() as u32).max(1),
            None => small,
        };
        let pre = text::run(book, chain, &p.prefix, small, &mut missing);
        let cur = text::run(book, chain, &p.currency, csize, &mut missing);
        let int = text::run(book, chain, &p.integer, size, &mut missing);
        let frac = text::run(book, chain, &p.fraction, small, &mut missing);
        let suf = text::run(book, chain, &p.suffix, small, &mut missing);
        let gap = if p.currency.is_empty() {
            0.0
        } else {
            (csize as f32 * 0.1).round()
        };
        let width = pre.width + cur.width + gap + int.width + frac.width + suf.width;
        let (digit_h, below) = text::digit_extent(book, chain, size);
        PriceMeasure {
            small,
            csize,
            pre,
            cur,
            int,
            frac,
            suf,
            gap,
            width,
            digit_h,
            below,
            missing,
        }
    }

    fn price(
        &mut self,
        t: &PriceElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let Some(parts) = self.price_parts(t, path)? else {
            return Ok(());
        };
        let texts = match parts {
            Ok(texts) => texts,
            Err(fallback) => {
                // The fallback is a literal text, placeholders filled.
                let fallback = match bind::interpolate(&fallback, self.product) {
                    Ok(v) => v,
                    Err(f) => return Err(self.fail(path, f)),
                };
                if fallback.is_empty() {
                    return Ok(());
                }
                self.check_length(path, &fallback)?;
                let style = TextStyle {
                    font: &t.font,
                    size: t.small_size.unwrap_or(t.size / 2).max(1),
                    min_size: t
                        .min_size
                        .unwrap_or(t.size)
                        .min(t.small_size.unwrap_or(t.size / 2))
                        .max(1),
                    max_lines: 2,
                    line_spacing: 1.15,
                    align: t.align,
                    valign: t.valign,
                    color: t.color,
                    background: t.background,
                    strike: false,
                };
                return self.draw_text(
                    &style,
                    t.id.as_ref(),
                    &[(fallback, None)],
                    bounds,
                    path,
                    clip,
                );
            }
        };
        let chain = self.chain(&t.font, path)?;
        let book = self.r.fonts();
        let parts = Ok(texts);
        let min = t.min_size.unwrap_or(t.size);
        let mut missing = Vec::new();
        let mut chosen = None;
        for size in (min..=t.size).rev() {
            let mut m = self.measure_price(t, &parts, &chain, size);
            missing.append(&mut m.missing);
            if m.width.round() as i32 <= bounds.width() && m.digit_h + m.below <= bounds.height() {
                chosen = Some((size, m));
                break;
            }
        }
        let mut seen = Vec::new();
        missing.retain(|c| {
            let new = !seen.contains(c);
            seen.push(*c);
            new
        });
        self.report_missing(path, &missing);
        let Ok(texts) = parts else {
            return Ok(());
        };
        let Some((size, m)) = chosen else {
            return Err(RenderError::PriceOverflow {
                template: self.template.name.clone(),
                element: path.to_owned(),
                price: format!(
                    "{}{}{}{}{}",
                    texts.prefix, texts.currency, texts.integer, texts.fraction, texts.suffix
                ),
                width: bounds.width() as u32,
                min_size: min,
            });
        };
        let clip = clip.intersect(bounds);
        let w = m.width.round() as i32;
        let x0 = match t.align {
            HAlign::Left => bounds.x0,
            HAlign::Center => bounds.x0 + (bounds.width() - w).div_euclid(2),
            HAlign::Right => bounds.x1 - w,
        };
        let baseline = match t.valign {
            VAlign::Top => bounds.y0 + m.digit_h,
            VAlign::Middle => bounds.y0 + (bounds.height() + m.digit_h - m.below).div_euclid(2),
            VAlign::Bottom => bounds.y1 - m.below,
        };
        let raised = |s: u32| baseline - m.digit_h + text::digit_extent(book, &chain, s).0;
        let small_baseline = match t.small_position {
            SmallPosition::Top => raised(m.small),
            SmallPosition::Baseline => baseline,
        };
        let currency_baseline = match t.currency_align {
            None if m.csize == m.small => small_baseline,
            None => match t.small_position {
                SmallPosition::Top => raised(m.csize),
                SmallPosition::Baseline => baseline,
            },
            Some(CurrencyAlign::Top) => raised(m.csize),
            Some(CurrencyAlign::Baseline) => baseline,
        };
        let after = t
            .currency_position
            .map_or(t.currency_after, |p| p == CurrencyPosition::After);
        let ink: Ink = t.color.into();
        // The parts in drawing order, with the pen advancing over each.
        let mut order: Vec<(PriceRole, &text::Line, &str, u32, i32)> = Vec::new();
        order.push((PriceRole::Prefix, &m.pre, &texts.prefix, m.small, baseline));
        if !after {
            order.push((
                PriceRole::Currency,
                &m.cur,
                &texts.currency,
                m.csize,
                currency_baseline,
            ));
        }
        order.push((PriceRole::Integer, &m.int, &texts.integer, size, baseline));
        order.push((
            PriceRole::Fraction,
            &m.frac,
            &texts.fraction,
            m.small,
            small_baseline,
        ));
        if after {
            order.push((
                PriceRole::Currency,
                &m.cur,
                &texts.currency,
                m.csize,
                currency_baseline,
            ));
        }
        order.push((PriceRole::Suffix, &m.suf, &texts.suffix, m.small, baseline));
        let mut pen = x0 as f32;
        let mut prims = Vec::new();
        if let Some(bg) = t.background {
            prims.push(Prim::Fill {
                rect: bounds,
                ink: bg.into(),
            });
        }
        let mut shown_parts = Vec::new();
        for (role, line, part_text, part_size, base) in order {
            if role == PriceRole::Currency && after {
                pen += m.gap;
            }
            let start = pen;
            let placed: Vec<Placement> = line
                .glyphs
                .iter()
                .map(|g| (g.face, g.id, (start + g.x).round() as i32, base))
                .collect();
            prims.extend(self.glyphs(placed, part_size, ink, clip));
            pen += line.width;
            if role == PriceRole::Currency && !after {
                pen += m.gap;
            }
            if !part_text.is_empty() {
                shown_parts.push(PricePart {
                    role,
                    text: part_text.to_owned(),
                    size: part_size,
                    x: start.round() as i32,
                    baseline: base,
                });
            }
        }
        if t.strike {
            let th = text::strike_thickness(size);
            let y = baseline - m.digit_h / 2 - th / 2;
            prims.push(Prim::Fill {
                rect: Rect::new(x0 - 1, y, (w + 2) as u32, th as u32),
                ink,
            });
        }
        let content = Content::Price(PriceContent {
            parts: shown_parts,
            strike: t.strike,
        });
        self.push(path, t.id.as_ref(), bounds, clip, content, prims);
        Ok(())
    }

    /// A unit price's text; `None` when it is hidden (`on_missing: hide`).
    fn unit_price_text(
        &self,
        u: &UnitPriceElement,
        path: &str,
    ) -> Result<Option<String>, RenderError> {
        let problem = |reason: String| -> Result<Option<String>, RenderError> {
            match u.on_missing {
                OnMissing::Hide => Ok(None),
                OnMissing::Fail => Err(RenderError::UnitPrice {
                    template: self.template.name.clone(),
                    element: path.to_owned(),
                    reason,
                }),
            }
        };
        let price = match self.product.amount(&u.field) {
            Ok(Some(a)) => a,
            Ok(None) => return problem(format!("the product has no {:?}", u.field)),
            Err(e) => return problem(e.to_string()),
        };
        let quantity = match self.product.amount(&u.quantity_field) {
            Ok(Some(a)) => a,
            Ok(None) => return problem(format!("the product has no {:?}", u.quantity_field)),
            Err(e) => return problem(e.to_string()),
        };
        let unit = match self.product.text(&u.unit_field) {
            Ok(Some(v)) if !v.trim().is_empty() => v,
            Ok(_) => return problem(format!("the product has no {:?}", u.unit_field)),
            Err(e) => return problem(e.to_string()),
        };
        let (value, label) =
            match unit_price::compute(price, quantity, &unit, u.per.as_deref(), u.decimals) {
                Ok(v) => v,
                Err(reason) => {
                    return problem(format!(
                        "{} {} {unit}: {reason}",
                        u.quantity_field, quantity
                    ));
                }
            };
        let amount = esl_model::Amount::new(value, u.decimals);
        let parts = bind::money_parts(amount, u.decimals, "");
        let number = if parts.fraction.is_empty() {
            parts.integer
        } else {
            format!("{}{}{}", parts.integer, u.decimal_separator, parts.fraction)
        };
        let currency = self.currency(&u.currency, path)?;
        let price_text = match u.currency_position {
            Some(CurrencyPosition::After) if !currency.is_empty() => format!("{number} {currency}"),
            _ => format!("{currency}{number}"),
        };
        let per = u.per_label.as_deref().unwrap_or(label);
        let shown = u.text.replace("{price}", &price_text).replace("{per}", per);
        self.check_length(path, &shown)?;
        Ok(Some(shown))
    }

    fn unit_price(
        &mut self,
        u: &UnitPriceElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let Some(value) = self.unit_price_text(u, path)? else {
            return Ok(());
        };
        let style = TextStyle {
            font: &u.font,
            size: u.size,
            min_size: u.min_size.unwrap_or(u.size),
            max_lines: 1,
            line_spacing: 1.15,
            align: u.align,
            valign: u.valign,
            color: u.color,
            background: u.background,
            strike: false,
        };
        self.draw_text(&style, u.id.as_ref(), &[(value, None)], bounds, path, clip)
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
        let value = match (c.field, c.literal) {
            (Some(f), _) => match bind::format_field(self.product, f, None, 0)
                .map_err(|e| self.fail(path, e))?
            {
                Some(v) => v.trim().to_owned(),
                None => return missing(f.clone()),
            },
            (None, Some(lit)) => match bind::interpolate(lit, self.product) {
                Ok(v) => v,
                Err(BindFailure::Missing(f)) => return missing(f),
                Err(other) => return Err(self.fail(path, other)),
            },
            (None, None) => String::new(),
        };
        self.check_length(path, &value)?;
        Ok(Ok(value))
    }

    /// Resolves a code element: its value, then `encode` (which adds the element and says
    /// `Ok(Err(reason))` when it cannot), then the element's `on_error` policy.
    fn code(
        &mut self,
        c: &CodeBinding<'_>,
        id: Option<&String>,
        bounds: Rect,
        path: &str,
        clip: Rect,
        encode: impl FnOnce(&mut Self, &str) -> Result<Result<(), String>, RenderError>,
    ) -> Result<(), RenderError> {
        let value = match self.code_value(c, path)? {
            Ok(v) => v,
            Err(fallback) => return self.plain_text(&fallback, id, bounds, path, clip),
        };
        let Err(reason) = encode(self, &value)? else {
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
            self.plain_text(&shown, id, bounds, path, clip)?;
        }
        Ok(())
    }

    /// `text` fitted into `bounds` with the bundled sans font (for code fallbacks).
    fn plain_text(
        &mut self,
        text: &str,
        id: Option<&String>,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        if text.is_empty() {
            return Ok(());
        }
        let chain = self.chain(&FontList::One("sans".to_owned()), path)?;
        let size = (bounds.height().clamp(1, 16)) as u32;
        let styles = [SpanStyle {
            chain: &chain,
            size,
        }];
        let tb = TextBox {
            bounds,
            styles: &styles,
            size,
            min_size: size.min(8),
            max_lines: 2,
            line_spacing: 1.1,
            align: HAlign::Center,
            valign: VAlign::Middle,
        };
        let layout = text::layout(self.r.fonts(), &tb, &[Run { text, style: 0 }]);
        self.report_missing(path, &layout.missing);
        let clip = clip.intersect(bounds);
        let placed: Vec<Placement> = layout
            .lines
            .iter()
            .flat_map(|(line, x, baseline)| {
                line.glyphs
                    .iter()
                    .map(move |g| (g.face, g.id, x + g.x.round() as i32, *baseline))
            })
            .collect();
        let prims = self.glyphs(placed, layout.size, Ink::Black, clip);
        let content = Content::Text(TextContent {
            size: layout.size,
            lines: layout
                .lines
                .iter()
                .map(|(l, _, _)| l.text.clone())
                .collect(),
            truncated: layout.truncated.is_some(),
        });
        self.push(path, id, bounds, clip, content, prims);
        Ok(())
    }

    fn barcode(
        &mut self,
        b: &BarcodeElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let binding = CodeBinding::of_barcode(b);
        self.code(&binding, b.id.as_ref(), bounds, path, clip, |me, value| {
            me.encode_barcode(b, value, bounds, path, clip)
        })
    }

    /// Encodes and lays out a barcode; `Ok(Err(reason))` when the value cannot be encoded
    /// or the code does not fit.
    fn encode_barcode(
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
        let mut prims = vec![Prim::Fill {
            rect: Rect::new(x0, bounds.y0, width as u32, bounds.height() as u32),
            ink: Ink::White,
        }];
        let guard_h = bar_h + text_band / 2;
        for (i, (&bar, &guard)) in code.modules.iter().zip(&code.guards).enumerate() {
            if bar {
                let h = if guard && text_size > 0 {
                    guard_h
                } else {
                    bar_h
                };
                prims.push(Prim::Fill {
                    rect: Rect::new(bars_x + (i as u32 * m) as i32, bounds.y0, m, h as u32),
                    ink: Ink::Black,
                });
            }
        }
        if text_size > 0 {
            let mut missing = Vec::new();
            let mut placed: Vec<Placement> = Vec::new();
            for g in &code.text {
                let line = text::run(book, &chain, &g.text, text_size, &mut missing);
                let centre = bars_x * 2 + (g.from + g.to) * m as i32;
                let x = (centre - line.width.round() as i32).div_euclid(2);
                let baseline = bounds.y1 - (text_size as f32 * 0.22).round() as i32;
                placed.extend(
                    line.glyphs
                        .iter()
                        .map(|gl| (gl.face, gl.id, x + gl.x.round() as i32, baseline)),
                );
            }
            prims.extend(self.glyphs(placed, text_size, Ink::Black, clip));
            self.report_missing(path, &missing);
        }
        let content = Content::Barcode(BarcodeContent {
            symbology: b.symbology,
            value: value.to_owned(),
            module_px: m,
            modules: total,
        });
        self.push(path, b.id.as_ref(), bounds, clip, content, prims);
        Ok(Ok(()))
    }

    fn qrcode(
        &mut self,
        q: &QrElement,
        bounds: Rect,
        path: &str,
        clip: Rect,
    ) -> Result<(), RenderError> {
        let binding = CodeBinding::of_qr(q);
        self.code(&binding, q.id.as_ref(), bounds, path, clip, |me, value| {
            me.encode_qrcode(q, value, bounds, path, clip)
        })
    }

    /// Encodes and lays out a QR code; `Ok(Err(reason))` when the value cannot be encoded
    /// or the code does not fit.
    fn encode_qrcode(
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
        let origin = (q.quiet_zone * m) as i32;
        let prims = vec![
            Prim::Fill {
                rect: Rect::new(x0, y0, size as u32, size as u32),
                ink: Ink::White,
            },
            Prim::Modules {
                x: x0 + origin,
                y: y0 + origin,
                module: m,
                columns: code.width,
                rows: code.width,
                ink: Ink::Black,
                dark: code.dark.clone(),
            },
        ];
        let content = Content::Qr(QrContent {
            value: value.to_owned(),
            modules: code.width,
            module_px: m,
        });
        self.push(path, q.id.as_ref(), bounds, clip, content, prims);
        Ok(Ok(()))
    }

    fn image(&mut self, img: &ImageElement, bounds: Rect, path: &str, clip: Rect) {
        let Some(src) = img.decoded.and_then(|i| self.template.images.get(i)) else {
            return;
        };
        let clip = clip.intersect(bounds);
        // The visible part of the box, in box pixels: only that part is fitted and
        // quantised, so a box far larger than the panel costs no more than the panel.
        let visible = clip.intersect(self.canvas);
        let area = Rect {
            x0: visible.x0 - bounds.x0,
            y0: visible.y0 - bounds.y0,
            x1: visible.x1 - bounds.x0,
            y1: visible.y1 - bounds.y0,
        };
        if visible.is_empty() {
            let content = Content::Picture(PictureContent {
                id: crate::picture::PictureId([0; 32]),
                area: Rect::new(0, 0, 0, 0),
            });
            self.push(path, img.id.as_ref(), bounds, clip, content, Vec::new());
            return;
        }
        let prepared = src.prepare(
            bounds.width().max(1) as u32,
            bounds.height().max(1) as u32,
            area,
            img.fit,
            self.model.palette(),
            &img.quantise_options(),
        );
        let content = Content::Picture(PictureContent {
            id: prepared.id,
            area,
        });
        let prim = Prim::Picture {
            x: visible.x0,
            y: visible.y0,
            picture: prepared,
        };
        self.push(path, img.id.as_ref(), bounds, clip, content, vec![prim]);
    }
}
