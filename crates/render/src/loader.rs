//! Loading and validating templates.

use std::path::Path;
use std::sync::Arc;

use base64::Engine as _;
use esl_model::Model;
use image::RgbaImage;

use crate::error::TemplateError;
use crate::template::{
    BoxSpec, Condition, Currency, Element, FORMAT_VERSION, LayoutIndex, Padding, Rotation, Size,
    Span, TemplateSpec, TextElement, parse_spec, read_image_file,
};

use crate::limits::{
    MAX_BOX_SIDE, MAX_CONDITION_DEPTH, MAX_COORD, MAX_ELEMENTS, MAX_FONT_SIZE, MAX_GROUP_DEPTH,
    MAX_IMAGE_PIXELS, MAX_IMAGE_SIDE, MAX_LINES, MAX_SPANS, MAX_STROKE, MAX_TEMPLATE_BYTES,
    MAX_VALUE_CHARS,
};

/// A validated template, ready to render any number of products.
///
/// Loading parses the JSON (refusing unknown keys), checks every rule of the format, and
/// decodes the pictures of image elements, so rendering never reads files. A `Template` is
/// immutable, `Send + Sync`, and cheap to share through an `Arc`.
#[derive(Clone, Debug)]
pub struct Template {
    pub(crate) spec: TemplateSpec,
    pub(crate) name: String,
    pub(crate) layouts: LayoutIndex,
    pub(crate) images: Vec<Arc<crate::picture::Source>>,
    pub(crate) source_hash: [u8; 32],
}

/// A layout chosen for a model: its elements and rotation, and the JSON path of its
/// element list.
pub(crate) struct Layout<'a> {
    pub elements: &'a [Element],
    pub rotation: Rotation,
    pub path: String,
}

impl Template {
    /// Loads a template file; image `src` paths are relative to the file's folder.
    ///
    /// # Errors
    /// [`TemplateError::Read`] when the file cannot be read; otherwise as
    /// [`Template::from_json`].
    pub fn load(path: &Path) -> Result<Template, TemplateError> {
        let bytes = std::fs::read(path).map_err(|source| TemplateError::Read {
            template: path.display().to_string(),
            source,
        })?;
        Template::from_json(&bytes, &path.display().to_string(), path.parent())
    }

    /// Loads a template from JSON text. `source` names it in messages (a file name);
    /// `base_dir` is where relative image paths are looked up (none: only base64 images).
    ///
    /// ```
    /// let t = esl_render::Template::from_json(
    ///     br#"{"version": 1, "models": ["SL121"], "elements": [
    ///         {"type": "rect", "box": {"x": 0, "y": 0, "w": 10, "h": 10}, "fill": "red"}]}"#,
    ///     "example", None)?;
    /// assert_eq!(t.models(), vec![esl_model::Model::Sl121]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`TemplateError::Json`] with line, column and JSON path for malformed JSON, unknown
    /// keys or element types and wrong types; [`TemplateError::Invalid`] for content that
    /// breaks a rule (version, empty boxes, sizes, models); [`TemplateError::Image`] for a
    /// picture that cannot be read or decoded.
    pub fn from_json(
        bytes: &[u8],
        source: &str,
        base_dir: Option<&Path>,
    ) -> Result<Template, TemplateError> {
        if bytes.len() > MAX_TEMPLATE_BYTES {
            return Err(TemplateError::Invalid {
                template: source.to_owned(),
                path: "(top level)".to_owned(),
                message: format!(
                    "the template is {} bytes; at most {MAX_TEMPLATE_BYTES} are read",
                    bytes.len()
                ),
            });
        }
        let mut spec = parse_spec(bytes, source)?;
        let name = spec.name.clone().unwrap_or_else(|| source.to_owned());
        let mut v = Validator {
            template: name.clone(),
            base_dir,
            images: Vec::new(),
            depth: 0,
            count: 0,
            version: spec.version,
            in_container: false,
        };
        if !(1..=FORMAT_VERSION).contains(&spec.version) {
            return Err(v.invalid(
                "version",
                format!("format version {} is not supported; this engine reads versions 1 to {FORMAT_VERSION}", spec.version),
            ));
        }
        if spec.version < 2 && spec.hinting.is_some() {
            return Err(v.invalid(
                "hinting",
                "`hinting` needs \"version\": 2 (this template says version 1)".into(),
            ));
        }
        let mut layouts = LayoutIndex::new();
        for m in &spec.models {
            if layouts.insert(*m, 0).is_some() {
                return Err(v.invalid("models", format!("model {m} is listed twice")));
            }
        }
        for (i, var) in spec.variants.iter().enumerate() {
            if var.models.is_empty() {
                return Err(v.invalid(
                    &format!("variants[{i}].models"),
                    "a variant needs at least one model".into(),
                ));
            }
            for m in &var.models {
                if layouts.insert(*m, i + 1).is_some() {
                    return Err(v.invalid(
                        &format!("variants[{i}].models"),
                        format!("model {m} already has a layout; each model may have only one"),
                    ));
                }
            }
        }
        if layouts.is_empty() {
            return Err(v.invalid(
                "models",
                "the template serves no model: list at least one in `models` or a variant".into(),
            ));
        }
        v.count = 0;
        v.elements(&mut spec.elements, "elements")?;
        for (i, var) in spec.variants.iter_mut().enumerate() {
            v.count = 0;
            v.elements(&mut var.elements, &format!("variants[{i}].elements"))?;
        }
        let source_hash: [u8; 32] = {
            use sha2::Digest as _;
            let mut h = sha2::Sha256::new();
            h.update(b"esl-render template content v1");
            h.update((bytes.len() as u64).to_le_bytes());
            h.update(bytes);
            for picture in &v.images {
                h.update(picture.pixel_hash());
            }
            h.finalize().into()
        };
        Ok(Template {
            spec,
            name,
            layouts,
            images: v.images,
            source_hash,
        })
    }

    /// The template's name: its `name` key, or the source it was loaded from.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The models the template serves, sorted.
    #[must_use]
    pub fn models(&self) -> Vec<Model> {
        self.layouts.keys().copied().collect()
    }

    /// Whether the template serves `model`.
    #[must_use]
    pub fn supports(&self, model: Model) -> bool {
        self.layouts.contains_key(&model)
    }

    /// A stable hash of everything the template is made of: its JSON text and the decoded
    /// pixels of every picture it holds (so a picture file replaced behind the same `src`
    /// changes it, and the same pixels in another file do not). The diff stage uses it to
    /// notice an edited template or picture; a label's identity is its
    /// [`Scene::fingerprint`](crate::Scene::fingerprint).
    #[must_use]
    pub fn content_hash(&self) -> [u8; 32] {
        self.source_hash
    }

    /// Every product field the template reads, in any layout, element, text placeholder or
    /// condition. A label's picture depends on these fields only (and on the template, the
    /// model, the fonts and [`crate::RENDER_VERSION`]), so a change to any other field
    /// cannot change it.
    ///
    /// ```
    /// let t = esl_render::Template::from_json(br#"{"version": 1, "models": ["SL121"], "elements": [
    ///     {"type": "text", "box": {"x": 0, "y": 0, "w": 9, "h": 9}, "text": "{spec}/{unit}", "size": 8,
    ///      "when": {"compare": {"field": "promote_price", "op": "lt", "other": "price"}}}]}"#, "t", None)?;
    /// assert_eq!(t.fields_read().into_iter().collect::<Vec<_>>(), ["price", "promote_price", "spec", "unit"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn fields_read(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::new();
        collect_fields(&self.spec.elements, &mut out);
        for v in &self.spec.variants {
            collect_fields(&v.elements, &mut out);
        }
        out
    }

    /// The parsed template, as written.
    #[must_use]
    pub fn spec(&self) -> &TemplateSpec {
        &self.spec
    }

    pub(crate) fn layout(&self, model: Model) -> Option<Layout<'_>> {
        let &i = self.layouts.get(&model)?;
        Some(if i == 0 {
            Layout {
                elements: &self.spec.elements,
                rotation: self.spec.rotation,
                path: "elements".to_owned(),
            }
        } else {
            let var = &self.spec.variants[i - 1];
            Layout {
                elements: &var.elements,
                rotation: var.rotation.unwrap_or(self.spec.rotation),
                path: format!("variants[{}].elements", i - 1),
            }
        })
    }
}

fn collect_condition(c: &Condition, out: &mut std::collections::BTreeSet<String>) {
    match c {
        Condition::Present(f) | Condition::Absent(f) => {
            out.insert(f.clone());
        }
        Condition::Compare(cmp) => {
            out.insert(cmp.field.clone());
            if let Some(o) = &cmp.other {
                out.insert(o.clone());
            }
        }
        Condition::All(cs) | Condition::Any(cs) => {
            cs.iter().for_each(|c| collect_condition(c, out))
        }
        Condition::Not(c) => collect_condition(c, out),
        Condition::Models(_) => {}
    }
}

fn code_fields(
    field: Option<&String>,
    value: Option<&String>,
    out: &mut std::collections::BTreeSet<String>,
) {
    if let Some(f) = field {
        out.insert(f.clone());
    }
    if let Some(v) = value {
        out.extend(crate::bind::placeholders(v));
    }
}

fn collect_fields(elements: &[Element], out: &mut std::collections::BTreeSet<String>) {
    for el in elements {
        let when = match el {
            Element::Text(t) => {
                if let Some(f) = &t.field {
                    out.insert(f.clone());
                }
                if let Some(lit) = &t.text {
                    out.extend(crate::bind::placeholders(lit));
                }
                for span in t.spans.iter().flatten() {
                    if let Some(f) = &span.field {
                        out.insert(f.clone());
                    }
                    if let Some(lit) = &span.text {
                        out.extend(crate::bind::placeholders(lit));
                    }
                }
                &t.when
            }
            Element::Price(p) => {
                out.insert(p.field.clone());
                if let Currency::Field { field, .. } = &p.currency {
                    out.insert(field.clone());
                }
                for lit in [&p.prefix, &p.suffix].into_iter().flatten() {
                    out.extend(crate::bind::placeholders(lit));
                }
                &p.when
            }
            Element::Rect(r) => {
                collect_fields(&r.children, out);
                &r.when
            }
            Element::Line(l) => &l.when,
            Element::Ellipse(e) => &e.when,
            Element::Image(i) => &i.when,
            Element::Group(g) => {
                collect_fields(&g.elements, out);
                &g.when
            }
            Element::Barcode(b) => {
                code_fields(b.field.as_ref(), b.value.as_ref(), out);
                &b.when
            }
            Element::Qrcode(q) => {
                code_fields(q.field.as_ref(), q.value.as_ref(), out);
                &q.when
            }
            Element::Row(c) | Element::Column(c) | Element::Stack(c) => {
                collect_fields(&c.children, out);
                &c.when
            }
            Element::UnitPrice(u) => {
                out.extend([
                    u.field.clone(),
                    u.quantity_field.clone(),
                    u.unit_field.clone(),
                ]);
                if let Currency::Field { field, .. } = &u.currency {
                    out.insert(field.clone());
                }
                &u.when
            }
        };
        if let Some(c) = when {
            collect_condition(c, out);
        }
    }
}

struct Validator<'a> {
    template: String,
    base_dir: Option<&'a Path>,
    images: Vec<Arc<crate::picture::Source>>,
    /// Group nesting of the elements being checked.
    depth: usize,
    /// The template's format version.
    version: u32,
    /// Whether the elements being checked are laid out by a container.
    in_container: bool,
    /// Elements of the layout checked so far.
    count: usize,
}

impl Validator<'_> {
    fn invalid(&self, path: &str, message: String) -> TemplateError {
        TemplateError::Invalid {
            template: self.template.clone(),
            path: path.to_owned(),
            message,
        }
    }

    fn check_box(&self, path: &str, b: &Option<BoxSpec>) -> Result<(), TemplateError> {
        let Some(b) = b else { return Ok(()) };
        let (w, h) = (b.w, b.h);
        if b.x.unsigned_abs() > MAX_COORD.unsigned_abs()
            || b.y.unsigned_abs() > MAX_COORD.unsigned_abs()
        {
            return Err(self.invalid(
                &format!("{path}.box"),
                format!("a box's x and y must lie within ±{MAX_COORD} pixels"),
            ));
        }
        if w == 0 || h == 0 {
            return Err(self.invalid(
                &format!("{path}.box"),
                "a box needs a width and height of at least 1".into(),
            ));
        }
        if w > MAX_BOX_SIDE || h > MAX_BOX_SIDE {
            return Err(self.invalid(
                &format!("{path}.box"),
                format!("a box may be at most {MAX_BOX_SIDE} pixels wide and high"),
            ));
        }
        Ok(())
    }

    fn check_size(&self, path: &str, size: u32, min: Option<u32>) -> Result<(), TemplateError> {
        if !(1..=MAX_FONT_SIZE).contains(&size) {
            return Err(self.invalid(
                &format!("{path}.size"),
                format!("font size {size} is outside 1..={MAX_FONT_SIZE}"),
            ));
        }
        if let Some(m) = min {
            if m == 0 || m > size {
                return Err(self.invalid(
                    &format!("{path}.min_size"),
                    format!("min_size {m} must be between 1 and size {size}"),
                ));
            }
        }
        Ok(())
    }

    fn check_spans(&self, p: &str, t: &TextElement, spans: &[Span]) -> Result<(), TemplateError> {
        if spans.is_empty() || spans.len() > MAX_SPANS {
            return Err(self.invalid(
                &format!("{p}.spans"),
                format!("give between 1 and {MAX_SPANS} spans"),
            ));
        }
        for (key, given) in [
            ("prefix", !t.prefix.is_empty()),
            ("suffix", !t.suffix.is_empty()),
            ("format", t.format.is_some()),
        ] {
            if given {
                return Err(self.invalid(
                    &format!("{p}.{key}"),
                    format!("a text with `spans` takes no `{key}`; give it to a span"),
                ));
            }
        }
        for (i, span) in spans.iter().enumerate() {
            let sp = format!("{p}.spans[{i}]");
            if span.field.is_some() == span.text.is_some() {
                return Err(
                    self.invalid(&sp, "a span needs exactly one of `field` and `text`".into())
                );
            }
            if span.text.is_some() && span.format.is_some() {
                return Err(self.invalid(
                    &format!("{sp}.format"),
                    "`format` applies to a span's `field`, not to a literal `text`".into(),
                ));
            }
            if let Some(size) = span.size {
                self.check_size(&sp, size, None)?;
            }
            if span.font.as_ref().is_some_and(|f| f.names().is_empty()) {
                return Err(self.invalid(&format!("{sp}.font"), "name at least one font".into()));
            }
            for (key, text) in [
                ("text", span.text.as_deref()),
                ("fallback", span.fallback.as_deref()),
            ] {
                self.check_literal(&sp, key, text)?;
            }
        }
        Ok(())
    }

    fn check_stroke(&self, path: &str, key: &str, v: u32) -> Result<(), TemplateError> {
        if v > MAX_STROKE {
            return Err(self.invalid(
                &format!("{path}.{key}"),
                format!("{key} {v} is more than {MAX_STROKE} pixels"),
            ));
        }
        Ok(())
    }

    fn check_literal(
        &self,
        path: &str,
        key: &str,
        text: Option<&str>,
    ) -> Result<(), TemplateError> {
        let chars = text.map_or(0, |t| t.chars().count());
        if chars > MAX_VALUE_CHARS {
            return Err(self.invalid(
                &format!("{path}.{key}"),
                format!("{chars} characters; at most {MAX_VALUE_CHARS}"),
            ));
        }
        Ok(())
    }

    fn check_condition(&self, path: &str, c: &Condition) -> Result<(), TemplateError> {
        self.check_condition_at(path, c, 0)
    }

    fn check_condition_at(
        &self,
        path: &str,
        c: &Condition,
        depth: usize,
    ) -> Result<(), TemplateError> {
        if depth >= MAX_CONDITION_DEPTH {
            return Err(self.invalid(
                path,
                format!("conditions may be nested at most {MAX_CONDITION_DEPTH} deep"),
            ));
        }
        match c {
            Condition::Compare(cmp) => {
                if cmp.other.is_some() == cmp.value.is_some() {
                    return Err(self.invalid(
                        &format!("{path}.compare"),
                        "compare needs exactly one of `other` and `value`".into(),
                    ));
                }
            }
            Condition::All(cs) | Condition::Any(cs) => {
                for (i, c) in cs.iter().enumerate() {
                    self.check_condition_at(&format!("{path}[{i}]"), c, depth + 1)?;
                }
            }
            Condition::Not(c) => self.check_condition_at(&format!("{path}.not"), c, depth + 1)?,
            Condition::Present(_) | Condition::Absent(_) | Condition::Models(_) => {}
        }
        Ok(())
    }

    /// Where an element is placed: by `box` outside containers, by `width`/`height` inside.
    fn check_placement(&self, p: &str, el: &Element) -> Result<(), TemplateError> {
        let (bounds, width, height) = el.geometry();
        if self.in_container {
            if matches!(el, Element::Line(_)) {
                return Err(self.invalid(
                    p,
                    "a line cannot be laid out by a row, column or stack: put it in a group".into(),
                ));
            }
            if bounds.is_some() {
                return Err(self.invalid(
                    &format!("{p}.box"),
                    "inside a row, column, stack or rect, an element is sized by `width` and `height`, not placed by `box`".into(),
                ));
            }
        } else if !matches!(el, Element::Line(_)) {
            if bounds.is_none() {
                return Err(self.invalid(
                    p,
                    format!(
                        "a {} needs a `box` (outside a row, column or stack)",
                        el.kind()
                    ),
                ));
            }
            if width.is_some() || height.is_some() {
                return Err(self.invalid(
                    p,
                    "`width` and `height` size elements inside a row, column, stack or rect; here use `box`".into(),
                ));
            }
        }
        for (key, size) in [("width", width), ("height", height)] {
            match size {
                Some(Size::Px(v)) if v > MAX_BOX_SIDE => {
                    return Err(self.invalid(
                        &format!("{p}.{key}"),
                        format!("{key} {v} is more than {MAX_BOX_SIDE} pixels"),
                    ));
                }
                Some(Size::Fill(w)) if w > 1000 => {
                    return Err(self.invalid(
                        &format!("{p}.{key}"),
                        "a fill weight is at most 1000".into(),
                    ));
                }
                _ => {}
            }
        }
        if self.version < 2 {
            let v2 = match el {
                Element::Row(_)
                | Element::Column(_)
                | Element::Stack(_)
                | Element::UnitPrice(_) => Some("this element type"),
                Element::Rect(r) if !r.children.is_empty() || r.padding != Padding::default() => {
                    Some("`children` and `padding`")
                }
                Element::Group(g) if g.padding != Padding::default() => Some("`padding`"),
                Element::Text(t) if t.spans.is_some() => Some("`spans`"),
                _ if el.hinting().is_some() => Some("`hinting`"),
                Element::Price(t)
                    if t.currency_position.is_some()
                        || t.currency_align.is_some()
                        || t.currency_size.is_some()
                        || t.prefix.is_some()
                        || t.suffix.is_some()
                        || matches!(t.currency, Currency::Field { .. }) =>
                {
                    Some(
                        "`currency` from a field, `currency_position`, `currency_align`, `currency_size`, `prefix` and `suffix`",
                    )
                }
                _ => None,
            };
            if let Some(what) = v2 {
                return Err(self.invalid(
                    p,
                    format!("{what} needs \"version\": 2 (this template says version 1)"),
                ));
            }
        }
        Ok(())
    }

    fn check_padding(&self, p: &str, pad: &Padding, gap: u32) -> Result<(), TemplateError> {
        let big = [pad.top, pad.right, pad.bottom, pad.left, gap]
            .into_iter()
            .any(|v| v > MAX_BOX_SIDE);
        if big {
            return Err(self.invalid(
                p,
                format!("padding and gap are at most {MAX_BOX_SIDE} pixels"),
            ));
        }
        Ok(())
    }

    /// Checks children one level deeper: `in_container` says how they are placed.
    fn nested(
        &mut self,
        elements: &mut [Element],
        path: &str,
        in_container: bool,
    ) -> Result<(), TemplateError> {
        if self.depth >= MAX_GROUP_DEPTH {
            return Err(self.invalid(
                path,
                format!("groups and containers may be nested at most {MAX_GROUP_DEPTH} deep"),
            ));
        }
        let outer = self.in_container;
        self.depth += 1;
        self.in_container = in_container;
        let result = self.elements(elements, path);
        self.depth -= 1;
        self.in_container = outer;
        result
    }

    fn elements(&mut self, elements: &mut [Element], path: &str) -> Result<(), TemplateError> {
        for (i, el) in elements.iter_mut().enumerate() {
            let p = format!("{path}[{i}]");
            self.count += 1;
            if self.count > MAX_ELEMENTS {
                return Err(self.invalid(
                    &p,
                    format!("a layout may hold at most {MAX_ELEMENTS} elements, groups' included"),
                ));
            }
            self.check_placement(&p, el)?;
            match el {
                Element::Text(t) => {
                    self.check_box(&p, &t.bounds)?;
                    self.check_size(&p, t.size, t.min_size)?;
                    let sources = [t.field.is_some(), t.text.is_some(), t.spans.is_some()];
                    if sources.iter().filter(|&&s| s).count() != 1 {
                        return Err(self.invalid(
                            &p,
                            "a text element needs exactly one of `field`, `text` and `spans`"
                                .into(),
                        ));
                    }
                    if let Some(spans) = &t.spans {
                        self.check_spans(&p, t, spans)?;
                    }
                    if t.max_lines == 0 || t.max_lines > MAX_LINES {
                        return Err(self.invalid(
                            &format!("{p}.max_lines"),
                            format!("max_lines must be between 1 and {MAX_LINES}"),
                        ));
                    }
                    for (key, text) in [
                        ("text", t.text.as_deref()),
                        ("prefix", Some(t.prefix.as_str())),
                        ("suffix", Some(t.suffix.as_str())),
                        ("fallback", t.fallback.as_deref()),
                    ] {
                        self.check_literal(&p, key, text)?;
                    }
                    if !(t.line_spacing.is_finite() && (0.5..=5.0).contains(&t.line_spacing)) {
                        return Err(self.invalid(
                            &format!("{p}.line_spacing"),
                            "line_spacing must be between 0.5 and 5".into(),
                        ));
                    }
                    if t.font.names().is_empty() {
                        return Err(
                            self.invalid(&format!("{p}.font"), "name at least one font".into())
                        );
                    }
                    if let Some(c) = &t.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Price(t) => {
                    self.check_box(&p, &t.bounds)?;
                    let currency = match &t.currency {
                        Currency::Literal(c) => c.as_str(),
                        Currency::Field { fallback, .. } => fallback.as_str(),
                    };
                    for (key, text) in [
                        ("fallback", t.fallback.as_deref()),
                        ("currency", Some(currency)),
                        ("prefix", t.prefix.as_deref()),
                        ("suffix", t.suffix.as_deref()),
                    ] {
                        self.check_literal(&p, key, text)?;
                    }
                    if t.currency_after && t.currency_position.is_some() {
                        return Err(self.invalid(
                            &format!("{p}.currency_position"),
                            "give `currency_position` or the version-1 `currency_after`, not both"
                                .into(),
                        ));
                    }
                    if let Some(s) = t.currency_size {
                        self.check_size(&format!("{p}.currency"), s, None)?;
                    }
                    self.check_size(&p, t.size, t.min_size)?;
                    if let Some(s) = t.small_size {
                        if s == 0 || s > t.size {
                            return Err(self.invalid(
                                &format!("{p}.small_size"),
                                format!("small_size {s} must be between 1 and size {}", t.size),
                            ));
                        }
                    }
                    if t.decimals > 6 {
                        return Err(
                            self.invalid(&format!("{p}.decimals"), "at most 6 decimals".into())
                        );
                    }
                    if t.font.names().is_empty() {
                        return Err(
                            self.invalid(&format!("{p}.font"), "name at least one font".into())
                        );
                    }
                    if let Some(c) = &t.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Rect(r) => {
                    self.check_box(&p, &r.bounds)?;
                    self.check_stroke(&p, "stroke", r.stroke)?;
                    self.check_stroke(&p, "radius", r.radius)?;
                    self.check_padding(&format!("{p}.padding"), &r.padding, 0)?;
                    self.nested(&mut r.children, &format!("{p}.children"), true)?;
                    if let Some(c) = &r.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Ellipse(r) => {
                    self.check_box(&p, &r.bounds)?;
                    self.check_stroke(&p, "stroke", r.stroke)?;
                    if let Some(c) = &r.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Line(l) => {
                    if l.width == 0 || l.width > MAX_STROKE {
                        return Err(self.invalid(
                            &format!("{p}.width"),
                            format!("line width must be between 1 and {MAX_STROKE}"),
                        ));
                    }
                    for (key, pt) in [("from", l.from), ("to", l.to)] {
                        if pt.x.unsigned_abs() > MAX_COORD.unsigned_abs()
                            || pt.y.unsigned_abs() > MAX_COORD.unsigned_abs()
                        {
                            return Err(self.invalid(
                                &format!("{p}.{key}"),
                                format!("a point's x and y must lie within ±{MAX_COORD} pixels"),
                            ));
                        }
                    }
                    if let Some(c) = &l.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Image(img) => {
                    self.check_box(&p, &img.bounds)?;
                    if let Some(c) = &img.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                    let (label, bytes) = match (&img.src, &img.data) {
                        (Some(src), None) => {
                            let label = src.display().to_string();
                            let bytes = read_image_file(self.base_dir, src)
                                .map_err(|e| self.image_err(&p, &label, e.to_string()))?;
                            (label, bytes)
                        }
                        (None, Some(data)) => {
                            let b64 = data
                                .split_once(',')
                                .filter(|_| data.starts_with("data:"))
                                .map_or(data.as_str(), |(_, d)| d);
                            let bytes = base64::engine::general_purpose::STANDARD
                                .decode(b64.trim())
                                .map_err(|e| {
                                    self.image_err(&p, "data", format!("not valid base64: {e}"))
                                })?;
                            ("data".to_owned(), bytes)
                        }
                        _ => {
                            return Err(self.invalid(
                                &p,
                                "an image element needs exactly one of `src` and `data`".into(),
                            ));
                        }
                    };
                    let decoded =
                        decode_image(&bytes).map_err(|m| self.image_err(&p, &label, m))?;
                    img.decoded = Some(self.images.len());
                    self.images
                        .push(Arc::new(crate::picture::Source::new(decoded)));
                }
                Element::Barcode(b) => {
                    self.check_box(&p, &b.bounds)?;
                    for (key, text) in [
                        ("value", b.value.as_deref()),
                        ("fallback", b.fallback.as_deref()),
                        ("error_text", b.error_text.as_deref()),
                    ] {
                        self.check_literal(&p, key, text)?;
                    }
                    if b.field.is_some() == b.value.is_some() {
                        return Err(self.invalid(
                            &p,
                            "a barcode needs exactly one of `field` and `value`".into(),
                        ));
                    }
                    if let Some(s) = b.text_size {
                        self.check_size(&p, s, None)?;
                    }
                    if let Some(c) = &b.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Qrcode(q) => {
                    self.check_box(&p, &q.bounds)?;
                    for (key, text) in [
                        ("value", q.value.as_deref()),
                        ("fallback", q.fallback.as_deref()),
                        ("error_text", q.error_text.as_deref()),
                    ] {
                        self.check_literal(&p, key, text)?;
                    }
                    if q.field.is_some() == q.value.is_some() {
                        return Err(self.invalid(
                            &p,
                            "a QR code needs exactly one of `field` and `value`".into(),
                        ));
                    }
                    if !matches!(q.quiet_zone, 2 | 4) {
                        return Err(self.invalid(
                            &format!("{p}.quiet_zone"),
                            format!("quiet zone {} modules: use 4 (standard) or 2", q.quiet_zone),
                        ));
                    }
                    if let Some(c) = &q.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
                Element::Group(g) => {
                    self.check_box(&p, &g.bounds)?;
                    self.check_padding(&format!("{p}.padding"), &g.padding, 0)?;
                    if let Some(c) = &g.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                    self.nested(&mut g.elements, &format!("{p}.elements"), false)?;
                }
                Element::Row(c) | Element::Column(c) | Element::Stack(c) => {
                    self.check_box(&p, &c.bounds)?;
                    self.check_padding(&p, &c.padding, c.gap)?;
                    if let Some(w) = &c.when {
                        self.check_condition(&format!("{p}.when"), w)?;
                    }
                    self.nested(&mut c.children, &format!("{p}.children"), true)?;
                }
                Element::UnitPrice(u) => {
                    self.check_box(&p, &u.bounds)?;
                    self.check_size(&p, u.size, u.min_size)?;
                    if u.decimals > 6 {
                        return Err(
                            self.invalid(&format!("{p}.decimals"), "at most 6 decimals".into())
                        );
                    }
                    if let Some(per) = &u.per {
                        if crate::unit_price::Reference::parse(per).is_none() {
                            return Err(self.invalid(
                                &format!("{p}.per"),
                                format!("per {per:?} is not one of 1kg, 100g, 1l, 100ml, 1pc"),
                            ));
                        }
                    }
                    for (key, text) in [
                        ("text", Some(u.text.as_str())),
                        ("per_label", u.per_label.as_deref()),
                    ] {
                        self.check_literal(&p, key, text)?;
                    }
                    if u.font.names().is_empty() {
                        return Err(
                            self.invalid(&format!("{p}.font"), "name at least one font".into())
                        );
                    }
                    if let Some(c) = &u.when {
                        self.check_condition(&format!("{p}.when"), c)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn image_err(&self, path: &str, image: &str, message: String) -> TemplateError {
        TemplateError::Image {
            template: self.template.clone(),
            path: path.to_owned(),
            image: image.to_owned(),
            message,
        }
    }
}

/// Decodes PNG or JPEG bytes, refusing pictures larger than [`MAX_IMAGE_SIDE`].
fn decode_image(bytes: &[u8]) -> Result<RgbaImage, String> {
    let reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    match reader.format() {
        Some(image::ImageFormat::Png | image::ImageFormat::Jpeg) => {}
        Some(other) => {
            return Err(format!(
                "{other:?} pictures are not supported; use PNG or JPEG"
            ));
        }
        None => return Err("not a PNG or JPEG picture".to_owned()),
    }
    let (w, h) = reader.into_dimensions().map_err(|e| e.to_string())?;
    if w > MAX_IMAGE_SIDE || h > MAX_IMAGE_SIDE {
        return Err(format!(
            "{w}×{h} pixels is too large; at most {MAX_IMAGE_SIDE} per side"
        ));
    }
    if u64::from(w) * u64::from(h) > MAX_IMAGE_PIXELS {
        return Err(format!(
            "{w}×{h} pixels is too large; at most {MAX_IMAGE_PIXELS} pixels"
        ));
    }
    // The decoder is held to what the checked size needs (RGBA plus its own buffers), so a
    // file that lies about its size cannot make it allocate more.
    let mut reader = image::ImageReader::new(std::io::Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    let mut limits = image::Limits::default();
    limits.max_image_width = Some(MAX_IMAGE_SIDE);
    limits.max_image_height = Some(MAX_IMAGE_SIDE);
    limits.max_alloc = Some(MAX_IMAGE_PIXELS * 4 * 3);
    reader.limits(limits);
    let img = reader.decode().map_err(|e| e.to_string())?;
    Ok(img.to_rgba8())
}
