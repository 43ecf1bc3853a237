//! The simulator's world: shops, APs and ESLs, loadable from a JSON fixture file.
//!
//! ```json
//! {
//!   "shops": [{ "shop_id": "1001", "name": "Demo shop" }],
//!   "aps": [{ "ap_id": "10200", "ap_sn": "B201E95D00001", "ap_name": "Gate 5",
//!             "shop_id": "1001", "status": 1 }],
//!   "esls": [{ "esl_id": "129200", "esl_code": "SKDI39DN", "esl_sn": "B101194N00002",
//!              "model": "SL126", "shop_id": "1001", "ap_id": "10200" }]
//! }
//! ```
//!
//! An ESL without `shop_id` is in stock, unbound: `/device/esl/bind` can bind it by code or
//! serial number. Unknown fields are refused (this is our own input format).

use std::collections::BTreeSet;
use std::path::Path;

use esl_model::{Model, ModelDecl};
use serde::{Deserialize, Serialize};

/// A whole simulated world.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Fixture {
    /// Models the built-in table lacks, declared ([`Model::declare`]) before the ESLs that
    /// name them are read: `{"name": "SL121+", "width": 212, "height": 104, "inks": ["white",
    /// "black"], "screen": "2.13"}`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<ModelDecl>,
    /// Shops.
    #[serde(default)]
    pub shops: Vec<ShopFixture>,
    /// Access points.
    #[serde(default)]
    pub aps: Vec<ApFixture>,
    /// Labels.
    #[serde(default)]
    pub esls: Vec<EslFixture>,
    /// The platform's own shops (number and API key, seed 001 Shop APIs §2.2) that
    /// `/shop/bind` can map a SaaS shop to; `mapped_to` names the SaaS shop already mapped.
    #[serde(default)]
    pub sunmi_shops: Vec<SunmiShopFixture>,
    /// APs in stock, not bound to a shop, that `/device/ap/bind` can bind by serial number.
    #[serde(default)]
    pub ap_stock: Vec<ApStockFixture>,
    /// Platform templates (seed 001 ESL §7).
    #[serde(default)]
    pub templates: Vec<TemplateFixture>,
    /// Products (seed 001 Product APIs §3.1.1).
    #[serde(default)]
    pub products: Vec<ProductFixture>,
    /// Product ↔ ESL bindings (seed 001 ESL §8).
    #[serde(default)]
    pub bindings: Vec<BindingFixture>,
    /// Registered event callbacks (seed 001 Notification Center).
    #[serde(default)]
    pub hooks: Vec<HookFixture>,
}

/// A shop of the platform itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SunmiShopFixture {
    /// The platform's shop number.
    pub sunmi_shop_no: String,
    /// Its API key.
    pub sunmi_shop_key: String,
    /// The SaaS shop mapped to it, if any.
    #[serde(default)]
    pub mapped_to: Option<String>,
}

/// An AP in stock.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApStockFixture {
    /// Serial number.
    pub ap_sn: String,
    /// Model name.
    #[serde(default = "default_ap_model")]
    pub model_name: String,
}

/// A platform template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateFixture {
    /// Id.
    pub template_id: String,
    /// The shop it belongs to.
    pub shop_id: String,
    /// Name.
    pub template_name: String,
    /// 1 black/white, 2 black/white/red.
    pub template_color: i64,
    /// 1 2.13", 2 2.6", 3 4.2".
    pub template_screen: i64,
    /// The platform's template JSON (opaque).
    #[serde(default)]
    pub template_json: String,
}

/// A product of a shop: the seed's product fields as a JSON object with at least `id`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductFixture {
    /// The shop.
    pub shop_id: String,
    /// The fields (`id`, `name`, `price`, …).
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// A product shown on an ESL with a template.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BindingFixture {
    /// The ESL.
    pub esl_id: String,
    /// The product.
    pub product_id: String,
    /// The template.
    pub template_id: String,
}

/// An event callback.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HookFixture {
    /// The shop.
    pub shop_id: String,
    /// The event number.
    pub event: i64,
    /// The URL.
    pub http_callback: String,
}

/// A shop.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopFixture {
    /// The platform's shop id.
    pub shop_id: String,
    /// Display name.
    #[serde(default)]
    pub name: String,
}

/// An access point.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApFixture {
    /// The AP's id.
    pub ap_id: String,
    /// Serial number.
    #[serde(default)]
    pub ap_sn: String,
    /// Name.
    #[serde(default)]
    pub ap_name: String,
    /// Model name (the seed's sample: `SLAP1`).
    #[serde(default = "default_ap_model")]
    pub model_name: String,
    /// The shop it is bound to.
    pub shop_id: String,
    /// 0 not activated, 1 online, 2 offline (seed 001, ESL §5.3.3). Default 1.
    #[serde(default = "one")]
    pub status: i64,
    /// Firmware version.
    #[serde(default = "default_version")]
    pub software_version: String,
}

/// An electronic shelf label.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EslFixture {
    /// The ESL's id (what bind returns and pushImage takes).
    pub esl_id: String,
    /// The 8-character code.
    #[serde(default)]
    pub esl_code: String,
    /// Serial number.
    #[serde(default)]
    pub esl_sn: String,
    /// Model: one of the seed's table (SL121, SL126, SL126+, SL142, SL142+).
    pub model: Model,
    /// The shop it is bound to; absent = in stock, unbound.
    #[serde(default)]
    pub shop_id: Option<String>,
    /// The AP it talks through.
    #[serde(default)]
    pub ap_id: Option<String>,
    /// Initial status (seed 001, ESL §4.3.3); default 2 (waiting for data) when bound,
    /// 1 (not bound) otherwise.
    #[serde(default)]
    pub status: Option<i64>,
    /// Battery, percent (default 90).
    #[serde(default = "default_battery")]
    pub battery: i64,
    /// Signal strength, dBm (default -40).
    #[serde(default = "default_rssi")]
    pub rssi: i64,
    /// Firmware version.
    #[serde(default = "default_version")]
    pub software_version: String,
}

fn default_ap_model() -> String {
    "SLAP1".to_owned()
}
fn default_version() -> String {
    "1.0.1".to_owned()
}
fn one() -> i64 {
    1
}
fn default_battery() -> i64 {
    90
}
fn default_rssi() -> i64 {
    -40
}

/// A fixture that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FixtureError {
    /// The file could not be read.
    #[error("cannot read fixture {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The JSON does not have the fixture's shape.
    #[error("fixture is not valid: {0}")]
    Json(#[from] serde_json::Error),
    /// The fixture is inconsistent (duplicate ids, references to missing shops or APs).
    #[error("fixture is inconsistent: {0}")]
    Inconsistent(String),
}

impl Fixture {
    /// Parses and checks a fixture.
    ///
    /// # Errors
    /// [`FixtureError::Json`] for bad JSON, [`FixtureError::Inconsistent`] for bad references.
    pub fn from_json(bytes: &[u8]) -> Result<Self, FixtureError> {
        // The models first: the ESLs name them.
        #[derive(Deserialize)]
        struct Models {
            #[serde(default)]
            models: Vec<ModelDecl>,
        }
        let Models { models } = serde_json::from_slice(bytes)?;
        for m in &models {
            Model::declare(m).map_err(|e| FixtureError::Inconsistent(e.to_string()))?;
        }
        let f: Fixture = serde_json::from_slice(bytes)?;
        f.check()?;
        Ok(f)
    }

    /// Reads, parses and checks a fixture file.
    ///
    /// # Errors
    /// As [`Fixture::from_json`], plus [`FixtureError::Io`].
    pub fn load(path: &Path) -> Result<Self, FixtureError> {
        let bytes = std::fs::read(path).map_err(|source| FixtureError::Io {
            path: path.display().to_string(),
            source,
        })?;
        Self::from_json(&bytes)
    }

    /// Checks ids are unique and references resolve.
    ///
    /// # Errors
    /// [`FixtureError::Inconsistent`] naming the first problem.
    pub fn check(&self) -> Result<(), FixtureError> {
        let bad = |m: String| Err(FixtureError::Inconsistent(m));
        let mut shops = BTreeSet::new();
        for s in &self.shops {
            if s.shop_id.is_empty() || !shops.insert(s.shop_id.as_str()) {
                return bad(format!("shop id {:?} is empty or repeated", s.shop_id));
            }
        }
        let mut aps = BTreeSet::new();
        for a in &self.aps {
            if a.ap_id.is_empty() || !aps.insert(a.ap_id.as_str()) {
                return bad(format!("AP id {:?} is empty or repeated", a.ap_id));
            }
            if !shops.contains(a.shop_id.as_str()) {
                return bad(format!("AP {} names unknown shop {}", a.ap_id, a.shop_id));
            }
        }
        let (mut ids, mut codes, mut sns) = (BTreeSet::new(), BTreeSet::new(), BTreeSet::new());
        for e in &self.esls {
            if e.esl_id.is_empty() || !ids.insert(e.esl_id.as_str()) {
                return bad(format!("ESL id {:?} is empty or repeated", e.esl_id));
            }
            if !e.esl_code.is_empty() && !codes.insert(e.esl_code.as_str()) {
                return bad(format!("ESL code {} is repeated", e.esl_code));
            }
            if !e.esl_sn.is_empty() && !sns.insert(e.esl_sn.as_str()) {
                return bad(format!("ESL serial number {} is repeated", e.esl_sn));
            }
            if let Some(s) = &e.shop_id {
                if !shops.contains(s.as_str()) {
                    return bad(format!("ESL {} names unknown shop {s}", e.esl_id));
                }
            }
            if let Some(a) = &e.ap_id {
                if !aps.contains(a.as_str()) {
                    return bad(format!("ESL {} names unknown AP {a}", e.esl_id));
                }
            }
        }
        for t in &self.templates {
            if !shops.contains(t.shop_id.as_str()) {
                return bad(format!(
                    "template {} names unknown shop {}",
                    t.template_id, t.shop_id
                ));
            }
        }
        for p in &self.products {
            if !shops.contains(p.shop_id.as_str()) || !p.fields.contains_key("id") {
                return bad(format!(
                    "product {:?} has no id or names unknown shop {}",
                    p.fields.get("id"),
                    p.shop_id
                ));
            }
        }
        for b in &self.bindings {
            if !ids.contains(b.esl_id.as_str()) {
                return bad(format!("binding names unknown ESL {}", b.esl_id));
            }
        }
        for h in &self.hooks {
            if !shops.contains(h.shop_id.as_str()) {
                return bad(format!("hook names unknown shop {}", h.shop_id));
            }
        }
        Ok(())
    }

    /// A small demo world: shop `1001` with two online APs, one bound ESL of each built-in
    /// model (`129200` SL121 … `129204` SL142+) and `129205` of the seed's `SL121+` (declared
    /// by the fixture, see [`sl121_plus`]), and two unbound ESLs in stock (codes `STOCK001`,
    /// `STOCK002`; serial numbers `B1011940STOCK1`, `B1011940STOCK2`); platform shop
    /// `560279010307` mapped to `1001` and `560279010308` free to map; AP `B201E96500009` in
    /// stock; templates `100`–`103` (`103`: 2.13 inch black/white, the SL121+'s); products `1`
    /// and `2`, product `1` shown on ESL `129200` with template `100`; a callback for event
    /// 4100.
    #[must_use]
    pub fn demo() -> Self {
        let mut f = Fixture {
            shops: vec![ShopFixture {
                shop_id: "1001".to_owned(),
                name: "Demo shop".to_owned(),
            }],
            aps: vec![
                ap("10200", "1001", "Gate 5"),
                ap("10201", "1001", "Back office"),
            ],
            ..Fixture::default()
        };
        for (i, model) in Model::ALL.into_iter().enumerate() {
            let mut e = esl(
                format!("{}", 129_200 + i),
                model,
                Some("1001"),
                Some("10200"),
            );
            e.esl_code = format!("SKDI39D{i}");
            e.esl_sn = format!("B101194N0000{i}");
            f.esls.push(e);
        }
        // Without room for another declared model the world has no SL121+.
        if let Ok((decl, plus)) = sl121_plus() {
            f.models.push(decl);
            let mut e = esl("129205".to_owned(), plus, Some("1001"), Some("10200"));
            e.esl_code = "SKDI39D5".to_owned();
            e.esl_sn = "B101194N00005".to_owned();
            f.esls.push(e);
        }
        for i in 1..=2 {
            let mut e = esl(
                format!("{}", 139_200 + i),
                Model::Sl126,
                None,
                Some("10201"),
            );
            e.esl_code = format!("STOCK00{i}");
            e.esl_sn = format!("B1011940STOCK{i}");
            f.esls.push(e);
        }
        f.sunmi_shops = vec![
            SunmiShopFixture {
                sunmi_shop_no: "560279010307".to_owned(),
                sunmi_shop_key: "key-560279010307".to_owned(),
                mapped_to: Some("1001".to_owned()),
            },
            SunmiShopFixture {
                sunmi_shop_no: "560279010308".to_owned(),
                sunmi_shop_key: "key-560279010308".to_owned(),
                mapped_to: None,
            },
        ];
        f.ap_stock = vec![ApStockFixture {
            ap_sn: "B201E96500009".to_owned(),
            model_name: default_ap_model(),
        }];
        for (id, name, color, screen) in [
            ("100", "price 2.13", 2, 1),
            ("101", "price 2.6", 2, 2),
            ("102", "price 4.2 bw", 1, 3),
            ("103", "price 2.13 bw", 1, 1),
        ] {
            f.templates.push(TemplateFixture {
                template_id: id.to_owned(),
                shop_id: "1001".to_owned(),
                template_name: name.to_owned(),
                template_color: color,
                template_screen: screen,
                template_json: "{}".to_owned(),
            });
        }
        for (id, name, price) in [("1", "Cola 250ml", "3.2"), ("2", "Milk 1L", "1.99")] {
            let mut fields = serde_json::Map::new();
            fields.insert("id".into(), id.into());
            fields.insert("name".into(), name.into());
            fields.insert("price".into(), price.into());
            f.products.push(ProductFixture {
                shop_id: "1001".to_owned(),
                fields,
            });
        }
        f.bindings.push(BindingFixture {
            esl_id: "129200".to_owned(),
            product_id: "1".to_owned(),
            template_id: "100".to_owned(),
        });
        f.hooks.push(HookFixture {
            shop_id: "1001".to_owned(),
            event: 4100,
            http_callback: "http://127.0.0.1:9/hook".to_owned(),
        });
        f
    }

    /// Shop `shop_id` with one online AP (`AP-1`) and `n` bound ESLs `E00000`, `E00001`, …
    /// whose models cycle through [`Model::ALL`].
    #[must_use]
    pub fn generated(shop_id: &str, n: usize) -> Self {
        let mut f = Fixture::shop(
            shop_id,
            (0..n).map(|i| (format!("E{i:05}"), Model::ALL[i % Model::ALL.len()])),
        );
        for (i, e) in f.esls.iter_mut().enumerate() {
            e.esl_code = format!("C{i:07}");
            e.esl_sn = format!("SN{i:08}");
        }
        f
    }

    /// Shop `shop_id` with one online AP (`AP-1`) and these ESLs, bound to both: the world
    /// of a test that needs given ESL ids and models.
    #[must_use]
    pub fn shop(shop_id: &str, esls: impl IntoIterator<Item = (String, Model)>) -> Self {
        Fixture {
            shops: vec![ShopFixture {
                shop_id: shop_id.to_owned(),
                name: format!("Shop {shop_id}"),
            }],
            aps: vec![ap("AP-1", shop_id, "Generated AP")],
            esls: esls
                .into_iter()
                .map(|(id, model)| esl(id, model, Some(shop_id), Some("AP-1")))
                .collect(),
            ..Fixture::default()
        }
    }
}

/// The demo fixture's `SL121+`: the model of the seed's getList and getInfo samples, which its
/// size table lacks. getInfo says "2.13寸", so 212 × 104; the seed says nothing of its inks,
/// and the fixture declares it black/white (our choice, as for SL126+, not a fact of the
/// platform). If this process declared an `SL121+` already, that declaration is used.
///
/// # Errors
/// [`esl_model::ModelError`] only when the process has declared as many models as it may.
pub fn sl121_plus() -> Result<(ModelDecl, Model), esl_model::ModelError> {
    let mut decl = ModelDecl::new("SL121+", 212, 104, esl_model::Palette::BlackWhite);
    decl.screen = Some(esl_model::Screen::In2_13);
    let m = match "SL121+".parse::<Model>() {
        Ok(m) => m,
        Err(_) => Model::declare(&decl)?,
    };
    let mut declared = ModelDecl::new(m.name(), m.size().0, m.size().1, m.palette());
    declared.screen = m.screen();
    Ok((declared, m))
}

fn ap(id: &str, shop: &str, name: &str) -> ApFixture {
    ApFixture {
        ap_id: id.to_owned(),
        ap_sn: format!("B201E95D{id}"),
        ap_name: name.to_owned(),
        model_name: default_ap_model(),
        shop_id: shop.to_owned(),
        status: 1,
        software_version: default_version(),
    }
}

fn esl(id: String, model: Model, shop: Option<&str>, ap: Option<&str>) -> EslFixture {
    EslFixture {
        esl_id: id,
        esl_code: String::new(),
        esl_sn: String::new(),
        model,
        shop_id: shop.map(str::to_owned),
        ap_id: ap.map(str::to_owned),
        status: None,
        battery: default_battery(),
        rssi: default_rssi(),
        software_version: default_version(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_round_trips_and_checks() {
        let demo = Fixture::demo();
        demo.check().unwrap();
        let json = serde_json::to_vec_pretty(&demo).unwrap();
        assert_eq!(Fixture::from_json(&json).unwrap(), demo);
        Fixture::generated("S", 20).check().unwrap();
    }

    #[test]
    fn bad_references_are_refused() {
        let bad = br#"{"shops":[],"esls":[{"esl_id":"1","model":"SL121","shop_id":"x"}]}"#;
        assert!(matches!(
            Fixture::from_json(bad),
            Err(FixtureError::Inconsistent(_))
        ));
        let unknown = br#"{"shops":[],"colour":1}"#;
        assert!(matches!(
            Fixture::from_json(unknown),
            Err(FixtureError::Json(_))
        ));
        let model = br#"{"esls":[{"esl_id":"1","model":"SL999"}]}"#;
        assert!(Fixture::from_json(model).is_err());
    }
}
