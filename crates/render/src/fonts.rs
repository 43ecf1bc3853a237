//! The font book: named fonts, loaded once and shared across threads.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use ab_glyph::{Font, FontArc, FontRef, FontVec, GlyphId, PxScale};

/// A font that cannot be added to the book.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FontError {
    /// The file cannot be read.
    #[error("cannot read font file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The bytes are not a TrueType/OpenType font ab_glyph can use.
    #[error("font {name:?} is not a usable TrueType/OpenType font: {message}")]
    Parse {
        /// The font's name in the book.
        name: String,
        /// The parser's message.
        message: String,
    },
}

/// One face of the book, with the metrics the layout needs.
#[derive(Clone, Debug)]
pub(crate) struct Face {
    pub(crate) name: String,
    pub(crate) font: FontArc,
    /// Units per em.
    upem: f32,
    /// `ascent - descent` in font units (ab_glyph's unit for `PxScale`).
    height_units: f32,
    /// Ascender as a fraction of `ascender + |descender|`: where the baseline sits in the
    /// em box.
    pub(crate) baseline_ratio: f32,
    /// A stable hash of the font bytes.
    fingerprint: u64,
    /// SHA-256 of the font file: a scene's fingerprint names its fonts by it.
    pub(crate) content_hash: [u8; 32],
    /// The face's glyph bitmaps, shared by every clone of the book and every thread.
    pub(crate) glyphs: Arc<crate::text::GlyphCache>,
    /// The font file, for the hinter.
    pub(crate) data: FontData,
    /// Hinting instances by pixel size, shared by every label drawn with this face.
    pub(crate) hinters: Arc<crate::hint::Hinters>,
    /// The weight class (OS/2 `usWeightClass`; 400 when the font has no OS/2 table).
    weight: f32,
    /// The font's GPOS kerning, when it has a GPOS `kern` feature (else its legacy `kern`
    /// table is read).
    pub(crate) gpos_kern: Option<Arc<crate::kern::GposKern>>,
    /// Whether this is the synthetic-bold twin of a face (see [`Face::synthetic_bold`]):
    /// its glyphs are emboldened by [`Face::embolden`] pixels.
    pub(crate) emboldened: bool,
}

/// A font file's bytes: bundled (static) or read at run time.
#[derive(Clone)]
pub(crate) enum FontData {
    Static(&'static [u8]),
    Owned(Arc<[u8]>),
}

impl FontData {
    pub(crate) fn bytes(&self) -> &[u8] {
        match self {
            FontData::Static(b) => b,
            FontData::Owned(b) => b,
        }
    }
}

impl std::fmt::Debug for FontData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "FontData({} bytes)", self.bytes().len())
    }
}

impl Face {
    fn new(name: &str, font: FontArc, data: FontData) -> Result<Face, FontError> {
        let bytes = data.bytes();
        let upem = font.units_per_em().ok_or_else(|| FontError::Parse {
            name: name.to_owned(),
            message: "no units-per-em".to_owned(),
        })?;
        let ascent = font.ascent_unscaled();
        let descent = font.descent_unscaled();
        let height_units = ascent - descent;
        if !(height_units > 0.0 && upem > 0.0) {
            return Err(FontError::Parse {
                name: name.to_owned(),
                message: "ascender and descender give no height".to_owned(),
            });
        }
        Ok(Face {
            name: name.to_owned(),
            font,
            upem,
            height_units,
            baseline_ratio: ascent / height_units,
            fingerprint: fnv1a(bytes),
            content_hash: {
                use sha2::Digest as _;
                sha2::Sha256::digest(bytes).into()
            },
            glyphs: Arc::default(),
            hinters: Arc::default(),
            weight: skrifa::FontRef::new(bytes)
                .map(|f| {
                    use skrifa::MetadataProvider as _;
                    f.attributes().weight.value()
                })
                .unwrap_or(400.0),
            emboldened: false,
            gpos_kern: crate::kern::GposKern::of(bytes).map(Arc::new),
            data,
        })
    }

    /// Whether the face is bold (weight class 600 or more).
    pub(crate) fn is_bold(&self) -> bool {
        self.weight >= 600.0
    }

    /// The face's synthetic-bold twin: the same font whose glyphs are emboldened, for the
    /// characters a bold face lacks and a regular fallback draws (Chinese in `sans-bold`).
    /// Its own glyph cache, and its own content hash (SHA-256 of the file's hash followed by
    /// `synthetic bold`), so a scene tells the two apart.
    fn synthetic_bold(&self) -> Face {
        use sha2::Digest as _;
        let mut hash = sha2::Sha256::new();
        hash.update(self.content_hash);
        hash.update(b"synthetic bold");
        Face {
            name: format!("{} (synthetic bold)", self.name),
            content_hash: hash.finalize().into(),
            glyphs: Arc::default(),
            emboldened: true,
            ..self.clone()
        }
    }

    /// How far a synthetic-bold glyph at em size `size` is emboldened, in whole pixels:
    /// rightwards and upwards (the baseline stays). As FreeType's `FT_GlyphSlot_Embolden`
    /// does for bitmaps: one twenty-fourth of the em, rounded, at least one pixel across
    /// (stems one pixel wider at label sizes), and rounded down upwards (no taller below
    /// 24 px, where a taller horizontal stroke would close the counters of dense hanzi).
    /// The advance grows by the width added.
    pub(crate) fn embolden(&self, size: u32) -> (u32, u32) {
        if self.emboldened {
            (((size + 12) / 24).max(1), size / 24)
        } else {
            (0, 0)
        }
    }

    /// The ab_glyph scale for an em size of `size` pixels.
    pub(crate) fn scale(&self, size: f32) -> PxScale {
        PxScale::from(size * self.height_units / self.upem)
    }

    /// Advance width of a glyph at an em size, in pixels (with the width a synthetic bold
    /// adds).
    pub(crate) fn advance(&self, id: GlyphId, size: u32) -> f32 {
        self.font.h_advance_unscaled(id) * size as f32 / self.upem + self.embolden(size).0 as f32
    }

    /// Kerning between two glyphs at an em size, in pixels: from GPOS where the font has a
    /// `kern` feature there (as a shaper would), else from its legacy `kern` table.
    pub(crate) fn kern(&self, a: GlyphId, b: GlyphId, size: f32) -> f32 {
        let units = match &self.gpos_kern {
            Some(k) => k.pair(self.data.bytes(), a.0, b.0) as f32,
            None => self.font.kern_unscaled(a, b),
        };
        units * size / self.upem
    }

    /// The glyph for `c`, or `None` when the font lacks it.
    pub(crate) fn glyph(&self, c: char) -> Option<GlyphId> {
        let id = self.font.glyph_id(c);
        (id.0 != 0).then_some(id)
    }
}

/// 64-bit FNV-1a: a small, stable, dependency-free hash for fingerprints.
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Named fonts, with a default fallback chain.
///
/// Built once and shared: it is `Send + Sync`, and cloning it is cheap (the font data is
/// reference-counted). Templates name fonts (`"sans"`, `"sans-bold"`, `"cjk"`, …); for each
/// character, the element's fonts are tried in order, then the template's
/// `fallback_fonts`, then the book's default fallback.
///
/// ```
/// # #[cfg(feature = "embedded-fonts")] {
/// let book = esl_render::FontBook::bundled();
/// assert!(book.names().any(|n| n == "cjk"));
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct FontBook {
    /// Each font added, followed by its synthetic-bold twin ([`Face::synthetic_bold`]).
    faces: Vec<Arc<Face>>,
    by_name: BTreeMap<String, usize>,
    fallback: Vec<usize>,
}

/// The fonts built into the library: (name in the book, file in `fonts/`, bytes).
#[cfg(feature = "embedded-fonts")]
const BUNDLED: &[(&str, &str, &[u8])] = &[
    (
        "sans",
        "NotoSans-Regular.ttf",
        include_bytes!("../../../fonts/NotoSans-Regular.ttf"),
    ),
    (
        "sans-bold",
        "NotoSans-Bold.ttf",
        include_bytes!("../../../fonts/NotoSans-Bold.ttf"),
    ),
    (
        "sans-condensed-bold",
        "NotoSans-CondensedBold.ttf",
        include_bytes!("../../../fonts/NotoSans-CondensedBold.ttf"),
    ),
    (
        "pixel16",
        "EslPixel16-GB2312.otf",
        include_bytes!("../../../fonts/EslPixel16-GB2312.otf"),
    ),
    (
        "cjk",
        "WenQuanYiMicroHei-GB2312.ttf",
        include_bytes!("../../../fonts/WenQuanYiMicroHei-GB2312.ttf"),
    ),
];

impl FontBook {
    /// An empty book.
    #[must_use]
    pub fn new() -> FontBook {
        FontBook::default()
    }

    /// The fonts bundled in `fonts/`, built into the library, with `cjk` as the default
    /// fallback. See `fonts/README.md` for what each one is and its licence.
    #[cfg(feature = "embedded-fonts")]
    #[must_use]
    pub fn bundled() -> FontBook {
        let mut book = FontBook::new();
        for (name, _file, bytes) in BUNDLED {
            // The bundled files are checked by this crate's tests; a font that failed to
            // parse would simply be absent from the book and reported as unknown on use.
            let _ = book.add_static(name, bytes);
        }
        book.set_fallback(&["cjk"]);
        book
    }

    /// Adds a font from static bytes (no copy), replacing any font of that name.
    ///
    /// # Errors
    /// [`FontError::Parse`] when the bytes are not a usable font.
    pub fn add_static(&mut self, name: &str, bytes: &'static [u8]) -> Result<(), FontError> {
        let font = FontRef::try_from_slice(bytes).map_err(|e| FontError::Parse {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        self.insert(Face::new(
            name,
            FontArc::new(font),
            FontData::Static(bytes),
        )?);
        Ok(())
    }

    /// Adds a font from owned bytes, replacing any font of that name.
    ///
    /// # Errors
    /// [`FontError::Parse`] when the bytes are not a usable font.
    pub fn add_bytes(&mut self, name: &str, bytes: Vec<u8>) -> Result<(), FontError> {
        let data: Arc<[u8]> = Arc::from(bytes.as_slice());
        let font = FontVec::try_from_vec(bytes).map_err(|e| FontError::Parse {
            name: name.to_owned(),
            message: e.to_string(),
        })?;
        self.insert(Face::new(name, FontArc::new(font), FontData::Owned(data))?);
        Ok(())
    }

    /// Adds a font file under `name`.
    ///
    /// # Errors
    /// [`FontError::Read`] when the file cannot be read, [`FontError::Parse`] when it is
    /// not a usable font.
    pub fn add_file(&mut self, name: &str, path: &Path) -> Result<(), FontError> {
        let bytes = std::fs::read(path).map_err(|source| FontError::Read {
            path: path.display().to_string(),
            source,
        })?;
        self.add_bytes(name, bytes)
    }

    /// Sets the default fallback chain; unknown names are ignored.
    pub fn set_fallback(&mut self, names: &[&str]) {
        self.fallback = names
            .iter()
            .filter_map(|n| self.by_name.get(*n).copied())
            .collect();
    }

    /// The font names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// A stable hash of every font (name and bytes) in the book and the fallback chain;
    /// part of a label's fingerprint.
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        let mut bytes = Vec::new();
        for (name, &i) in &self.by_name {
            bytes.extend_from_slice(name.as_bytes());
            bytes.push(0);
            bytes.extend_from_slice(&self.faces[i].fingerprint.to_le_bytes());
        }
        for &i in &self.fallback {
            bytes.extend_from_slice(self.faces[i].name.as_bytes());
            bytes.push(0);
        }
        fnv1a(&bytes)
    }

    fn insert(&mut self, face: Face) {
        let twin = Arc::new(face.synthetic_bold());
        match self.by_name.get(&face.name) {
            Some(&i) => {
                self.faces[i] = Arc::new(face);
                self.faces[i + 1] = twin;
            }
            None => {
                self.by_name.insert(face.name.clone(), self.faces.len());
                self.faces.push(Arc::new(face));
                self.faces.push(twin);
            }
        }
    }

    /// The face to draw a character with when `chosen` has it and the text is set in
    /// `primary` (the first face of its chain): `chosen`'s synthetic-bold twin when
    /// `primary` is bold and `chosen` is not, else `chosen`.
    pub(crate) fn styled(&self, primary: usize, chosen: usize) -> usize {
        let bold = |i: usize| {
            self.faces
                .get(i)
                .is_some_and(|f| f.is_bold() || f.emboldened)
        };
        if bold(primary) && !bold(chosen) {
            // Every face added is followed by its twin (`insert`).
            chosen + 1
        } else {
            chosen
        }
    }

    pub(crate) fn index_of(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub(crate) fn face(&self, index: usize) -> &Face {
        &self.faces[index]
    }

    pub(crate) fn face_arc(&self, index: usize) -> Arc<Face> {
        Arc::clone(&self.faces[index])
    }

    pub(crate) fn fallback(&self) -> &[usize] {
        &self.fallback
    }

    pub(crate) fn known(&self) -> String {
        self.names().collect::<Vec<_>>().join(", ")
    }
}
