//! Receiving the platform's event notifications: the Notification Center of seed 001.
//!
//! After `/hook/add`, the platform POSTs each event of the shop to the registered
//! `http_callback` as a form with `shop_id`, `event` and `payload` (JSON text), authorised
//! "the same as the open platform API": the common parameters `app_id`, `random`,
//! `timestamp` and an MD5 `sign` over all of them with the app's secret
//! ([`crate::sign::sign`]). [`HookVerifier`] checks exactly that, plus a timestamp window
//! and single-use `random` values (replays are refused); [`router`] is an axum `Router` an
//! embedder mounts, which answers 401 to anything that fails the check and passes each
//! accepted [`Delivery`] on to a channel.
//!
//! Seed decisions: the seed does not say how the platform expects the callback to answer;
//! the receiver answers the platform's own envelope `{"code": 0, "msg": "succeed"}` with
//! HTTP 200, and `{"code": 1, "msg": …}` with HTTP 401 (authorisation) or 400 (a signed
//! delivery without `shop_id`, `event` or JSON `payload`). The seed's payload samples are
//! not strict JSON (`ipc_id: 029388`); identifiers are read from strings or numbers.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde::{Deserialize, Deserializer, Serialize};
use tokio::sync::mpsc;

use crate::sign::{Secret, is_valid_random, sign, timestamp_now};

/// How far (seconds) a delivery's `timestamp` may lie from the receiver's clock, either way.
pub const DEFAULT_WINDOW_SECS: u64 = 300;

/// An identifier the seed prints as a string in one sample and a number in another.
fn id_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(s),
        serde_json::Value::Number(n) => Ok(n.to_string()),
        serde_json::Value::Null => Ok(String::new()),
        other => Err(serde::de::Error::custom(format!(
            "expected a string or a number, got {other}"
        ))),
    }
}

/// Event 1010: an IPC FM010 motion (or voice) detection.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct MotionDetected {
    /// The IPC.
    #[serde(deserialize_with = "id_text")]
    pub ipc_id: String,
    /// The device's serial number.
    #[serde(default)]
    pub sn: String,
    /// The device's name.
    #[serde(default)]
    pub name: String,
    /// The recording.
    #[serde(default)]
    pub video_url: String,
    /// The device model (e.g. `FM020`).
    #[serde(default)]
    pub model_name: String,
    /// 1 motion detection, 2 voice detection.
    #[serde(default)]
    pub motion_type: i64,
}

/// Event 1100: the result of adding a face to a group.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct FaceAdded {
    /// 0 on success; 5527 bad face image, 5000 database error.
    pub code: i64,
    /// The message.
    #[serde(default)]
    pub msg: String,
    /// The face.
    #[serde(deserialize_with = "id_text")]
    pub face_id: String,
}

/// Event 2001: an IPC's real-time face recognition.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct FaceRecognised {
    /// The IPC.
    #[serde(deserialize_with = "id_text")]
    pub ipc_id: String,
    /// The face.
    #[serde(deserialize_with = "id_text")]
    pub face_id: String,
    /// 0 unknown, 1 male, 2 female.
    #[serde(default)]
    pub gender: i64,
    /// 1 (0–6) … 8 (56 and over), as the seed's table.
    #[serde(default)]
    pub age_range: i64,
    /// The face library.
    #[serde(default, deserialize_with = "id_text")]
    pub group_id: String,
    /// Its name.
    #[serde(default)]
    pub group_name: String,
    /// 1 stranger, 2 familiar, 3 shop assistant, 5 custom.
    #[serde(default)]
    pub group_type: i64,
}

/// Event 6001: an unprocessed text receipt from a cloud printer.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ReceiptText {
    /// The receipt id the platform gave it.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// The printer's serial number.
    #[serde(default)]
    pub sn: String,
    /// The receipt's text.
    #[serde(default)]
    pub text: String,
}

/// Event 6002: an unprocessed picture receipt.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ReceiptImage {
    /// The receipt id.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// The printer's serial number.
    #[serde(default)]
    pub sn: String,
    /// The picture, base64.
    #[serde(default)]
    pub base64_image: String,
}

/// One line of a processed receipt.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct ReceiptLine {
    /// The unit price.
    #[serde(default)]
    pub amount: f64,
    /// The item's name.
    #[serde(default)]
    pub item: String,
    /// The quantity.
    #[serde(default)]
    pub quantity: f64,
}

/// Event 6003: a processed receipt.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
pub struct Receipt {
    /// The receipt id.
    #[serde(deserialize_with = "id_text")]
    pub id: String,
    /// The printer's serial number.
    #[serde(default)]
    pub sn: String,
    /// The order on the receipt.
    #[serde(default, deserialize_with = "id_text")]
    pub order_id: String,
    /// When the receipt was made, as printed.
    #[serde(default)]
    pub order_time: String,
    /// The receipt's total.
    #[serde(default)]
    pub total_payment: f64,
    /// Its lines.
    #[serde(default)]
    pub sales_detail_list: Vec<ReceiptLine>,
}

/// A delivered event, typed where the seed describes it.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// 1010.
    MotionDetected(MotionDetected),
    /// 1100.
    FaceAdded(FaceAdded),
    /// 2001.
    FaceRecognised(FaceRecognised),
    /// 4100, a price change; the seed marks it "currently unavailable" and gives no payload
    /// structure, so it is kept as sent.
    PriceChanged(serde_json::Value),
    /// 6001.
    ReceiptText(ReceiptText),
    /// 6002.
    ReceiptImage(ReceiptImage),
    /// 6003.
    Receipt(Receipt),
    /// An event the seed does not list, or a listed one whose payload does not have the
    /// seed's shape (`reason` says why): kept as sent, never dropped.
    Other {
        /// The event code.
        event: i64,
        /// The payload.
        payload: serde_json::Value,
        /// Why a listed event was not typed (`None` for an unlisted one).
        reason: Option<String>,
    },
}

impl Event {
    /// Types `payload` by `event`.
    #[must_use]
    pub fn parse(event: i64, payload: &serde_json::Value) -> Event {
        fn typed<T: serde::de::DeserializeOwned>(
            event: i64,
            payload: &serde_json::Value,
            wrap: fn(T) -> Event,
        ) -> Event {
            match T::deserialize(payload) {
                Ok(v) => wrap(v),
                Err(e) => Event::Other {
                    event,
                    payload: payload.clone(),
                    reason: Some(e.to_string()),
                },
            }
        }
        match event {
            1010 => typed(event, payload, Event::MotionDetected),
            1100 => typed(event, payload, Event::FaceAdded),
            2001 => typed(event, payload, Event::FaceRecognised),
            4100 => Event::PriceChanged(payload.clone()),
            6001 => typed(event, payload, Event::ReceiptText),
            6002 => typed(event, payload, Event::ReceiptImage),
            6003 => typed(event, payload, Event::Receipt),
            _ => Event::Other {
                event,
                payload: payload.clone(),
                reason: None,
            },
        }
    }
}

/// An accepted, authenticated delivery.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    /// The shop it concerns.
    pub shop_id: String,
    /// The event code.
    pub event: i64,
    /// The payload as sent (parsed from its JSON text).
    pub payload: serde_json::Value,
    /// The payload typed.
    pub typed: Event,
}

impl Delivery {
    /// The delivery as one JSON object `{"shop_id", "event", "payload"}`.
    #[must_use]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"shop_id": self.shop_id, "event": self.event, "payload": self.payload})
    }
}

/// Why a delivery was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    /// A required parameter is absent.
    #[error("parameter {0} is missing")]
    Missing(&'static str),
    /// The `app_id` is not ours.
    #[error("app_id {0:?} is not this receiver's")]
    WrongApp(String),
    /// `random` breaks the seed's rule (6–10 letters and digits).
    #[error("random {0:?} is not 6 to 10 letters and digits")]
    BadRandom(String),
    /// `timestamp` is not a number, or lies outside the window.
    #[error("timestamp {timestamp:?} is outside {window} s of the receiver's clock ({now})")]
    Stale {
        /// As sent.
        timestamp: String,
        /// The receiver's clock.
        now: u64,
        /// The window.
        window: u64,
    },
    /// The sign does not match.
    #[error("sign does not match")]
    BadSign,
    /// This `random` was already used within the window.
    #[error("random {0:?} was already used (a replay)")]
    Replayed(String),
    /// Signed, but `event` or `payload` cannot be read.
    #[error("{0}")]
    Malformed(String),
}

impl Rejected {
    /// Whether this is an authorisation failure (HTTP 401) rather than a bad delivery (400).
    #[must_use]
    pub fn is_unauthorised(&self) -> bool {
        !matches!(self, Rejected::Malformed(_))
    }
}

/// Checks deliveries as the Notification Center authorises them. Share one per receiver:
/// it remembers the `random` values it has accepted within the window.
pub struct HookVerifier {
    app_id: String,
    secret: Secret,
    window: u64,
    seen: Mutex<HashMap<String, u64>>,
}

impl std::fmt::Debug for HookVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HookVerifier")
            .field("app_id", &self.app_id)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl HookVerifier {
    /// A verifier for deliveries to `app_id`, signed with `secret`, with the default window.
    #[must_use]
    pub fn new(app_id: impl Into<String>, secret: Secret) -> HookVerifier {
        HookVerifier {
            app_id: app_id.into(),
            secret,
            window: DEFAULT_WINDOW_SECS,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Sets the timestamp window, in seconds either way.
    #[must_use]
    pub fn window(mut self, secs: u64) -> HookVerifier {
        self.window = secs;
        self
    }

    /// Checks one delivery's form parameters against the clock `now` (unix seconds).
    ///
    /// # Errors
    /// [`Rejected`] naming the first check that fails; a `random` is used up only by a
    /// delivery that passes every check.
    pub fn verify(&self, params: &[(String, String)], now: u64) -> Result<Delivery, Rejected> {
        let get = |k: &'static str| {
            params
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.as_str())
                .ok_or(Rejected::Missing(k))
        };
        let app_id = get("app_id")?;
        let random = get("random")?;
        let timestamp = get("timestamp")?;
        let given = get("sign")?;
        if app_id != self.app_id {
            return Err(Rejected::WrongApp(app_id.to_owned()));
        }
        if !is_valid_random(random) {
            return Err(Rejected::BadRandom(random.to_owned()));
        }
        let stale = || Rejected::Stale {
            timestamp: timestamp.to_owned(),
            now,
            window: self.window,
        };
        let ts: u64 = timestamp.parse().map_err(|_| stale())?;
        if ts.abs_diff(now) > self.window {
            return Err(stale());
        }
        let expected = sign(
            params.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &self.secret,
        );
        if !given.eq_ignore_ascii_case(&expected) {
            return Err(Rejected::BadSign);
        }
        let shop_id = get("shop_id")
            .map_err(|e| Rejected::Malformed(e.to_string()))?
            .to_owned();
        let event: i64 = get("event")
            .map_err(|e| Rejected::Malformed(e.to_string()))?
            .trim()
            .parse()
            .map_err(|_| Rejected::Malformed("event is not an integer".into()))?;
        let payload: serde_json::Value =
            serde_json::from_str(get("payload").map_err(|e| Rejected::Malformed(e.to_string()))?)
                .map_err(|e| Rejected::Malformed(format!("payload is not JSON: {e}")))?;
        {
            let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
            let window = self.window;
            seen.retain(|_, &mut t| t.abs_diff(now) <= window);
            if seen.contains_key(random) {
                return Err(Rejected::Replayed(random.to_owned()));
            }
            seen.insert(random.to_owned(), ts);
        }
        let typed = Event::parse(event, &payload);
        Ok(Delivery {
            shop_id,
            event,
            payload,
            typed,
        })
    }
}

struct Receiver {
    verifier: Arc<HookVerifier>,
    sink: mpsc::Sender<Delivery>,
}

fn reply(status: StatusCode, code: i64, msg: &str) -> Response {
    let body = serde_json::json!({"code": code, "msg": msg, "data": {}});
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

async fn receive(State(r): State<Arc<Receiver>>, body: Bytes) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    match r.verifier.verify(&params, timestamp_now()) {
        Ok(delivery) => {
            if r.sink.send(delivery).await.is_err() {
                // Nobody listens any more: say so, so that the platform delivers again.
                return reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    1,
                    "receiver is shutting down",
                );
            }
            reply(StatusCode::OK, 0, "succeed")
        }
        Err(e) if e.is_unauthorised() => reply(StatusCode::UNAUTHORIZED, 1, &e.to_string()),
        Err(e) => reply(StatusCode::BAD_REQUEST, 1, &e.to_string()),
    }
}

/// An axum `Router` serving `POST path`: each delivery is checked by `verifier`; an
/// accepted one goes to `sink` (the reply waits until the channel takes it), a refused one
/// gets HTTP 401 (or 400 when signed but malformed) and goes nowhere.
///
/// ```no_run
/// # async fn demo() -> std::io::Result<()> {
/// use esl_push::hooks::{HookVerifier, router};
/// use esl_push::Secret;
/// let (tx, mut rx) = tokio::sync::mpsc::channel(64);
/// let verifier = std::sync::Arc::new(HookVerifier::new("my-app-id", Secret::new("my-secret")));
/// let app = router(verifier, "/hook", tx);
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:8081").await?;
/// tokio::spawn(async move { axum::serve(listener, app).await });
/// while let Some(delivery) = rx.recv().await {
///     println!("{}", delivery.to_json());
/// }
/// # Ok(()) }
/// ```
pub fn router(verifier: Arc<HookVerifier>, path: &str, sink: mpsc::Sender<Delivery>) -> Router {
    Router::new()
        .route(path, post(receive))
        .with_state(Arc::new(Receiver { verifier, sink }))
}
