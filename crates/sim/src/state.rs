//! The simulator's state, and what tests can inspect of it.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::Arc;

use esl_model::Model;
use rand::rngs::StdRng;

use crate::config::{Fault, FaultConfig};
use crate::fixture::{Fixture, TemplateFixture};

/// The last image an ESL accepted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredImage {
    /// The file as received (the `pic` part).
    pub bytes: Arc<[u8]>,
    /// Decoded width.
    pub width: u32,
    /// Decoded height.
    pub height: u32,
    /// Sequence number of the request that delivered it.
    pub request_seq: u64,
}

/// One flashLed order an ESL received, with the seed's defaults applied.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FlashRecord {
    /// LED colour code (`channel`).
    pub channel: u32,
    /// Length of one flash, × 10 ms.
    pub cycle: u32,
    /// Number of flashes.
    pub duration: u32,
}

/// A snapshot of one simulated ESL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EslSnapshot {
    /// Id.
    pub esl_id: String,
    /// 8-character code.
    pub esl_code: String,
    /// Serial number.
    pub esl_sn: String,
    /// Model.
    pub model: Model,
    /// Shop it is bound to.
    pub shop_id: Option<String>,
    /// AP.
    pub ap_id: Option<String>,
    /// Status (seed 001, ESL §4.3.3).
    pub status: i64,
    /// Images accepted so far.
    pub push_count: u64,
    /// The last accepted image.
    pub last_image: Option<StoredImage>,
    /// LED orders received, oldest first.
    pub flashes: Vec<FlashRecord>,
}

/// A snapshot of one simulated AP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApSnapshot {
    /// Id.
    pub ap_id: String,
    /// Serial number.
    pub ap_sn: String,
    /// Name.
    pub ap_name: String,
    /// Model name.
    pub model_name: String,
    /// Shop.
    pub shop_id: String,
    /// Status (0 not activated, 1 online, 2 offline).
    pub status: i64,
    /// Firmware version.
    pub software_version: String,
    /// Reboot orders received.
    pub reboots: u64,
}

/// One request the simulator saw, in arrival order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestRecord {
    /// 0-based arrival number.
    pub seq: u64,
    /// Request path.
    pub path: String,
    /// Text parameters as received (`sign`, `random`, `timestamp` included); empty when
    /// the request was failed before its body was read.
    pub params: BTreeMap<String, String>,
    /// Size of the file part, if any.
    pub file_bytes: Option<usize>,
    /// HTTP status sent (0 when the connection was dropped).
    pub http_status: u16,
    /// Platform `code` sent, if a JSON reply was sent.
    pub code: Option<i64>,
    /// The reply's `msg` (or the reason of a refusal).
    pub message: String,
    /// The injected fault, if any.
    pub fault: Option<Fault>,
}

#[derive(Clone, Debug)]
pub(crate) struct Esl {
    pub(crate) snap: EslSnapshot,
    pub(crate) battery: i64,
    pub(crate) rssi: i64,
    pub(crate) software_version: String,
}

pub(crate) struct State {
    pub(crate) shops: BTreeMap<String, String>,
    pub(crate) esls: BTreeMap<String, Esl>,
    pub(crate) aps: BTreeMap<String, ApSnapshot>,
    /// `random` values seen, with the time they were seen (sim clock, seconds).
    pub(crate) randoms: HashMap<String, i64>,
    pub(crate) log: Vec<RequestRecord>,
    pub(crate) faults: FaultConfig,
    pub(crate) rng: StdRng,
    pub(crate) scripted: VecDeque<Fault>,
    pub(crate) next_seq: u64,
    /// Platform shop number → (API key, SaaS shop mapped to it).
    pub(crate) sunmi_shops: BTreeMap<String, (String, Option<String>)>,
    /// The parameters `/shop/bind` and `/shop/update` stored, by SaaS shop.
    pub(crate) shop_details: BTreeMap<String, BTreeMap<String, String>>,
    /// APs in stock: serial number → model name.
    pub(crate) ap_stock: BTreeMap<String, String>,
    /// Platform templates by id.
    pub(crate) templates: BTreeMap<String, TemplateFixture>,
    /// Products by (shop, id).
    pub(crate) products: BTreeMap<(String, String), serde_json::Map<String, serde_json::Value>>,
    /// ESL id → (product id, template id).
    pub(crate) bindings: BTreeMap<String, (String, String)>,
    /// (shop, event) → callback URL.
    pub(crate) hooks: BTreeMap<(String, i64), String>,
    /// Orders by (shop, order_no).
    pub(crate) orders: BTreeMap<(String, String), serde_json::Value>,
    /// Counter for ids the simulator hands out (APs, templates).
    pub(crate) next_id: u64,
}

impl State {
    pub(crate) fn new(fixture: &Fixture, faults: FaultConfig, rng: StdRng) -> Self {
        let shops = fixture
            .shops
            .iter()
            .map(|s| (s.shop_id.clone(), s.name.clone()))
            .collect();
        let esls = fixture
            .esls
            .iter()
            .map(|e| {
                let status = e.status.unwrap_or(if e.shop_id.is_some() { 2 } else { 1 });
                let snap = EslSnapshot {
                    esl_id: e.esl_id.clone(),
                    esl_code: e.esl_code.clone(),
                    esl_sn: e.esl_sn.clone(),
                    model: e.model,
                    shop_id: e.shop_id.clone(),
                    ap_id: e.ap_id.clone(),
                    status,
                    push_count: 0,
                    last_image: None,
                    flashes: Vec::new(),
                };
                (
                    e.esl_id.clone(),
                    Esl {
                        snap,
                        battery: e.battery,
                        rssi: e.rssi,
                        software_version: e.software_version.clone(),
                    },
                )
            })
            .collect();
        let aps = fixture
            .aps
            .iter()
            .map(|a| {
                (
                    a.ap_id.clone(),
                    ApSnapshot {
                        ap_id: a.ap_id.clone(),
                        ap_sn: a.ap_sn.clone(),
                        ap_name: a.ap_name.clone(),
                        model_name: a.model_name.clone(),
                        shop_id: a.shop_id.clone(),
                        status: a.status,
                        software_version: a.software_version.clone(),
                        reboots: 0,
                    },
                )
            })
            .collect();
        let sunmi_shops = fixture
            .sunmi_shops
            .iter()
            .map(|s| {
                (
                    s.sunmi_shop_no.clone(),
                    (s.sunmi_shop_key.clone(), s.mapped_to.clone()),
                )
            })
            .collect();
        let mut shop_details: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for s in &fixture.shops {
            let mut d = BTreeMap::new();
            d.insert("shop_name".to_owned(), s.name.clone());
            if let Some(no) = fixture
                .sunmi_shops
                .iter()
                .find(|x| x.mapped_to.as_deref() == Some(s.shop_id.as_str()))
            {
                d.insert("sunmi_shop_no".to_owned(), no.sunmi_shop_no.clone());
            }
            shop_details.insert(s.shop_id.clone(), d);
        }
        Self {
            sunmi_shops,
            shop_details,
            ap_stock: fixture
                .ap_stock
                .iter()
                .map(|a| (a.ap_sn.clone(), a.model_name.clone()))
                .collect(),
            templates: fixture
                .templates
                .iter()
                .map(|t| (t.template_id.clone(), t.clone()))
                .collect(),
            products: fixture
                .products
                .iter()
                .map(|p| {
                    let id = crate::platform::id_text(p.fields.get("id"));
                    ((p.shop_id.clone(), id), p.fields.clone())
                })
                .collect(),
            bindings: fixture
                .bindings
                .iter()
                .map(|b| {
                    (
                        b.esl_id.clone(),
                        (b.product_id.clone(), b.template_id.clone()),
                    )
                })
                .collect(),
            hooks: fixture
                .hooks
                .iter()
                .map(|h| ((h.shop_id.clone(), h.event), h.http_callback.clone()))
                .collect(),
            orders: BTreeMap::new(),
            next_id: 900_000,
            shops,
            esls,
            aps,
            randoms: HashMap::new(),
            log: Vec::new(),
            faults,
            rng,
            scripted: VecDeque::new(),
            next_seq: 0,
        }
    }
}
