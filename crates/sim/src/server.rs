//! The HTTP side: connection handling (with dropped connections on demand), the request
//! pipeline (size, parsing, app_id, sign, timestamp, random, faults) and the endpoints.

use std::collections::BTreeMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Body;
use axum::extract::Path as AxPath;
use axum::extract::{FromRequest, Multipart, Request, State as AxState};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use esl_model::Model;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tower::ServiceExt;

use crate::check::{check_image, expected_sign};
use crate::config::{Fault, FaultConfig, SimConfig};
use crate::fixture::FixtureError;
use crate::state::{ApSnapshot, EslSnapshot, FlashRecord, RequestRecord, State, StoredImage};

/// The endpoints the simulator serves (seed 001, ESL §4.2 and §5.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Endpoint {
    PushImage,
    FlashLed,
    Bind,
    Unbind,
    EslList,
    EslInfo,
    Overview,
    ApList,
    ApInfo,
    ApReboot,
    /// Any other endpoint of seeds 000 and 001, served by `crate::platform`.
    Extra(&'static str),
}

const ENDPOINTS: [(&str, Endpoint); 10] = [
    ("/device/esl/pushImage", Endpoint::PushImage),
    ("/device/esl/flashLed", Endpoint::FlashLed),
    ("/device/esl/bind", Endpoint::Bind),
    ("/device/esl/unbind", Endpoint::Unbind),
    ("/device/esl/getList", Endpoint::EslList),
    ("/device/esl/getInfo", Endpoint::EslInfo),
    ("/device/getOverview", Endpoint::Overview),
    ("/device/ap/getList", Endpoint::ApList),
    ("/device/ap/getInfo", Endpoint::ApInfo),
    ("/device/ap/reboot", Endpoint::ApReboot),
];

/// The LED channels flashLed accepts (seed 001, ESL §4.3.6).
const LED_CHANNELS: [u32; 7] = [1, 2, 4, 8, 512, 1024, 2048];

impl Endpoint {
    pub(crate) fn path(self) -> &'static str {
        if let Endpoint::Extra(p) = self {
            return p;
        }
        ENDPOINTS
            .iter()
            .find(|(_, e)| *e == self)
            .map_or("", |(p, _)| p)
    }

    /// The code for a missing or malformed endpoint parameter: the one the endpoint's own
    /// error table lists, else 5022 from the general list (our choice; the seed has three
    /// "invalid parameter" codes).
    pub(crate) fn param_code(self) -> i64 {
        match self {
            Endpoint::PushImage | Endpoint::EslList | Endpoint::ApList => 5020,
            Endpoint::EslInfo => 5023,
            Endpoint::Extra(p) => crate::platform::param_code(p),
            _ => 5022,
        }
    }
}

/// Marker: the connection layer closes the connection instead of answering.
#[derive(Clone, Copy)]
struct DropConnection;

#[derive(Debug)]
struct Dropped;

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection dropped by fault injection")
    }
}

impl std::error::Error for Dropped {}

pub(crate) struct Shared {
    config: SimConfig,
    state: Mutex<State>,
    pub(crate) started_at: i64,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The simulator's clock: unix seconds plus the configured skew.
    pub(crate) fn now(&self) -> i64 {
        unix_now().saturating_add(self.config.clock_skew_secs)
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A reply: HTTP status and the `{code, msg, data}` body.
pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) code: i64,
    pub(crate) msg: String,
    pub(crate) data: Value,
}

pub(crate) fn ok(data: Value) -> Reply {
    Reply {
        status: StatusCode::OK,
        code: 0,
        msg: "succeed".to_owned(),
        data,
    }
}

pub(crate) fn fail(code: i64, msg: impl Into<String>) -> Reply {
    Reply {
        status: StatusCode::OK,
        code,
        msg: msg.into(),
        data: json!({}),
    }
}

pub(crate) type Params = BTreeMap<String, String>;

/// Errors of [`Simulator::start`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SimError {
    /// The port could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// The fixture is inconsistent.
    #[error(transparent)]
    Fixture(#[from] FixtureError),
}

/// Why [`SimHandle::deliver`] could not deliver an event.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The registered callback is not a plain `http://host:port/path` URL.
    #[error("callback {0:?} is not an http://host:port/path URL")]
    Url(String),
    /// Connecting or the request failed.
    #[error("delivery failed: {0}")]
    Io(String),
}

/// The simulator. Start it with [`Simulator::start`]; it runs until the returned handle is
/// shut down or dropped.
#[derive(Debug)]
pub struct Simulator;

impl Simulator {
    /// Listens on `127.0.0.1:config.port` and serves the platform's ESL and AP endpoints.
    ///
    /// # Errors
    /// [`SimError::Bind`] if the port is taken; [`SimError::Fixture`] for a bad fixture.
    pub async fn start(config: SimConfig) -> Result<SimHandle, SimError> {
        config.fixture.check()?;
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, config.port));
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| SimError::Bind { addr, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| SimError::Bind { addr, source })?;
        let rng = StdRng::seed_from_u64(config.faults.seed);
        let state = State::new(&config.fixture, config.faults.clone(), rng);
        let started_at = unix_now().saturating_add(config.clock_skew_secs);
        let shared = Arc::new(Shared {
            config,
            state: Mutex::new(state),
            started_at,
        });
        let router = router(Arc::clone(&shared));
        let (tx, rx) = watch::channel(false);
        let task = tokio::spawn(accept_loop(listener, router, rx));
        tracing::info!(%addr, "esl-sim listening");
        Ok(SimHandle {
            addr,
            shared,
            shutdown: tx,
            task: Some(task),
        })
    }
}

/// A running simulator: its address, and inspection and control of its state.
pub struct SimHandle {
    addr: SocketAddr,
    shared: Arc<Shared>,
    shutdown: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SimHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimHandle")
            .field("addr", &self.addr)
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl SimHandle {
    /// The socket address.
    #[must_use]
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`: the base URL to give a client (endpoint paths are served at
    /// the root).
    #[must_use]
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The `app_id` the simulator accepts.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.shared.config.app_id
    }

    /// The last image `esl_id` accepted.
    #[must_use]
    pub fn last_image(&self, esl_id: &str) -> Option<StoredImage> {
        self.shared
            .lock()
            .esls
            .get(esl_id)
            .and_then(|e| e.snap.last_image.clone())
    }

    /// A snapshot of one ESL.
    #[must_use]
    pub fn esl(&self, esl_id: &str) -> Option<EslSnapshot> {
        self.shared.lock().esls.get(esl_id).map(|e| e.snap.clone())
    }

    /// Snapshots of every ESL, by id.
    #[must_use]
    pub fn esls(&self) -> Vec<EslSnapshot> {
        self.shared
            .lock()
            .esls
            .values()
            .map(|e| e.snap.clone())
            .collect()
    }

    /// A snapshot of one AP.
    #[must_use]
    pub fn ap(&self, ap_id: &str) -> Option<ApSnapshot> {
        self.shared.lock().aps.get(ap_id).cloned()
    }

    /// Delivers `event` of `shop_id` with `payload` to the callback registered for it, as
    /// the Notification Center does: a form POST of `shop_id`, `event`, `payload` (JSON
    /// text) and the common parameters `app_id`, `random`, `timestamp`, `sign`, signed with
    /// the app's secret. Answers the callback's HTTP status, or `Ok(None)` when no hook is
    /// registered for that shop and event.
    ///
    /// The simulator delivers over plain `http://` only (the real platform uses HTTPS).
    ///
    /// # Errors
    /// [`DeliveryError`] when the callback URL is not `http://host:port/path` or the
    /// request cannot be made.
    pub async fn deliver(
        &self,
        shop_id: &str,
        event: i64,
        payload: &Value,
    ) -> Result<Option<u16>, DeliveryError> {
        let Some(callback) = self.hook(shop_id, event) else {
            return Ok(None);
        };
        let rest = callback
            .strip_prefix("http://")
            .ok_or_else(|| DeliveryError::Url(callback.clone()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let config = &self.shared.config;
        let random: String = rand::rng()
            .sample_iter(rand::distr::Alphanumeric)
            .take(10)
            .map(char::from)
            .collect();
        let mut params: BTreeMap<String, String> = BTreeMap::new();
        params.insert("app_id".into(), config.app_id.clone());
        params.insert("random".into(), random);
        params.insert("timestamp".into(), self.shared.now().to_string());
        params.insert("shop_id".into(), shop_id.to_owned());
        params.insert("event".into(), event.to_string());
        params.insert("payload".into(), payload.to_string());
        let sign = expected_sign(&params, &config.secret);
        params.insert("sign".into(), sign);
        let body: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter())
            .finish();
        let io = |e: std::io::Error| DeliveryError::Io(e.to_string());
        let stream = tokio::net::TcpStream::connect(authority)
            .await
            .map_err(io)?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| DeliveryError::Io(e.to_string()))?;
        tokio::spawn(conn);
        let request = axum::http::Request::post(path)
            .header(header::HOST, authority)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .map_err(|e| DeliveryError::Url(format!("{callback}: {e}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| DeliveryError::Io(e.to_string()))?;
        Ok(Some(response.status().as_u16()))
    }

    /// The callback registered for `event` of `shop_id`, if any.
    #[must_use]
    pub fn hook(&self, shop_id: &str, event: i64) -> Option<String> {
        self.shared
            .lock()
            .hooks
            .get(&(shop_id.to_owned(), event))
            .cloned()
    }

    /// The name of a mapped shop, if `shop_id` is mapped.
    #[must_use]
    pub fn shop_name(&self, shop_id: &str) -> Option<String> {
        self.shared.lock().shops.get(shop_id).cloned()
    }

    /// A product's fields, if `product_id` exists in `shop_id`.
    #[must_use]
    pub fn product(
        &self,
        shop_id: &str,
        product_id: &str,
    ) -> Option<serde_json::Map<String, Value>> {
        self.shared
            .lock()
            .products
            .get(&(shop_id.to_owned(), product_id.to_owned()))
            .cloned()
    }

    /// Every request seen so far, in arrival order.
    #[must_use]
    pub fn requests(&self) -> Vec<RequestRecord> {
        self.shared.lock().log.clone()
    }

    /// Number of requests seen so far.
    #[must_use]
    pub fn request_count(&self) -> usize {
        self.shared.lock().log.len()
    }

    /// Number of requests seen so far for `path` (e.g. `/device/esl/pushImage`).
    #[must_use]
    pub fn count(&self, path: &str) -> usize {
        self.shared
            .lock()
            .log
            .iter()
            .filter(|r| r.path == path)
            .count()
    }

    /// Forgets the request log.
    pub fn clear_log(&self) {
        self.shared.lock().log.clear();
    }

    /// The next `times` requests get `fault` (before any random fault).
    pub fn inject(&self, fault: Fault, times: usize) {
        let mut s = self.shared.lock();
        s.scripted.extend(std::iter::repeat_n(fault, times));
    }

    /// Replaces the random faults and re-seeds their generator.
    pub fn set_faults(&self, faults: FaultConfig) {
        let mut s = self.shared.lock();
        s.rng = StdRng::seed_from_u64(faults.seed);
        s.faults = faults;
    }

    /// Stops accepting connections and closes open ones gracefully.
    pub async fn shutdown(mut self) {
        let _ = self.shutdown.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for SimHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
    }
}

async fn accept_loop(listener: TcpListener, router: Router, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = shutdown.changed() => break,
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else {
                    // Out of file descriptors or similar: back off a little.
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    continue;
                };
                let _ = stream.set_nodelay(true);
                let router = router.clone();
                let mut stop = shutdown.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                        let router = router.clone();
                        async move {
                            let response = match router.oneshot(req).await {
                                Ok(r) => r,
                                Err(never) => match never {},
                            };
                            if response.extensions().get::<DropConnection>().is_some() {
                                // An error from the service makes hyper close the connection
                                // without writing a response.
                                Err(Dropped)
                            } else {
                                Ok(response)
                            }
                        }
                    });
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    tokio::pin!(conn);
                    tokio::select! {
                        _ = conn.as_mut() => {}
                        _ = stop.changed() => {
                            conn.as_mut().graceful_shutdown();
                            let _ = conn.await;
                        }
                    }
                });
            }
        }
    }
}

fn router(shared: Arc<Shared>) -> Router {
    let mut r: Router<Arc<Shared>> = Router::new();
    let extra = crate::platform::PATHS
        .iter()
        .map(|p| (*p, Endpoint::Extra(p)));
    for (path, ep) in ENDPOINTS.into_iter().chain(extra) {
        r = r.route(
            path,
            post(move |AxState(s): AxState<Arc<Shared>>, req: Request| handle(s, ep, req)),
        );
    }
    r.route("/sim/esls", get(view_esls))
        .route("/sim/esls/{esl_id}/image.png", get(view_image))
        .fallback(unknown_route)
        .with_state(shared)
}

/// `GET /sim/esls`, simulator only (not a platform path, unsigned, not in the request log):
/// every ESL with its shop, model and the request that delivered its last picture.
async fn view_esls(AxState(s): AxState<Arc<Shared>>) -> Response {
    let st = s.lock();
    let esls: Vec<Value> = st
        .esls
        .values()
        .map(|e| {
            let snap = &e.snap;
            json!({
                "esl_id": snap.esl_id,
                "shop_id": snap.shop_id,
                "model": snap.model.name(),
                "push_count": snap.push_count,
                "request_seq": snap.last_image.as_ref().map(|i| i.request_seq),
                "width": snap.last_image.as_ref().map(|i| i.width),
                "height": snap.last_image.as_ref().map(|i| i.height),
            })
        })
        .collect();
    axum::Json(json!({ "esls": esls })).into_response()
}

/// `GET /sim/esls/{esl_id}/image.png`, simulator only: the last picture the ESL accepted, as
/// received; 404 for an unknown ESL or one that has none yet.
async fn view_image(AxState(s): AxState<Arc<Shared>>, AxPath(esl_id): AxPath<String>) -> Response {
    let image = {
        let st = s.lock();
        match st.esls.get(&esl_id) {
            None => return (StatusCode::NOT_FOUND, format!("no ESL {esl_id:?}")).into_response(),
            Some(e) => e.snap.last_image.clone(),
        }
    };
    match image {
        None => (
            StatusCode::NOT_FOUND,
            format!("ESL {esl_id:?} has accepted no picture yet"),
        )
            .into_response(),
        Some(image) => {
            // The pictures are checked to decode; pushImage takes PNG (and JPEG, as sent).
            let content_type = if image.bytes.starts_with(b"\x89PNG") {
                "image/png"
            } else {
                "application/octet-stream"
            };
            (
                [
                    (header::CONTENT_TYPE, content_type),
                    (header::CACHE_CONTROL, "no-store"),
                ],
                Body::from(image.bytes.to_vec()),
            )
                .into_response()
        }
    }
}

/// Any other path or method: a 404 that names the request (so a test sees what it sent).
async fn unknown_route(AxState(s): AxState<Arc<Shared>>, req: Request) -> Response {
    let msg = format!(
        "esl-sim does not serve {} {}; it serves POST {}, {} (and, simulator only, GET /sim/esls, /sim/esls/ESL/image.png)",
        req.method(),
        req.uri().path(),
        ENDPOINTS.map(|(p, _)| p).join(", "),
        crate::platform::PATHS.join(", ")
    );
    let mut st = s.lock();
    let seq = st.next_seq;
    st.next_seq += 1;
    st.log.push(RequestRecord {
        seq,
        path: req.uri().path().to_owned(),
        params: BTreeMap::new(),
        file_bytes: None,
        http_status: 404,
        code: None,
        message: msg.clone(),
        fault: None,
    });
    (StatusCode::NOT_FOUND, msg).into_response()
}

async fn handle(shared: Arc<Shared>, ep: Endpoint, req: Request) -> Response {
    let (seq, fault) = {
        let mut st = shared.lock();
        let seq = st.next_seq;
        st.next_seq += 1;
        let fault = match st.scripted.pop_front() {
            Some(f) => Some(f),
            None => {
                let u: f64 = st.rng.random();
                st.faults.pick(u)
            }
        };
        (seq, fault)
    };
    let mut rec = RequestRecord {
        seq,
        path: ep.path().to_owned(),
        params: BTreeMap::new(),
        file_bytes: None,
        http_status: 0,
        code: None,
        message: String::new(),
        fault,
    };
    match fault {
        Some(Fault::Drop) => {
            rec.message = "connection dropped (injected fault)".to_owned();
            shared.lock().log.push(rec);
            let mut r = Response::new(Body::empty());
            r.extensions_mut().insert(DropConnection);
            return r;
        }
        Some(Fault::Http(status)) => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            rec.http_status = status.as_u16();
            rec.message = format!("HTTP {status} (injected fault)");
            let body = rec.message.clone();
            shared.lock().log.push(rec);
            let mut r = (status, body).into_response();
            if status == StatusCode::TOO_MANY_REQUESTS {
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            }
            return r;
        }
        Some(Fault::Delay(d)) => tokio::time::sleep(d).await,
        Some(Fault::Code(_)) | None => {}
    }
    let reply = process(&shared, ep, req, &mut rec, fault).await;
    rec.http_status = reply.status.as_u16();
    rec.code = Some(reply.code);
    rec.message = reply.msg.clone();
    tracing::debug!(
        path = rec.path,
        code = reply.code,
        msg = reply.msg,
        "esl-sim reply"
    );
    shared.lock().log.push(rec);
    let body = json!({ "code": reply.code, "msg": reply.msg, "data": reply.data });
    (reply.status, axum::Json(body)).into_response()
}

/// Reads and checks the request, then runs the endpoint.
async fn process(
    shared: &Shared,
    ep: Endpoint,
    req: Request,
    rec: &mut RequestRecord,
    fault: Option<Fault>,
) -> Reply {
    let limit = shared.config.max_body_bytes;
    let (parts, body) = req.into_parts();
    // Body size (seed 001, ESL §2.1: "no more than 1 MB ... open platform will deny it").
    // The seed gives no code: we answer HTTP 413 with code 5022.
    let too_large = |n: String| Reply {
        status: StatusCode::PAYLOAD_TOO_LARGE,
        code: 5022,
        msg: format!("request body is {n} bytes, more than the limit of {limit} bytes"),
        data: json!({}),
    };
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if let Some(n) = declared.filter(|n| *n > limit) {
        return too_large(n.to_string());
    }
    let bytes = match axum::body::to_bytes(body, limit.saturating_add(1)).await {
        Ok(b) if b.len() <= limit => b,
        Ok(b) => return too_large(b.len().to_string()),
        Err(_) => return too_large(format!("more than {limit}")),
    };

    // Parameters: form-urlencoded (seed 001, ESL §2.1) or multipart (pushImage's `pic`).
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mut params = Params::new();
    let mut pic: Option<axum::body::Bytes> = None;
    if content_type.starts_with("multipart/form-data") {
        let req = Request::from_parts(parts, Body::from(bytes));
        let mut mp = match Multipart::from_request(req, &()).await {
            Ok(m) => m,
            Err(e) => return fail(5022, format!("invalid multipart body: {e}")),
        };
        loop {
            let field = match mp.next_field().await {
                Ok(Some(f)) => f,
                Ok(None) => break,
                Err(e) => return fail(5022, format!("invalid multipart body: {e}")),
            };
            let name = field.name().unwrap_or_default().to_owned();
            if name == "pic" || field.file_name().is_some() {
                let data = match field.bytes().await {
                    Ok(d) => d,
                    Err(e) => return fail(5022, format!("invalid multipart body: {e}")),
                };
                if name != "pic" || pic.replace(data).is_some() {
                    return fail(ep.param_code(), format!("unexpected file field {name:?}"));
                }
            } else {
                let text = match field.text().await {
                    Ok(t) => t,
                    Err(e) => return fail(5022, format!("invalid multipart field {name:?}: {e}")),
                };
                if params.insert(name.clone(), text).is_some() {
                    return fail(5022, format!("parameter {name} is repeated"));
                }
            }
        }
    } else if content_type.is_empty()
        || content_type.starts_with("application/x-www-form-urlencoded")
    {
        for (k, v) in form_urlencoded::parse(&bytes) {
            if params
                .insert(k.clone().into_owned(), v.into_owned())
                .is_some()
            {
                return fail(5022, format!("parameter {k} is repeated"));
            }
        }
    } else {
        return fail(
            5022,
            format!(
                "unsupported Content-Type {content_type:?}; use application/x-www-form-urlencoded"
            ),
        );
    }
    rec.params = params.clone();
    rec.file_bytes = pic.as_ref().map(|p| p.len());

    if let Some(r) = authenticate(shared, &params) {
        return r;
    }
    if let Some(Fault::Code(code)) = fault {
        return fail(code, format!("injected fault {code}"));
    }
    let pic = pic.map(|p| Arc::<[u8]>::from(p.as_ref()));
    run_endpoint(shared, ep, &params, pic, rec.seq)
}

/// The platform's checks, in the order the seed's Authentication §2.2 describes them: sign
/// (HTTP 401, 5090), then timestamp (5091); then random (5092). An unknown `app_id` has no
/// secret to check a sign against, so it is refused first, with HTTP 200 and 5041 (our
/// choice).
fn authenticate(shared: &Shared, params: &Params) -> Option<Reply> {
    let cfg = &shared.config;
    match params.get("app_id") {
        Some(a) if *a == cfg.app_id => {}
        Some(a) => {
            return Some(fail(
                5041,
                format!("invalid saas provider: unknown app_id {a:?}"),
            ));
        }
        None => return Some(fail(5041, "invalid saas provider: app_id is missing")),
    }
    let expected = expected_sign(params, &cfg.secret);
    // Upper-case hex as the seed's step 7 requires; a lower-case sign is refused.
    if params.get("sign").map(String::as_str) != Some(expected.as_str()) {
        return Some(Reply {
            status: StatusCode::UNAUTHORIZED,
            code: 5090,
            msg: "invalid sign".to_owned(),
            data: json!({}),
        });
    }
    let now = shared.now();
    let window = i64::try_from(cfg.timestamp_window.as_secs()).unwrap_or(i64::MAX);
    let ts = params
        .get("timestamp")
        .map(String::as_str)
        .unwrap_or_default();
    let ts_ok = ts.len() == 10 && ts.bytes().all(|b| b.is_ascii_digit());
    match ts.parse::<i64>() {
        Ok(t) if ts_ok && (now - t).abs() <= window => {}
        _ => {
            return Some(fail(
                5091,
                format!("invalid timestamp {ts:?}: not within {window} s of the platform's clock"),
            ));
        }
    }
    let random = params.get("random").map(String::as_str).unwrap_or_default();
    if !((6..=10).contains(&random.len()) && random.bytes().all(|b| b.is_ascii_alphanumeric())) {
        return Some(fail(
            5092,
            "invalid random value: need 6 to 10 letters and digits",
        ));
    }
    let mut st = shared.lock();
    if st.randoms.contains_key(random) {
        return Some(fail(
            5092,
            format!("invalid random value: {random:?} was already used"),
        ));
    }
    if st.randoms.len() >= 100_000 {
        st.randoms.retain(|_, seen| now - *seen <= window);
    }
    st.randoms.insert(random.to_owned(), now);
    None
}

fn run_endpoint(
    shared: &Shared,
    ep: Endpoint,
    params: &Params,
    pic: Option<Arc<[u8]>>,
    seq: u64,
) -> Reply {
    match endpoint(shared, ep, params, pic, seq) {
        Ok(r) | Err(r) => r,
    }
}

pub(crate) fn need<'a>(ep: Endpoint, params: &'a Params, key: &str) -> Result<&'a str, Reply> {
    match params.get(key).map(|v| v.trim()) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(fail(ep.param_code(), format!("parameter {key} is missing"))),
    }
}

pub(crate) fn optional_u32(
    params: &Params,
    key: &str,
    default: u32,
    code: i64,
) -> Result<u32, Reply> {
    match params.get(key) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<u32>()
            .ok()
            .filter(|n| *n > 0)
            .ok_or_else(|| {
                fail(
                    code,
                    format!("parameter {key} must be a positive integer, got {v:?}"),
                )
            }),
    }
}

pub(crate) fn check_shop(st: &State, ep: Endpoint, params: &Params) -> Result<String, Reply> {
    let shop = need(ep, params, "shop_id")?;
    if st.shops.contains_key(shop) {
        Ok(shop.to_owned())
    } else {
        Err(fail(
            5013,
            format!("invalid saas provider or shop: unknown shop_id {shop:?}"),
        ))
    }
}

pub(crate) fn esl_in_shop<'a>(
    st: &'a State,
    shop: &str,
    esl_id: &str,
) -> Result<&'a crate::state::Esl, Reply> {
    st.esls
        .get(esl_id)
        .filter(|e| e.snap.shop_id.as_deref() == Some(shop))
        .ok_or_else(|| {
            fail(
                5301,
                format!("invalid ESL: no ESL {esl_id:?} in shop {shop:?}"),
            )
        })
}

/// Pagination (seed defaults page 1, 10 per page); we refuse pages < 1 and sizes outside
/// 1..=100 with 5020.
pub(crate) fn page(params: &Params) -> Result<(usize, usize), Reply> {
    let num = optional_u32(params, "page_num", 1, 5020)?;
    let size = optional_u32(params, "page_size", 10, 5020)?;
    if size > 100 {
        return Err(fail(
            5020,
            "invalid parameter: page_size must be at most 100",
        ));
    }
    let num = usize::try_from(num).unwrap_or(usize::MAX);
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok((num.saturating_sub(1).saturating_mul(size), size))
}

fn screen_name(model: Model) -> Option<String> {
    model.screen_inches().map(|inches| format!("{inches}寸"))
}

fn esl_summary(e: &crate::state::Esl) -> Value {
    json!({
        "esl_id": e.snap.esl_id,
        "esl_code": e.snap.esl_code,
        "esl_sn": e.snap.esl_sn,
        "model_name": e.snap.model.name(),
        "status": e.snap.status,
    })
}

fn ap_esl_count(st: &State, ap: &ApSnapshot) -> usize {
    st.esls
        .values()
        .filter(|e| {
            e.snap.ap_id.as_deref() == Some(ap.ap_id.as_str())
                && e.snap.shop_id.as_deref() == Some(ap.shop_id.as_str())
        })
        .count()
}

fn endpoint(
    shared: &Shared,
    ep: Endpoint,
    params: &Params,
    pic: Option<Arc<[u8]>>,
    seq: u64,
) -> Result<Reply, Reply> {
    match ep {
        Endpoint::Extra(path) => crate::platform::run(shared, path, params),
        Endpoint::PushImage => {
            let esl_id = need(ep, params, "esl_id")?;
            let model = {
                let st = shared.lock();
                let shop = check_shop(&st, ep, params)?;
                let esl = esl_in_shop(&st, &shop, esl_id)?;
                if let Some(ap_id) = &esl.snap.ap_id {
                    match st.aps.get(ap_id) {
                        Some(ap) if ap.status == 1 => {}
                        Some(_) => {
                            return Err(fail(
                                5300,
                                format!("invalid AP: AP {ap_id} is not online"),
                            ));
                        }
                        None => return Err(fail(5300, format!("invalid AP: no AP {ap_id}"))),
                    }
                }
                esl.snap.model
            };
            let Some(pic) = pic else {
                return Err(fail(5020, "invalid parameter: file field pic is missing"));
            };
            // Decoding happens outside the lock.
            let (width, height) = check_image(&pic, model)
                .map_err(|reason| fail(5005, format!("invalid file: {reason}")))?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            esl_in_shop(&st, &shop, esl_id)?;
            if let Some(e) = st.esls.get_mut(esl_id) {
                e.snap.last_image = Some(StoredImage {
                    bytes: pic,
                    width,
                    height,
                    request_seq: seq,
                });
                e.snap.push_count += 1;
                e.snap.status = 3;
            }
            Ok(ok(json!({})))
        }
        Endpoint::FlashLed => {
            let esl_id = need(ep, params, "esl_id")?;
            let channel = optional_u32(params, "channel", 4, 5022)?;
            if !LED_CHANNELS.contains(&channel) {
                return Err(fail(
                    5022,
                    format!("invalid parameter: channel {channel} is not one of {LED_CHANNELS:?}"),
                ));
            }
            let cycle = optional_u32(params, "cycle", 100, 5022)?;
            let duration = optional_u32(params, "duration", 8, 5022)?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            esl_in_shop(&st, &shop, esl_id)?;
            if let Some(e) = st.esls.get_mut(esl_id) {
                e.snap.flashes.push(FlashRecord {
                    channel,
                    cycle,
                    duration,
                });
            }
            Ok(ok(json!({})))
        }
        Endpoint::Bind => {
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let code = params.get("esl_code").filter(|v| !v.is_empty());
            let sn = params.get("esl_sn").filter(|v| !v.is_empty());
            if code.is_none() && sn.is_none() {
                return Err(fail(
                    5022,
                    "invalid parameter: esl_code or esl_sn is required",
                ));
            }
            let found = st.esls.values().find(|e| {
                code.is_none_or(|c| *c == e.snap.esl_code) && sn.is_none_or(|s| *s == e.snap.esl_sn)
            });
            let Some(esl) = found else {
                return Err(fail(
                    5301,
                    "invalid ESL: no ESL with that code or serial number",
                ));
            };
            if let Some(bound) = &esl.snap.shop_id {
                return Err(fail(5338, format!("ESL already bound (to shop {bound})")));
            }
            let id = esl.snap.esl_id.clone();
            if let Some(e) = st.esls.get_mut(&id) {
                e.snap.shop_id = Some(shop);
                e.snap.status = 2;
            }
            Ok(ok(json!({ "esl_id": id })))
        }
        Endpoint::Unbind => {
            let esl_id = need(ep, params, "esl_id")?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            esl_in_shop(&st, &shop, esl_id)?;
            if let Some(e) = st.esls.get_mut(esl_id) {
                e.snap.shop_id = None;
                e.snap.status = 1;
            }
            Ok(ok(json!({ "esl_id": esl_id })))
        }
        Endpoint::EslList => {
            let (skip, take) = page(params)?;
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let in_shop: Vec<_> = st
                .esls
                .values()
                .filter(|e| e.snap.shop_id.as_deref() == Some(shop.as_str()))
                .collect();
            let list: Vec<Value> = in_shop
                .iter()
                .skip(skip)
                .take(take)
                .map(|e| esl_summary(e))
                .collect();
            Ok(ok(
                json!({ "total_count": in_shop.len(), "esl_list": list }),
            ))
        }
        Endpoint::EslInfo => {
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            // The seed's text says "esl_code or esl_sn" but its table lists esl_code and
            // esl_id: we accept esl_id or esl_code (5023 when neither is given).
            let esl = if let Some(id) = params.get("esl_id").filter(|v| !v.is_empty()) {
                esl_in_shop(&st, &shop, id)?
            } else if let Some(code) = params.get("esl_code").filter(|v| !v.is_empty()) {
                st.esls
                    .values()
                    .find(|e| {
                        e.snap.esl_code == *code && e.snap.shop_id.as_deref() == Some(shop.as_str())
                    })
                    .ok_or_else(|| {
                        fail(
                            5301,
                            format!("invalid ESL: no ESL with code {code:?} in shop"),
                        )
                    })?
            } else {
                return Err(fail(5023, "parameter missing: esl_id or esl_code"));
            };
            let ap = esl.snap.ap_id.as_ref().and_then(|a| st.aps.get(a));
            let mut v = esl_summary(esl);
            if let Some(obj) = v.as_object_mut() {
                obj.insert(
                    "screen_size_name".into(),
                    json!(screen_name(esl.snap.model)),
                );
                obj.insert("software_version".into(), json!(esl.software_version));
                obj.insert("battery".into(), json!(esl.battery));
                obj.insert("rssi".into(), json!(esl.rssi));
                obj.insert("connect_time".into(), json!(shared.started_at));
                obj.insert("ap_id".into(), json!(esl.snap.ap_id));
                obj.insert("ap_sn".into(), json!(ap.map(|a| a.ap_sn.clone())));
            }
            Ok(ok(v))
        }
        Endpoint::Overview => {
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let esls: Vec<_> = st
                .esls
                .values()
                .filter(|e| e.snap.shop_id.as_deref() == Some(shop.as_str()))
                .collect();
            // pending = status 2 (waiting for data), failed = status 4 (push failed): our
            // reading of the seed's field names.
            Ok(ok(json!({
                "ap_total_count": st.aps.values().filter(|a| a.shop_id == shop).count(),
                "esl_total_count": esls.len(),
                "esl_pending_count": esls.iter().filter(|e| e.snap.status == 2).count(),
                "esl_failed_count": esls.iter().filter(|e| e.snap.status == 4).count(),
            })))
        }
        Endpoint::ApList => {
            let (skip, take) = page(params)?;
            let st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let aps: Vec<_> = st.aps.values().filter(|a| a.shop_id == shop).collect();
            let list: Vec<Value> = aps
                .iter()
                .skip(skip)
                .take(take)
                .map(|a| {
                    json!({
                        "ap_id": a.ap_id, "ap_sn": a.ap_sn, "ap_name": a.ap_name,
                        "esl_count": ap_esl_count(&st, a), "status": a.status,
                    })
                })
                .collect();
            Ok(ok(json!({ "total_count": aps.len(), "ap_list": list })))
        }
        Endpoint::ApInfo | Endpoint::ApReboot => {
            let ap_id = need(ep, params, "ap_id")?;
            let mut st = shared.lock();
            let shop = check_shop(&st, ep, params)?;
            let Some(ap) = st.aps.get(ap_id).filter(|a| a.shop_id == shop) else {
                return Err(fail(
                    5300,
                    format!("invalid AP: no AP {ap_id:?} in shop {shop:?}"),
                ));
            };
            if ep == Endpoint::ApReboot {
                if let Some(ap) = st.aps.get_mut(ap_id) {
                    ap.reboots += 1;
                }
                return Ok(ok(json!({})));
            }
            Ok(ok(json!({
                "ap_id": ap.ap_id, "ap_sn": ap.ap_sn, "ap_name": ap.ap_name,
                "model_name": ap.model_name, "status": ap.status,
                "esl_count": ap_esl_count(&st, ap), "software_version": ap.software_version,
                "connect_time": shared.started_at,
            })))
        }
    }
}
