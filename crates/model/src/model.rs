//! ESL models and palettes.

use std::fmt;
use std::str::FromStr;
use std::sync::{PoisonError, RwLock};

use serde::{Deserialize, Serialize};

/// One of the colours an e-paper panel can show.
///
/// The discriminant is the palette index used in rendered images: white is 0, black 1, red 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum Ink {
    /// Paper white, RGB (255, 255, 255).
    White = 0,
    /// Black, RGB (0, 0, 0).
    Black = 1,
    /// Red, RGB (255, 0, 0); only on black/white/red panels.
    Red = 2,
}

impl Ink {
    /// All inks, in palette-index order.
    pub const ALL: [Ink; 3] = [Ink::White, Ink::Black, Ink::Red];

    /// The exact RGB value the platform expects for this ink.
    #[must_use]
    pub const fn rgb(self) -> [u8; 3] {
        match self {
            Ink::White => [255, 255, 255],
            Ink::Black => [0, 0, 0],
            Ink::Red => [255, 0, 0],
        }
    }

    /// The ink whose palette index is `index`, if any.
    #[must_use]
    pub const fn from_index(index: u8) -> Option<Ink> {
        match index {
            0 => Some(Ink::White),
            1 => Some(Ink::Black),
            2 => Some(Ink::Red),
            _ => None,
        }
    }

    /// The ink with exactly this RGB value, if any.
    #[must_use]
    pub fn from_rgb(rgb: [u8; 3]) -> Option<Ink> {
        Ink::ALL.into_iter().find(|ink| ink.rgb() == rgb)
    }

    /// Lower-case name: `white`, `black` or `red`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Ink::White => "white",
            Ink::Black => "black",
            Ink::Red => "red",
        }
    }
}

impl fmt::Display for Ink {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The set of inks a panel can show.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Palette {
    /// Black and white.
    BlackWhite,
    /// Black, white and red.
    BlackWhiteRed,
}

impl Palette {
    /// The inks of this palette, in palette-index order (white first).
    #[must_use]
    pub const fn inks(self) -> &'static [Ink] {
        match self {
            Palette::BlackWhite => &[Ink::White, Ink::Black],
            Palette::BlackWhiteRed => &[Ink::White, Ink::Black, Ink::Red],
        }
    }

    /// Whether the palette contains `ink`.
    #[must_use]
    pub fn contains(self, ink: Ink) -> bool {
        self.inks().contains(&ink)
    }

    /// The ink actually drawn for a requested ink.
    ///
    /// Red on a black/white panel is drawn **black**: red elements (promo badges, sale
    /// prices) carry emphasis, and black keeps that emphasis readable where white would
    /// make them vanish. This rule is applied everywhere a colour is drawn, so a template
    /// designed for black/white/red renders consistently on SL126+.
    #[must_use]
    pub const fn map(self, ink: Ink) -> Ink {
        match (self, ink) {
            (Palette::BlackWhite, Ink::Red) => Ink::Black,
            (_, ink) => ink,
        }
    }

    /// The platform's template colour code (seed 001, ESL §7): 1 = black and white,
    /// 2 = black, white and red.
    #[must_use]
    pub const fn template_color_code(self) -> u8 {
        match self {
            Palette::BlackWhite => 1,
            Palette::BlackWhiteRed => 2,
        }
    }
}

/// A platform template screen size (seed 001, ESL §7: `template_screen` 1 = 2.13 inch,
/// 2 = 2.6 inch, 3 = 4.2 inch) with the panel size the seed's picture table (ESL §4.3.5) gives
/// every model of that screen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Screen {
    /// 2.13 inch, 212 × 104 (`template_screen` 1).
    In2_13,
    /// 2.6 inch, 296 × 152 (`template_screen` 2).
    In2_6,
    /// 4.2 inch, 400 × 300 (`template_screen` 3).
    In4_2,
}

impl Screen {
    /// Every screen size the platform names.
    pub const ALL: [Screen; 3] = [Screen::In2_13, Screen::In2_6, Screen::In4_2];

    /// The platform's `template_screen` code.
    #[must_use]
    pub const fn code(self) -> u8 {
        match self {
            Screen::In2_13 => 1,
            Screen::In2_6 => 2,
            Screen::In4_2 => 3,
        }
    }

    /// The screen of a `template_screen` code.
    #[must_use]
    pub const fn from_code(code: i64) -> Option<Screen> {
        match code {
            1 => Some(Screen::In2_13),
            2 => Some(Screen::In2_6),
            3 => Some(Screen::In4_2),
            _ => None,
        }
    }

    /// The diagonal as the platform writes it: `2.13`, `2.6` or `4.2` (inches).
    #[must_use]
    pub const fn inches(self) -> &'static str {
        match self {
            Screen::In2_13 => "2.13",
            Screen::In2_6 => "2.6",
            Screen::In4_2 => "4.2",
        }
    }

    /// The panel size, `(width, height)`, of every model of this screen in the seed's table.
    #[must_use]
    pub const fn size(self) -> (u32, u32) {
        match self {
            Screen::In2_13 => (212, 104),
            Screen::In2_6 => (296, 152),
            Screen::In4_2 => (400, 300),
        }
    }

    /// The screen named by the platform's text: getInfo's `screen_size_name` (`"2.13寸"`),
    /// the template APIs' `template_screen_type_name` (`"2.6"`), with or without `寸`, `"`,
    /// `in` or `inch`.
    #[must_use]
    pub fn from_name(name: &str) -> Option<Screen> {
        let n = name.trim();
        let n = ["寸", "inches", "inch", "in", "\"", "″"]
            .iter()
            .fold(n, |n, suffix| n.strip_suffix(suffix).unwrap_or(n))
            .trim();
        Screen::ALL.into_iter().find(|s| s.inches() == n)
    }
}

/// Everything esl knows of a model: see [`Model`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct Spec {
    // The name comes first: models order by name.
    name: &'static str,
    width: u32,
    height: u32,
    palette: Palette,
    screen: Option<Screen>,
}

/// An electronic shelf label model: its name, panel size, palette and, where the platform
/// names one, its template screen size.
///
/// The five models of the seed's table (seed 001, ESL §4.3.5) are built in, as the constants
/// [`Model::Sl121`] … [`Model::Sl142Plus`] and the list [`Model::ALL`]. Any other model the
/// platform reports (the seed's own getList and getInfo samples show an `SL121+`, which its
/// table does not list) is never guessed: it must be *declared*, with [`Model::declare`], from
/// a user's [`ModelDecl`] (a models file: [`ModelsFile`], `esl --models FILE`) or from what the
/// platform says of it ([`ModelDecl::from_platform`]). Until then its name does not parse, and
/// the error names it and says how to declare it.
///
/// Declared models are process-wide, like the built-in ones: declare them before loading the
/// templates, registries or fixtures that name them. A `Model` is a small `Copy` handle; two
/// handles are equal when they name the same model.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Model(&'static Spec);

impl fmt::Debug for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Model({})", self.0.name)
    }
}

const fn builtin(name: &'static str, screen: Screen, palette: Palette) -> Spec {
    let (width, height) = screen.size();
    Spec {
        name,
        width,
        height,
        palette,
        screen: Some(screen),
    }
}

// The built-in constants keep the names they had as enum variants.
#[allow(non_upper_case_globals)]
impl Model {
    /// SL121: 2.13 inch, 212 × 104, black/white/red.
    pub const Sl121: Model = Model(&builtin("SL121", Screen::In2_13, Palette::BlackWhiteRed));
    /// SL126: 2.6 inch, 296 × 152, black/white/red.
    pub const Sl126: Model = Model(&builtin("SL126", Screen::In2_6, Palette::BlackWhiteRed));
    /// SL126+: 2.6 inch, 296 × 152, black/white only.
    pub const Sl126Plus: Model = Model(&builtin("SL126+", Screen::In2_6, Palette::BlackWhite));
    /// SL142: 4.2 inch, 400 × 300, black/white/red.
    pub const Sl142: Model = Model(&builtin("SL142", Screen::In4_2, Palette::BlackWhiteRed));
    /// SL142+: 4.2 inch, 400 × 300, black/white/red.
    ///
    /// Seed 001 ESL §4.3.5 lists SL142+ as black, white, red (unlike SL126+, which is
    /// black/white); we follow the table as written.
    pub const Sl142Plus: Model = Model(&builtin("SL142+", Screen::In4_2, Palette::BlackWhiteRed));
}

impl Model {
    /// The built-in models (the seed's table), in a stable order. Declared models are in
    /// [`Model::known`].
    pub const ALL: [Model; 5] = [
        Model::Sl121,
        Model::Sl126,
        Model::Sl126Plus,
        Model::Sl142,
        Model::Sl142Plus,
    ];

    /// Every model this process knows: the built-in ones, then the declared ones in the order
    /// they were declared.
    #[must_use]
    pub fn known() -> Vec<Model> {
        let mut all = Model::ALL.to_vec();
        all.extend(declared().iter().copied());
        all
    }

    /// Whether this is one of the built-in models of the seed's table.
    #[must_use]
    pub fn is_builtin(self) -> bool {
        Model::ALL.contains(&self)
    }

    /// The platform's model name, e.g. `SL126+`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        self.0.name
    }

    /// Panel size in pixels, `(width, height)`, landscape as the seed's table gives it.
    #[must_use]
    pub const fn size(self) -> (u32, u32) {
        (self.0.width, self.0.height)
    }

    /// The inks the panel can show.
    #[must_use]
    pub const fn palette(self) -> Palette {
        self.0.palette
    }

    /// The platform's template screen size, if known (every built-in model has one; a
    /// declared model has one if its declaration names it).
    #[must_use]
    pub const fn screen(self) -> Option<Screen> {
        self.0.screen
    }

    /// The platform's template screen code (seed 001, ESL §7): 1 = 2.13 inch, 2 = 2.6 inch,
    /// 3 = 4.2 inch; `None` for a declared model without a screen.
    #[must_use]
    pub const fn template_screen_code(self) -> Option<u8> {
        match self.0.screen {
            Some(s) => Some(s.code()),
            None => None,
        }
    }

    /// The platform's template colour code of this model's palette (seed 001, ESL §7).
    #[must_use]
    pub const fn template_color_code(self) -> u8 {
        self.palette().template_color_code()
    }

    /// Screen diagonal as the platform names it: `2.13`, `2.6` or `4.2` (inches); `None` for
    /// a declared model without a screen.
    #[must_use]
    pub const fn screen_inches(self) -> Option<&'static str> {
        match self.0.screen {
            Some(s) => Some(s.inches()),
            None => None,
        }
    }

    /// Declares a model the built-in table lacks, for the rest of the process, and returns it.
    ///
    /// Declaring a model again with the same properties returns the same model; a built-in
    /// model may be "declared" only with exactly its built-in properties.
    ///
    /// ```
    /// use esl_model::{Model, ModelDecl, Palette};
    /// let sl121p = Model::declare(&ModelDecl::new("SL121+", 212, 104, Palette::BlackWhite))?;
    /// assert_eq!("sl121+".parse::<Model>()?, sl121p);
    /// assert_eq!(sl121p.size(), (212, 104));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`ModelError`] if the declaration is invalid (a bad name, a size out of range), if it
    /// contradicts a built-in or an earlier declaration of the same name, or if
    /// [`MAX_DECLARED_MODELS`] models are declared already.
    pub fn declare(decl: &ModelDecl) -> Result<Model, ModelError> {
        decl.check()?;
        let err = |reason: String| ModelError::Declaration {
            name: decl.name.clone(),
            reason,
        };
        // The built-in model itself, or the same declaration again, is that model; anything
        // else under its name contradicts it.
        let same_or_conflict = |m: Model, builtin: bool| {
            if decl.matches(m) {
                return Ok(m);
            }
            let was = describe(m.size(), m.palette(), m.screen());
            let new = describe((decl.width, decl.height), decl.palette, decl.screen);
            Err(err(if builtin {
                format!(
                    "{} is a built-in model ({was}); it cannot be declared as {new}",
                    m.name()
                )
            } else {
                format!(
                    "{} is declared already as {was}; it cannot be declared again as {new}",
                    m.name()
                )
            }))
        };
        let named = |m: &Model| m.name().eq_ignore_ascii_case(decl.name.trim());
        if let Some(m) = Model::ALL.into_iter().find(named) {
            return same_or_conflict(m, true);
        }
        let mut table = DECLARED.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(&m) = table.iter().find(|m| named(m)) {
            return same_or_conflict(m, false);
        }
        if table.len() >= MAX_DECLARED_MODELS {
            return Err(err(format!(
                "{MAX_DECLARED_MODELS} models are declared already, the most a process may declare"
            )));
        }
        // Declarations live as long as the process (a `Model` is a `'static` handle); there
        // are at most MAX_DECLARED_MODELS of them, so the leak is bounded.
        let spec: &'static Spec = Box::leak(Box::new(Spec {
            name: Box::leak(decl.name.trim().to_owned().into_boxed_str()),
            width: decl.width,
            height: decl.height,
            palette: decl.palette,
            screen: decl.screen,
        }));
        let model = Model(spec);
        table.push(model);
        Ok(model)
    }
}

fn describe(size: (u32, u32), palette: Palette, screen: Option<Screen>) -> String {
    let inks = match palette {
        Palette::BlackWhite => "black/white",
        Palette::BlackWhiteRed => "black/white/red",
    };
    match screen {
        Some(s) => format!("{}×{}, {inks}, {} inch", size.0, size.1, s.inches()),
        None => format!("{}×{}, {inks}", size.0, size.1),
    }
}

/// Most models one process may declare.
pub const MAX_DECLARED_MODELS: usize = 64;

/// Largest width or height of a declared model's panel, in pixels.
pub const MAX_PANEL_SIDE: u32 = 2048;

static DECLARED: RwLock<Vec<Model>> = RwLock::new(Vec::new());

fn declared() -> Vec<Model> {
    DECLARED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}

/// A model's declaration: what a user (or the platform) says of a model the built-in table
/// lacks. See [`Model::declare`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelDecl {
    /// The platform's model name, e.g. `SL121+`: 1 to 32 characters of letters, digits and
    /// `+ - _ .`, matched case-insensitively.
    pub name: String,
    /// Panel width in pixels (1 to [`MAX_PANEL_SIDE`]), landscape.
    pub width: u32,
    /// Panel height in pixels (1 to [`MAX_PANEL_SIDE`]).
    pub height: u32,
    /// The inks: `["white", "black"]` or `["white", "black", "red"]`, in any order.
    #[serde(rename = "inks", with = "inks_serde")]
    pub palette: Palette,
    /// The platform's template screen size, if the model has one: `"2.13"`, `"2.6"`, `"4.2"`
    /// or the code 1, 2, 3. Needed only to make platform templates for it.
    #[serde(
        default,
        with = "screen_serde",
        skip_serializing_if = "Option::is_none"
    )]
    pub screen: Option<Screen>,
}

impl ModelDecl {
    /// A declaration without a screen size.
    #[must_use]
    pub fn new(name: impl Into<String>, width: u32, height: u32, palette: Palette) -> Self {
        ModelDecl {
            name: name.into(),
            width,
            height,
            palette,
            screen: None,
        }
    }

    /// The declaration of a model from what the platform says of it: the screen size it
    /// reports (getInfo's `screen_size_name`, e.g. `"2.13寸"`, or a template's
    /// `template_screen` code) and the colour code of a template made for it
    /// (`template_color`: 1 black/white, 2 black/white/red).
    ///
    /// The panel size is the one the seed's picture table (ESL §4.3.5) gives every model of
    /// that screen size: all its 2.13-inch models are 212 × 104, all 2.6-inch ones 296 × 152,
    /// all 4.2-inch ones 400 × 300. The seed does not say a new model keeps its screen's size;
    /// we take it that it does, and say so here rather than guess silently.
    ///
    /// # Errors
    ///
    /// [`ModelError::Platform`] if the screen or the colour code is not one the seed defines.
    pub fn from_platform(name: &str, screen: &str, color_code: i64) -> Result<Self, ModelError> {
        let bad = |reason: String| ModelError::Platform {
            name: name.to_owned(),
            reason,
        };
        let screen = Screen::from_name(screen)
            .or_else(|| screen.trim().parse().ok().and_then(Screen::from_code))
            .ok_or_else(|| {
                bad(format!(
                    "screen {screen:?} is not one the platform defines (2.13, 2.6, 4.2 inch or codes 1-3)"
                ))
            })?;
        let palette = match color_code {
            1 => Palette::BlackWhite,
            2 => Palette::BlackWhiteRed,
            other => {
                return Err(bad(format!(
                    "colour code {other} is not one the platform defines (1 black/white, 2 black/white/red)"
                )));
            }
        };
        let (width, height) = screen.size();
        Ok(ModelDecl {
            name: name.trim().to_owned(),
            width,
            height,
            palette,
            screen: Some(screen),
        })
    }

    fn matches(&self, m: Model) -> bool {
        m.size() == (self.width, self.height)
            && m.palette() == self.palette
            && (self.screen.is_none() || self.screen == m.screen())
    }

    fn check(&self) -> Result<(), ModelError> {
        let err = |reason: String| ModelError::Declaration {
            name: self.name.clone(),
            reason,
        };
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > 32 {
            return Err(err("a model name has 1 to 32 characters".to_owned()));
        }
        if let Some(c) = name
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || "+-_.".contains(*c)))
        {
            return Err(err(format!(
                "{c:?} cannot be part of a model name (letters, digits and + - _ . only)"
            )));
        }
        for (what, v) in [("width", self.width), ("height", self.height)] {
            if v == 0 || v > MAX_PANEL_SIDE {
                return Err(err(format!(
                    "{what} {v} is out of range (1 to {MAX_PANEL_SIDE} pixels)"
                )));
            }
        }
        Ok(())
    }
}

/// A models file: models the built-in table lacks, declared by a user.
///
/// ```json
/// { "models": [
///     { "name": "SL121+", "width": 212, "height": 104, "inks": ["white", "black"], "screen": "2.13" }
/// ] }
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelsFile {
    /// The declarations.
    pub models: Vec<ModelDecl>,
}

impl ModelsFile {
    /// Parses a models file; `origin` (its path) names it in errors.
    ///
    /// # Errors
    ///
    /// [`ModelError::File`] if the text is not a models file.
    pub fn from_json(text: &str, origin: &str) -> Result<Self, ModelError> {
        serde_json::from_str(text).map_err(|e| ModelError::File {
            origin: origin.to_owned(),
            reason: e.to_string(),
        })
    }

    /// Declares every model of the file ([`Model::declare`]) and returns them.
    ///
    /// # Errors
    ///
    /// The first declaration's [`ModelError`]; the models declared before it stay declared.
    pub fn declare_all(&self) -> Result<Vec<Model>, ModelError> {
        self.models.iter().map(Model::declare).collect()
    }
}

mod inks_serde {
    use super::{Ink, Palette};
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(p: &Palette, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(p.inks().iter().map(|i| i.name()))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Palette, D::Error> {
        let names = Vec::<String>::deserialize(d)?;
        let mut inks = Vec::new();
        for n in &names {
            let ink = Ink::ALL
                .into_iter()
                .find(|i| i.name().eq_ignore_ascii_case(n.trim()))
                .ok_or_else(|| {
                    serde::de::Error::custom(format!(
                        "unknown ink {n:?} (inks are white, black and red)"
                    ))
                })?;
            if !inks.contains(&ink) {
                inks.push(ink);
            }
        }
        inks.sort();
        match inks.as_slice() {
            [Ink::White, Ink::Black] => Ok(Palette::BlackWhite),
            [Ink::White, Ink::Black, Ink::Red] => Ok(Palette::BlackWhiteRed),
            _ => Err(serde::de::Error::custom(format!(
                "inks {names:?}: a panel shows white and black, or white, black and red"
            ))),
        }
    }
}

mod screen_serde {
    use super::Screen;
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::ref_option)] // serde's `with` hands the field by reference
    pub fn serialize<S: Serializer>(v: &Option<Screen>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(screen) => s.serialize_str(screen.inches()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Screen>, D::Error> {
        let v = serde_json::Value::deserialize(d)?;
        let screen = match &v {
            serde_json::Value::Null => return Ok(None),
            serde_json::Value::String(s) => Screen::from_name(s),
            serde_json::Value::Number(n) => n.as_i64().and_then(Screen::from_code),
            _ => None,
        };
        screen.map(Some).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "screen {v}: one of \"2.13\", \"2.6\", \"4.2\" or the codes 1, 2, 3"
            ))
        })
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model name that is neither built in nor declared.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown ESL model {name:?}; known models: {known}. A model the built-in table lacks must be \
     declared with its size and inks (a models file, `esl --models FILE`, or Model::declare)"
)]
pub struct UnknownModel {
    /// The name as given.
    pub name: String,
    /// The known models' names, comma-separated.
    pub known: String,
}

/// A model declaration or models file that cannot be used.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ModelError {
    /// A declaration is invalid or contradicts another.
    #[error("model {name:?} cannot be declared: {reason}")]
    Declaration {
        /// The model name as declared.
        name: String,
        /// Why.
        reason: String,
    },
    /// What the platform says of a model does not describe one.
    #[error("model {name:?} cannot be resolved from the platform: {reason}")]
    Platform {
        /// The model name the platform gave.
        name: String,
        /// Why.
        reason: String,
    },
    /// A models file is not valid.
    #[error("models file {origin}: {reason}")]
    File {
        /// The file.
        origin: String,
        /// Why.
        reason: String,
    },
}

impl FromStr for Model {
    type Err = UnknownModel;

    /// Parses a model name case-insensitively, ignoring surrounding white space:
    /// `sl126+`, `SL126+` and ` Sl126+ ` all give [`Model::Sl126Plus`]. Declared models
    /// parse too.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        if let Some(m) = Model::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(wanted))
        {
            return Ok(m);
        }
        let known = Model::known();
        known
            .iter()
            .copied()
            .find(|m| m.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownModel {
                name: s.to_owned(),
                known: known
                    .iter()
                    .map(|m| m.name())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

impl serde::Serialize for Model {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Model {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let name = String::deserialize(deserializer)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Model {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Model".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "description": "An ESL model name, case-insensitive: SL121, SL126, SL126+, SL142, SL142+, or a model declared in a models file (esl --models FILE).",
            "type": "string",
            "pattern": "^\\s*[A-Za-z0-9+._-]{1,32}\\s*$"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_case_insensitively() {
        assert_eq!("sl126+".parse::<Model>(), Ok(Model::Sl126Plus));
        assert_eq!("SL142".parse::<Model>(), Ok(Model::Sl142));
        assert_eq!(" Sl121 ".parse::<Model>(), Ok(Model::Sl121));
        let err = "SL999".parse::<Model>().unwrap_err();
        assert!(err.to_string().contains("SL999"));
        assert!(err.to_string().contains("SL126+"));
    }

    #[test]
    fn table_matches_seed() {
        let rows: Vec<_> = Model::ALL
            .iter()
            .map(|m| (m.name(), m.size(), m.palette(), m.template_screen_code()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("SL121", (212, 104), Palette::BlackWhiteRed, Some(1)),
                ("SL126", (296, 152), Palette::BlackWhiteRed, Some(2)),
                ("SL126+", (296, 152), Palette::BlackWhite, Some(2)),
                ("SL142", (400, 300), Palette::BlackWhiteRed, Some(3)),
                ("SL142+", (400, 300), Palette::BlackWhiteRed, Some(3)),
            ]
        );
        // Models order by name, as the enum they were did.
        let mut sorted = Model::ALL;
        sorted.sort();
        assert_eq!(sorted, Model::ALL);
        assert_eq!(Model::Sl126Plus.template_color_code(), 1);
        assert_eq!(Model::Sl142Plus.template_color_code(), 2);
    }

    #[test]
    fn an_undeclared_model_is_refused_with_its_name_and_the_cure() {
        let err = "XL999".parse::<Model>().unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("\"XL999\""), "{msg}");
        assert!(msg.contains("--models FILE"), "{msg}");
    }

    #[test]
    fn declared_models_parse_and_keep_their_properties() {
        let m = Model::declare(&ModelDecl::new("XT-121+", 212, 104, Palette::BlackWhite)).unwrap();
        assert_eq!("xt-121+".parse::<Model>(), Ok(m));
        assert_eq!(
            (m.name(), m.size(), m.palette()),
            ("XT-121+", (212, 104), Palette::BlackWhite)
        );
        assert_eq!(m.screen(), None);
        assert!(!m.is_builtin());
        assert!(Model::known().contains(&m));
        // The same declaration again is the same model; a different one is refused.
        assert_eq!(
            Model::declare(&ModelDecl::new("xt-121+", 212, 104, Palette::BlackWhite)),
            Ok(m)
        );
        let e = Model::declare(&ModelDecl::new("XT-121+", 296, 152, Palette::BlackWhite))
            .unwrap_err()
            .to_string();
        assert!(e.contains("declared already as 212×104"), "{e}");
    }

    #[test]
    fn builtins_cannot_be_redeclared_differently() {
        let same = ModelDecl::new("SL126+", 296, 152, Palette::BlackWhite);
        assert_eq!(Model::declare(&same), Ok(Model::Sl126Plus));
        let e = Model::declare(&ModelDecl::new("SL126", 296, 152, Palette::BlackWhite))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("built-in model (296×152, black/white/red"),
            "{e}"
        );
    }

    #[test]
    fn bad_declarations_are_refused_with_the_reason() {
        for (decl, reason) in [
            (
                ModelDecl::new("", 10, 10, Palette::BlackWhite),
                "1 to 32 characters",
            ),
            (
                ModelDecl::new("A B", 10, 10, Palette::BlackWhite),
                "cannot be part of",
            ),
            (
                ModelDecl::new("XQ1", 0, 10, Palette::BlackWhite),
                "width 0 is out of range",
            ),
            (
                ModelDecl::new("XQ1", 10, 5000, Palette::BlackWhite),
                "height 5000",
            ),
        ] {
            let e = Model::declare(&decl).unwrap_err().to_string();
            assert!(e.contains(reason), "{e}");
        }
    }

    #[test]
    fn models_files_parse_inks_and_screens() {
        let f = ModelsFile::from_json(
            r#"{"models": [
                {"name": "XF1", "width": 212, "height": 104, "inks": ["black", "white"], "screen": "2.13"},
                {"name": "XF2", "width": 400, "height": 300, "inks": ["white", "black", "red"], "screen": 3}
            ]}"#,
            "models.json",
        )
        .unwrap();
        let [a, b] = f.declare_all().unwrap()[..] else {
            panic!("two models")
        };
        assert_eq!(
            (a.palette(), a.screen()),
            (Palette::BlackWhite, Some(Screen::In2_13))
        );
        assert_eq!(
            (b.palette(), b.template_screen_code()),
            (Palette::BlackWhiteRed, Some(3))
        );
        for (text, reason) in [
            (
                r#"{"models": [{"name": "X", "width": 1, "height": 1, "inks": ["white", "red"]}]}"#,
                "a panel shows",
            ),
            (
                r#"{"models": [{"name": "X", "width": 1, "height": 1, "inks": ["blue"]}]}"#,
                "unknown ink",
            ),
            (
                r#"{"models": [{"name": "X", "width": 1, "height": 1, "inks": ["white", "black"], "screen": "7.5"}]}"#,
                "screen",
            ),
            (
                r#"{"models": [{"name": "X", "width": 1}]}"#,
                "missing field",
            ),
        ] {
            let e = ModelsFile::from_json(text, "m.json")
                .unwrap_err()
                .to_string();
            assert!(
                e.starts_with("models file m.json: ") && e.contains(reason),
                "{e}"
            );
        }
        // A file round-trips.
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(ModelsFile::from_json(&text, "again").unwrap(), f);
    }

    #[test]
    fn the_platform_says_screen_and_colour() {
        let d = ModelDecl::from_platform("SL121+", "2.13寸", 1).unwrap();
        assert_eq!(
            (d.width, d.height, d.palette),
            (212, 104, Palette::BlackWhite)
        );
        assert_eq!(d.screen, Some(Screen::In2_13));
        assert_eq!(ModelDecl::from_platform("X", "3", 2).unwrap().width, 400);
        assert!(ModelDecl::from_platform("X", "2.9寸", 1).is_err());
        let e = ModelDecl::from_platform("X", "2.6", 3)
            .unwrap_err()
            .to_string();
        assert!(e.contains("colour code 3"), "{e}");
    }

    #[test]
    fn red_becomes_black_on_bw() {
        assert_eq!(Palette::BlackWhite.map(Ink::Red), Ink::Black);
        assert_eq!(Palette::BlackWhiteRed.map(Ink::Red), Ink::Red);
        assert_eq!(Palette::BlackWhite.map(Ink::White), Ink::White);
    }
}
