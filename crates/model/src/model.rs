//! ESL models and palettes.

use std::fmt;
use std::str::FromStr;

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
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// A SUNMI electronic shelf label model (seed 001, ESL §4.3.5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Model {
    /// SL121: 2.13 inch, 212 × 104, black/white/red.
    Sl121,
    /// SL126: 2.6 inch, 296 × 152, black/white/red.
    Sl126,
    /// SL126+: 2.6 inch, 296 × 152, black/white only.
    Sl126Plus,
    /// SL142: 4.2 inch, 400 × 300, black/white/red.
    Sl142,
    /// SL142+: 4.2 inch, 400 × 300, black/white/red.
    Sl142Plus,
}

impl Model {
    /// Every model, in a stable order.
    pub const ALL: [Model; 5] = [
        Model::Sl121,
        Model::Sl126,
        Model::Sl126Plus,
        Model::Sl142,
        Model::Sl142Plus,
    ];

    /// The platform's model name, e.g. `SL126+`.
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            Model::Sl121 => "SL121",
            Model::Sl126 => "SL126",
            Model::Sl126Plus => "SL126+",
            Model::Sl142 => "SL142",
            Model::Sl142Plus => "SL142+",
        }
    }

    /// Panel size in pixels, `(width, height)`, landscape as the seed's table gives it.
    #[must_use]
    pub const fn size(self) -> (u32, u32) {
        match self {
            Model::Sl121 => (212, 104),
            Model::Sl126 | Model::Sl126Plus => (296, 152),
            Model::Sl142 | Model::Sl142Plus => (400, 300),
        }
    }

    /// The inks the panel can show.
    ///
    /// Seed 001 ESL §4.3.5 lists SL142+ as black, white, red (unlike SL126+, which is
    /// black/white); we follow the table as written.
    #[must_use]
    pub const fn palette(self) -> Palette {
        match self {
            Model::Sl126Plus => Palette::BlackWhite,
            _ => Palette::BlackWhiteRed,
        }
    }

    /// The platform's template screen code (seed 001, ESL §7): 1 = 2.13 inch, 2 = 2.6 inch,
    /// 3 = 4.2 inch.
    #[must_use]
    pub const fn template_screen_code(self) -> u8 {
        match self {
            Model::Sl121 => 1,
            Model::Sl126 | Model::Sl126Plus => 2,
            Model::Sl142 | Model::Sl142Plus => 3,
        }
    }

    /// The platform's template colour code of this model's palette (seed 001, ESL §7).
    #[must_use]
    pub const fn template_color_code(self) -> u8 {
        self.palette().template_color_code()
    }

    /// Screen diagonal as the platform names it: `2.13`, `2.6` or `4.2` (inches).
    #[must_use]
    pub const fn screen_inches(self) -> &'static str {
        match self.template_screen_code() {
            1 => "2.13",
            2 => "2.6",
            _ => "4.2",
        }
    }
}

impl fmt::Display for Model {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A model name that is not one of [`Model::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown ESL model {name:?}; known models: SL121, SL126, SL126+, SL142, SL142+")]
pub struct UnknownModel {
    /// The name as given.
    pub name: String,
}

impl FromStr for Model {
    type Err = UnknownModel;

    /// Parses a model name case-insensitively, ignoring surrounding white space:
    /// `sl126+`, `SL126+` and ` Sl126+ ` all give [`Model::Sl126Plus`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Model::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| UnknownModel { name: s.to_owned() })
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
            "description": "An ESL model name, case-insensitive: SL121, SL126, SL126+, SL142, SL142+.",
            "type": "string",
            "pattern": "^\\s*[sS][lL](121|126\\+?|142\\+?)\\s*$"
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
                ("SL121", (212, 104), Palette::BlackWhiteRed, 1),
                ("SL126", (296, 152), Palette::BlackWhiteRed, 2),
                ("SL126+", (296, 152), Palette::BlackWhite, 2),
                ("SL142", (400, 300), Palette::BlackWhiteRed, 3),
                ("SL142+", (400, 300), Palette::BlackWhiteRed, 3),
            ]
        );
        assert_eq!(Model::Sl126Plus.template_color_code(), 1);
        assert_eq!(Model::Sl142Plus.template_color_code(), 2);
    }

    #[test]
    fn red_becomes_black_on_bw() {
        assert_eq!(Palette::BlackWhite.map(Ink::Red), Ink::Black);
        assert_eq!(Palette::BlackWhiteRed.map(Ink::Red), Ink::Red);
        assert_eq!(Palette::BlackWhite.map(Ink::White), Ink::White);
    }
}
