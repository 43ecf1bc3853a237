//! Typed requests and responses of the ESL and AP endpoints (seed 001, ESL §4 and §5).
//!
//! Response structs never use `deny_unknown_fields`: the platform may add fields. Every field
//! the seed shows is optional on input (`#[serde(default)]`) except the ids that identify a
//! record, and ids are accepted as JSON strings or numbers (the seed's samples show both).

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize};

/// Deserializes a string, a number, or `null` (as the empty string) into a `String`.
pub(crate) fn string_or_number<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        S(String),
        I(i64),
        U(u64),
        F(f64),
        Null(()),
    }
    Ok(match Raw::deserialize(d)? {
        Raw::S(s) => s,
        Raw::I(i) => i.to_string(),
        Raw::U(u) => u.to_string(),
        Raw::F(f) => f.to_string(),
        Raw::Null(()) => String::new(),
    })
}

pub(crate) fn opt_string_or_number<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Option<String>, D::Error> {
    let s = string_or_number(d)?;
    Ok(if s.is_empty() { None } else { Some(s) })
}

/// The `pic` of a pushImage request, shared cheaply between retries and batch tasks.
pub type ImageBytes = Arc<[u8]>;

/// `/device/esl/pushImage` (seed 001, ESL §4.3.5): show an image on an ESL.
///
/// The image must already have the model's exact size and only its palette's colours; the
/// platform answers 5005 otherwise. It is sent as the multipart file field `pic`.
#[derive(Clone)]
pub struct PushImage {
    /// The shop (`shop_id`).
    pub shop_id: String,
    /// The ESL (`esl_id`, as returned by bind or getList).
    pub esl_id: String,
    /// The encoded image (PNG normally).
    pub image: ImageBytes,
}

impl PushImage {
    /// A push of `image` to `esl_id` in `shop_id`.
    #[must_use]
    pub fn new(
        shop_id: impl Into<String>,
        esl_id: impl Into<String>,
        image: impl Into<ImageBytes>,
    ) -> Self {
        Self {
            shop_id: shop_id.into(),
            esl_id: esl_id.into(),
            image: image.into(),
        }
    }
}

impl fmt::Debug for PushImage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PushImage")
            .field("shop_id", &self.shop_id)
            .field("esl_id", &self.esl_id)
            .field("image_bytes", &self.image.len())
            .finish()
    }
}

/// The LED colours of flashLed's `channel` (seed 001, ESL §4.3.6).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LedColor {
    /// 1
    White,
    /// 2
    Blue,
    /// 4 (the platform's default)
    #[default]
    Green,
    /// 8
    Red,
    /// 512
    Cyan,
    /// 1024
    Purple,
    /// 2048
    Yellow,
}

impl LedColor {
    /// Every colour, in the seed's order.
    pub const ALL: [LedColor; 7] = [
        LedColor::White,
        LedColor::Blue,
        LedColor::Green,
        LedColor::Red,
        LedColor::Cyan,
        LedColor::Purple,
        LedColor::Yellow,
    ];

    /// The `channel` value.
    #[must_use]
    pub const fn channel(self) -> u32 {
        match self {
            LedColor::White => 1,
            LedColor::Blue => 2,
            LedColor::Green => 4,
            LedColor::Red => 8,
            LedColor::Cyan => 512,
            LedColor::Purple => 1024,
            LedColor::Yellow => 2048,
        }
    }

    /// The colour of a `channel` value, if it is one the seed lists.
    #[must_use]
    pub fn from_channel(channel: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.channel() == channel)
    }

    /// Lower-case name (`green`, …).
    #[must_use]
    pub const fn name(self) -> &'static str {
        match self {
            LedColor::White => "white",
            LedColor::Blue => "blue",
            LedColor::Green => "green",
            LedColor::Red => "red",
            LedColor::Cyan => "cyan",
            LedColor::Purple => "purple",
            LedColor::Yellow => "yellow",
        }
    }
}

impl fmt::Display for LedColor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A colour name that is not one of [`LedColor::ALL`].
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown LED colour {0:?}; known: white, blue, green, red, cyan, purple, yellow")]
pub struct UnknownLedColor(pub String);

impl FromStr for LedColor {
    type Err = UnknownLedColor;

    /// Case-insensitive colour name.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|c| c.name().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| UnknownLedColor(s.to_owned()))
    }
}

/// The seed's default `cycle` of flashLed: 100 (× 10 ms = 1 s per flash).
pub const DEFAULT_FLASH_CYCLE: u32 = 100;
/// The seed's default `duration` of flashLed: 8 flashes.
pub const DEFAULT_FLASH_DURATION: u32 = 8;

/// `/device/esl/flashLed` (seed 001, ESL §4.3.6): flash an ESL's LED.
///
/// Unset options are *not sent*, so the platform applies its defaults (channel 4 = green,
/// cycle 100, duration 8).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FlashLed {
    /// The shop.
    pub shop_id: String,
    /// The ESL.
    pub esl_id: String,
    /// LED colour (`channel`).
    pub color: Option<LedColor>,
    /// Length of one flash in units of 10 ms (`cycle`).
    pub cycle: Option<u32>,
    /// Number of flashes (`duration`; the seed calls it "the total flash times").
    pub duration: Option<u32>,
}

/// How bind identifies an ESL (seed 001, ESL §4.3.1: either `esl_code` or `esl_sn`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EslCodeOrSn {
    /// The 8-character code printed on the label (`esl_code`).
    Code(String),
    /// The serial number (`esl_sn`).
    Sn(String),
}

/// `/device/esl/bind`: bind an ESL to a shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BindEsl {
    /// The shop.
    pub shop_id: String,
    /// Which ESL.
    pub esl: EslCodeOrSn,
}

/// `/device/esl/unbind`: unbind an ESL from a shop.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnbindEsl {
    /// The shop.
    pub shop_id: String,
    /// The ESL id from bind.
    pub esl_id: String,
}

/// The reply of bind and unbind: the ESL's id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EslIdReply {
    /// The ESL's id (absent in some replies).
    #[serde(default, deserialize_with = "string_or_number")]
    pub esl_id: String,
}

/// A page request of the list endpoints. The seed's defaults are page 1 and 10 per page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Page {
    /// 1-based page number (`page_num`).
    pub num: u32,
    /// Items per page (`page_size`).
    pub size: u32,
}

impl Default for Page {
    fn default() -> Self {
        Self { num: 1, size: 10 }
    }
}

/// An ESL's status (seed 001, ESL §4.3.3 "Parameter Status").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
#[non_exhaustive]
pub enum EslStatus {
    /// 0: not activated.
    #[default]
    NotActivated,
    /// 1: not bound.
    NotBound,
    /// 2: waiting for data.
    WaitingForData,
    /// 3: push success.
    PushSuccess,
    /// 4: push failed.
    PushFailed,
    /// A value the seed does not list.
    Other(i64),
}

impl From<i64> for EslStatus {
    fn from(v: i64) -> Self {
        match v {
            0 => Self::NotActivated,
            1 => Self::NotBound,
            2 => Self::WaitingForData,
            3 => Self::PushSuccess,
            4 => Self::PushFailed,
            v => Self::Other(v),
        }
    }
}

impl From<EslStatus> for i64 {
    fn from(s: EslStatus) -> Self {
        match s {
            EslStatus::NotActivated => 0,
            EslStatus::NotBound => 1,
            EslStatus::WaitingForData => 2,
            EslStatus::PushSuccess => 3,
            EslStatus::PushFailed => 4,
            EslStatus::Other(v) => v,
        }
    }
}

impl fmt::Display for EslStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EslStatus::NotActivated => f.write_str("not activated"),
            EslStatus::NotBound => f.write_str("not bound"),
            EslStatus::WaitingForData => f.write_str("waiting for data"),
            EslStatus::PushSuccess => f.write_str("push success"),
            EslStatus::PushFailed => f.write_str("push failed"),
            EslStatus::Other(v) => write!(f, "status {v}"),
        }
    }
}

/// One ESL of getList (seed 001, ESL §4.3.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EslSummary {
    /// The ESL's id.
    #[serde(deserialize_with = "string_or_number")]
    pub esl_id: String,
    /// The 8-character code.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub esl_code: Option<String>,
    /// The serial number.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub esl_sn: Option<String>,
    /// The model name as the platform writes it (e.g. `SL126`, or `SL121+` as in the seed's
    /// sample, a model its size table does not list); see [`EslSummary::model`].
    #[serde(default)]
    pub model_name: Option<String>,
    /// The status.
    #[serde(default)]
    pub status: EslStatus,
}

impl EslSummary {
    /// The model, if the platform's name is one of the known models.
    #[must_use]
    pub fn model(&self) -> Option<esl_model::Model> {
        self.model_name.as_deref().and_then(|m| m.parse().ok())
    }
}

/// One page of `/device/esl/getList`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EslPage {
    /// ESLs in the shop, over all pages.
    #[serde(default)]
    pub total_count: u64,
    /// This page's ESLs.
    #[serde(default)]
    pub esl_list: Vec<EslSummary>,
}

/// How getInfo identifies an ESL (seed 001, ESL §4.3.4: `esl_code` or `esl_id`; the seed's
/// text says "either esl_code or esl_sn" but lists `esl_id`: we follow the parameter table).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EslIdOrCode {
    /// `esl_id`.
    Id(String),
    /// `esl_code`.
    Code(String),
}

/// `/device/esl/getInfo` reply (seed 001, ESL §4.3.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EslInfo {
    /// The ESL's id.
    #[serde(deserialize_with = "string_or_number")]
    pub esl_id: String,
    /// The 8-character code.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub esl_code: Option<String>,
    /// The serial number.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub esl_sn: Option<String>,
    /// The model name.
    #[serde(default)]
    pub model_name: Option<String>,
    /// The status.
    #[serde(default)]
    pub status: EslStatus,
    /// Screen size, e.g. `2.13寸` (inches).
    #[serde(default)]
    pub screen_size_name: Option<String>,
    /// Firmware version.
    #[serde(default)]
    pub software_version: Option<String>,
    /// Battery level, percent.
    #[serde(default)]
    pub battery: Option<i64>,
    /// Signal strength, dBm.
    #[serde(default)]
    pub rssi: Option<i64>,
    /// Last connection time as the platform sends it (the seed's sample has 11 digits, so the
    /// unit is unclear; kept raw).
    #[serde(default)]
    pub connect_time: Option<i64>,
    /// The AP the ESL is connected to.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub ap_id: Option<String>,
    /// The AP's serial number.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub ap_sn: Option<String>,
}

impl EslInfo {
    /// The model, if the platform's name is one of the known models (built in or declared).
    #[must_use]
    pub fn model(&self) -> Option<esl_model::Model> {
        self.model_name.as_deref().and_then(|m| m.parse().ok())
    }

    /// The declaration of this ESL's model from its screen size and the colour of
    /// `template` (the template/getInfo reply of `template_id`), as
    /// [`Client::describe_model`](crate::Client::describe_model) makes it.
    ///
    /// # Errors
    /// [`esl_model::ModelError::Platform`] when the ESL names no model or screen, the template
    /// no colour, or the two name different screens.
    pub fn model_decl(
        &self,
        template_id: &str,
        template: &crate::api::TemplateInfo,
    ) -> Result<esl_model::ModelDecl, esl_model::ModelError> {
        let name = self.model_name.as_deref().unwrap_or("").trim();
        let bad = |reason: String| esl_model::ModelError::Platform {
            name: name.to_owned(),
            reason,
        };
        if name.is_empty() {
            return Err(bad("getInfo gives no model_name".to_owned()));
        }
        let screen = self
            .screen_size_name
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| bad("getInfo gives no screen_size_name".to_owned()))?;
        let color = template.color_code().ok_or_else(|| {
            bad(format!(
                "template {template_id} gives no colour (template_color or template_color_name)"
            ))
        })?;
        let decl = esl_model::ModelDecl::from_platform(name, screen, color)?;
        if let Some(t) = template.screen() {
            if Some(t) != decl.screen {
                return Err(bad(format!(
                    "template {template_id} is for the {} inch screen, the ESL's is {screen:?}",
                    t.inches()
                )));
            }
        }
        Ok(decl)
    }
}

/// `/device/getOverview` reply (seed 001, ESL §4.3.8).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overview {
    /// APs in the shop.
    #[serde(default)]
    pub ap_total_count: u64,
    /// ESLs in the shop.
    #[serde(default)]
    pub esl_total_count: u64,
    /// ESLs waiting for data.
    #[serde(default)]
    pub esl_pending_count: u64,
    /// ESLs whose last push failed.
    #[serde(default)]
    pub esl_failed_count: u64,
}

/// An AP's status (seed 001, ESL §5.3.3).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(from = "i64", into = "i64")]
#[non_exhaustive]
pub enum ApStatus {
    /// 0: not activated.
    #[default]
    NotActivated,
    /// 1: online.
    Online,
    /// 2: offline.
    Offline,
    /// A value the seed does not list.
    Other(i64),
}

impl From<i64> for ApStatus {
    fn from(v: i64) -> Self {
        match v {
            0 => Self::NotActivated,
            1 => Self::Online,
            2 => Self::Offline,
            v => Self::Other(v),
        }
    }
}

impl From<ApStatus> for i64 {
    fn from(s: ApStatus) -> Self {
        match s {
            ApStatus::NotActivated => 0,
            ApStatus::Online => 1,
            ApStatus::Offline => 2,
            ApStatus::Other(v) => v,
        }
    }
}

impl fmt::Display for ApStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApStatus::NotActivated => f.write_str("not activated"),
            ApStatus::Online => f.write_str("online"),
            ApStatus::Offline => f.write_str("offline"),
            ApStatus::Other(v) => write!(f, "status {v}"),
        }
    }
}

/// One AP of `/device/ap/getList` (seed 001, ESL §5.3.3).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApSummary {
    /// The AP's id.
    #[serde(deserialize_with = "string_or_number")]
    pub ap_id: String,
    /// Serial number.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub ap_sn: Option<String>,
    /// Name.
    #[serde(default)]
    pub ap_name: Option<String>,
    /// ESLs served.
    #[serde(default)]
    pub esl_count: u64,
    /// Status.
    #[serde(default)]
    pub status: ApStatus,
}

/// One page of `/device/ap/getList`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApPage {
    /// APs in the shop, over all pages.
    #[serde(default)]
    pub total_count: u64,
    /// This page's APs.
    #[serde(default)]
    pub ap_list: Vec<ApSummary>,
}

/// `/device/ap/getInfo` reply (seed 001, ESL §5.3.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApInfo {
    /// The AP's id.
    #[serde(deserialize_with = "string_or_number")]
    pub ap_id: String,
    /// Serial number.
    #[serde(default, deserialize_with = "opt_string_or_number")]
    pub ap_sn: Option<String>,
    /// Name.
    #[serde(default)]
    pub ap_name: Option<String>,
    /// Model, e.g. `SLAP1`.
    #[serde(default)]
    pub model_name: Option<String>,
    /// Status.
    #[serde(default)]
    pub status: ApStatus,
    /// ESLs served.
    #[serde(default)]
    pub esl_count: u64,
    /// Firmware version.
    #[serde(default)]
    pub software_version: Option<String>,
    /// Last connection time, raw.
    #[serde(default)]
    pub connect_time: Option<i64>,
}

/// What a successful call without a payload (pushImage, flashLed, reboot) returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// The platform's `msg` (`succeed`, `success`, …).
    pub message: String,
    /// Attempts it took (1 when the first one succeeded).
    pub attempts: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_strings_and_numbers() {
        let s: EslSummary = serde_json::from_str(
            r#"{"esl_id":129200,"esl_code":"SKDI39DN","model_name":"SL121+","status":2}"#,
        )
        .unwrap();
        assert_eq!(s.esl_id, "129200");
        assert_eq!(s.status, EslStatus::WaitingForData);
        assert_eq!(s.model(), None, "SL121+ is not in the seed's size table");
        let i: ApInfo =
            serde_json::from_str(r#"{"ap_id":"1000","status":7,"extra":true}"#).unwrap();
        assert_eq!(i.status, ApStatus::Other(7));
    }

    #[test]
    fn led_colours() {
        assert_eq!("RED".parse::<LedColor>().unwrap().channel(), 8);
        assert_eq!(LedColor::default().channel(), 4);
        assert_eq!(LedColor::from_channel(2048), Some(LedColor::Yellow));
        assert!("pink".parse::<LedColor>().is_err());
    }
}
