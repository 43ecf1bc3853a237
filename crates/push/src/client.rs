//! The client: transport, signing of every attempt, retries, endpoints, batch push.

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde::de::DeserializeOwned;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::api::{self, ApiRequest, Encoded};
use crate::body::{self, Body, FilePart};
use crate::error::{ApiCode, PushError, TransportKind, keep_body};
use crate::retry::RetryPolicy;
use crate::sign::{Secret, random_nonce, sign, timestamp_now};
use crate::types::{
    ApInfo, ApPage, ApSummary, BindEsl, EslCodeOrSn, EslIdOrCode, EslIdReply, EslInfo, EslPage,
    EslSummary, FlashLed, ImageBytes, Overview, Page, PushImage, Receipt, UnbindEsl,
};

/// The seed's UAT host (seed 001, ESL §2 and the shop APIs).
pub const DEFAULT_BASE_URL: &str = "https://store.uat.sunmi.com/openapi";

/// The request-body limit: "no more than 1 MB" (seed 001, ESL §2.1). The seed does not say
/// whether 1 MB is 10^6 or 2^20 bytes; we take the smaller, 1,000,000 bytes, so that nothing
/// we send can be denied under either reading.
pub const MAX_BODY_BYTES: usize = 1_000_000;

/// Page size used by the "walk all pages" helpers.
pub const LIST_ALL_PAGE_SIZE: u32 = 100;

/// Endpoint paths (seed 001, ESL §4.2 and §5.2), relative to the base URL.
pub mod endpoints {
    /// Push an image to an ESL.
    pub const PUSH_IMAGE: &str = "/device/esl/pushImage";
    /// Flash an ESL's LED.
    pub const FLASH_LED: &str = "/device/esl/flashLed";
    /// Bind an ESL to a shop.
    pub const ESL_BIND: &str = "/device/esl/bind";
    /// Unbind an ESL from a shop.
    pub const ESL_UNBIND: &str = "/device/esl/unbind";
    /// List a shop's ESLs.
    pub const ESL_LIST: &str = "/device/esl/getList";
    /// One ESL's details.
    pub const ESL_INFO: &str = "/device/esl/getInfo";
    /// Counts of a shop's ESLs and APs.
    pub const OVERVIEW: &str = "/device/getOverview";
    /// List a shop's APs.
    pub const AP_LIST: &str = "/device/ap/getList";
    /// One AP's details.
    pub const AP_INFO: &str = "/device/ap/getInfo";
    /// Reboot an AP.
    pub const AP_REBOOT: &str = "/device/ap/reboot";
}

/// Builds a [`Client`].
///
/// ```
/// use esl_push::{Client, RetryPolicy, Secret};
/// let client = Client::builder("my-app-id", Secret::new("my-secret"))
///     .base_url("http://127.0.0.1:8080")
///     .retry(RetryPolicy::never())
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:8080");
/// # Ok::<(), esl_push::PushError>(())
/// ```
#[derive(Debug, Clone)]
pub struct ClientBuilder {
    base_url: String,
    app_id: String,
    secret: Secret,
    retry: RetryPolicy,
    connect_timeout: Duration,
    request_timeout: Duration,
    max_body_bytes: usize,
}

impl ClientBuilder {
    /// The platform's base URL (default [`DEFAULT_BASE_URL`]); endpoint paths are appended.
    #[must_use]
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// The retry policy (default [`RetryPolicy::default`]).
    #[must_use]
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Time-out of establishing a connection (default 5 s).
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Time-out of one whole attempt, from sending to the last byte of the reply
    /// (default 30 s).
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// The request-body limit (default [`MAX_BODY_BYTES`]).
    #[must_use]
    pub fn max_body_bytes(mut self, limit: usize) -> Self {
        self.max_body_bytes = limit;
        self
    }

    /// Builds the client. Installs rustls' `ring` crypto provider as the process default if
    /// no provider is installed yet.
    ///
    /// # Errors
    /// [`PushError::Config`] if the base URL is not an http(s) URL or the HTTP client cannot
    /// be built.
    pub fn build(self) -> Result<Client, PushError> {
        let base = self.base_url.trim_end_matches('/').to_owned();
        let parsed = reqwest::Url::parse(&base).map_err(|e| PushError::Config {
            reason: format!("base URL {base:?}: {e}"),
        })?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(PushError::Config {
                reason: format!("base URL {base:?} is not http(s)"),
            });
        }
        if self.app_id.is_empty() {
            return Err(PushError::Config {
                reason: "app_id is empty".to_owned(),
            });
        }
        // Err means a provider is installed already, which is all we need.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .connect_timeout(self.connect_timeout)
            .timeout(self.request_timeout)
            .user_agent(concat!("esl-push/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| PushError::Config {
                reason: format!("HTTP client: {e}"),
            })?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base_url: base,
                app_id: self.app_id,
                secret: self.secret,
                retry: self.retry,
                max_body_bytes: self.max_body_bytes,
            }),
        })
    }
}

/// An async client of the platform's ESL and AP endpoints.
///
/// Cheap to clone (one shared connection pool). Every attempt of every call is signed
/// afresh, with a new `timestamp` and `random`.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base_url: String,
    app_id: String,
    secret: Secret,
    retry: RetryPolicy,
    max_body_bytes: usize,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("base_url", &self.inner.base_url)
            .field("app_id", &self.inner.app_id)
            .field("secret", &self.inner.secret)
            .field("retry", &self.inner.retry)
            .field("max_body_bytes", &self.inner.max_body_bytes)
            .finish_non_exhaustive()
    }
}

/// A decoded success reply.
struct Reply<T> {
    data: T,
    message: String,
    attempts: u32,
}

/// The platform's reply envelope: `{code, msg, data}` (seed 001, "Error Codes" §2).
#[derive(Deserialize)]
struct Envelope {
    code: serde_json::Value,
    #[serde(default)]
    msg: Option<String>,
    #[serde(default)]
    data: Option<serde_json::Value>,
}

/// One label's outcome in [`Client::push_batch`].
#[derive(Debug)]
pub struct BatchItem {
    /// The shop of the push.
    pub shop_id: String,
    /// The ESL of the push.
    pub esl_id: String,
    /// What happened.
    pub result: Result<Receipt, PushError>,
}

impl Client {
    /// Starts building a client for `app_id` signing with `secret`.
    #[must_use]
    pub fn builder(app_id: impl Into<String>, secret: Secret) -> ClientBuilder {
        ClientBuilder {
            base_url: DEFAULT_BASE_URL.to_owned(),
            app_id: app_id.into(),
            secret,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(30),
            max_body_bytes: MAX_BODY_BYTES,
        }
    }

    /// The base URL, without a trailing slash.
    #[must_use]
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The `app_id`.
    #[must_use]
    pub fn app_id(&self) -> &str {
        &self.inner.app_id
    }

    /// The retry policy.
    #[must_use]
    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.inner.retry
    }

    /// `/device/esl/pushImage`: shows `req.image` on the ESL.
    ///
    /// # Errors
    /// [`PushError::BodyTooLarge`] before sending if the body exceeds the limit;
    /// [`PushError::Api`] with 5005 if the platform refuses the image (size, colours), 5301
    /// for an unknown ESL; transport, HTTP and decode errors as for every call.
    pub async fn push_image(&self, req: &PushImage) -> Result<Receipt, PushError> {
        let ep = endpoints::PUSH_IMAGE;
        non_empty(ep, "shop_id", &req.shop_id)?;
        non_empty(ep, "esl_id", &req.esl_id)?;
        if req.image.is_empty() {
            return Err(invalid(ep, "the image is empty"));
        }
        let params = [
            ("shop_id", req.shop_id.as_str()),
            ("esl_id", req.esl_id.as_str()),
        ];
        let reply: Reply<serde::de::IgnoredAny> = self
            .call(
                ep,
                &params,
                Some(FilePart {
                    field: "pic",
                    bytes: &req.image,
                }),
            )
            .await?;
        Ok(receipt(reply))
    }

    /// `/device/esl/flashLed`: flashes the ESL's LED. Unset options are left to the
    /// platform's defaults.
    ///
    /// # Errors
    /// [`PushError::Api`] (5301 for an unknown ESL) and the errors of every call.
    pub async fn flash_led(&self, req: &FlashLed) -> Result<Receipt, PushError> {
        let ep = endpoints::FLASH_LED;
        non_empty(ep, "shop_id", &req.shop_id)?;
        non_empty(ep, "esl_id", &req.esl_id)?;
        let channel = req.color.map(|c| c.channel().to_string());
        let cycle = req.cycle.map(|c| c.to_string());
        let duration = req.duration.map(|d| d.to_string());
        let mut params = vec![
            ("shop_id", req.shop_id.as_str()),
            ("esl_id", req.esl_id.as_str()),
        ];
        if let Some(c) = &channel {
            params.push(("channel", c));
        }
        if let Some(c) = &cycle {
            params.push(("cycle", c));
        }
        if let Some(d) = &duration {
            params.push(("duration", d));
        }
        let reply: Reply<serde::de::IgnoredAny> = self.call(ep, &params, None).await?;
        Ok(receipt(reply))
    }

    /// `/device/esl/bind`: binds an ESL (by code or serial number) to a shop; returns its id.
    ///
    /// Retried like every call: if an attempt was processed but its reply lost, the retry
    /// may answer 5338 (already bound).
    ///
    /// # Errors
    /// [`PushError::Api`] with 5301 (invalid ESL) or 5338 (already bound), and the errors of
    /// every call.
    pub async fn bind_esl(&self, req: &BindEsl) -> Result<EslIdReply, PushError> {
        let ep = endpoints::ESL_BIND;
        non_empty(ep, "shop_id", &req.shop_id)?;
        let (key, value) = match &req.esl {
            EslCodeOrSn::Code(c) => ("esl_code", c.as_str()),
            EslCodeOrSn::Sn(s) => ("esl_sn", s.as_str()),
        };
        non_empty(ep, key, value)?;
        let params = [("shop_id", req.shop_id.as_str()), (key, value)];
        Ok(self.call(ep, &params, None).await?.data)
    }

    /// `/device/esl/unbind`: unbinds an ESL from a shop.
    ///
    /// # Errors
    /// [`PushError::Api`] with 5301 (invalid ESL), and the errors of every call.
    pub async fn unbind_esl(&self, req: &UnbindEsl) -> Result<EslIdReply, PushError> {
        let ep = endpoints::ESL_UNBIND;
        non_empty(ep, "shop_id", &req.shop_id)?;
        non_empty(ep, "esl_id", &req.esl_id)?;
        let params = [
            ("shop_id", req.shop_id.as_str()),
            ("esl_id", req.esl_id.as_str()),
        ];
        Ok(self.call(ep, &params, None).await?.data)
    }

    /// `/device/esl/getList`: one page of a shop's ESLs.
    ///
    /// # Errors
    /// [`PushError::Api`] with 5020 for a bad page, and the errors of every call.
    pub async fn esl_list(&self, shop_id: &str, page: Page) -> Result<EslPage, PushError> {
        self.list_page(endpoints::ESL_LIST, shop_id, page).await
    }

    /// All of a shop's ESLs, walking getList's pages ([`LIST_ALL_PAGE_SIZE`] per page) until
    /// `total_count` are read or a page comes back short.
    ///
    /// # Errors
    /// The first page's error; the walk stops there.
    pub async fn esl_list_all(&self, shop_id: &str) -> Result<Vec<EslSummary>, PushError> {
        self.walk_pages(endpoints::ESL_LIST, shop_id, |p: EslPage| {
            (p.esl_list, p.total_count)
        })
        .await
    }

    /// `/device/esl/getInfo`: one ESL's details, by id or code.
    ///
    /// # Errors
    /// [`PushError::Api`] with 5301/5502 (invalid ESL) or 5023 (parameter missing), and the
    /// errors of every call.
    pub async fn esl_info(&self, shop_id: &str, esl: &EslIdOrCode) -> Result<EslInfo, PushError> {
        let ep = endpoints::ESL_INFO;
        non_empty(ep, "shop_id", shop_id)?;
        let (key, value) = match esl {
            EslIdOrCode::Id(i) => ("esl_id", i.as_str()),
            EslIdOrCode::Code(c) => ("esl_code", c.as_str()),
        };
        non_empty(ep, key, value)?;
        let params = [("shop_id", shop_id), (key, value)];
        Ok(self.call(ep, &params, None).await?.data)
    }

    /// The declaration of an ESL's model from what the platform says of it, for models the
    /// built-in table lacks (the seed's `SL121+`): the screen size of the ESL's getInfo
    /// (`screen_size_name`) and the colour of a platform template made for that screen
    /// (template/getInfo's `template_color`, or its `template_color_name` `BW`/`BWR`, since
    /// the seed marks the code "currently unavailable"). See
    /// [`ModelDecl::from_platform`](esl_model::ModelDecl::from_platform) for the panel size.
    /// Declare the result with [`esl_model::Model::declare`].
    ///
    /// # Errors
    /// As [`Client::esl_info`] and template/getInfo; [`PushError::Model`] when getInfo names
    /// no model or screen, the template names no colour, or the template's screen is not the
    /// ESL's.
    pub async fn describe_model(
        &self,
        shop_id: &str,
        esl_id: &str,
        template_id: &str,
    ) -> Result<esl_model::ModelDecl, PushError> {
        let info = self
            .esl_info(shop_id, &EslIdOrCode::Id(esl_id.to_owned()))
            .await?;
        let template = self
            .send(&api::TemplateGetInfo {
                shop_id: shop_id.to_owned(),
                template_id: template_id.to_owned(),
            })
            .await?;
        info.model_decl(template_id, &template)
            .map_err(|source| PushError::Model {
                esl_id: esl_id.to_owned(),
                source,
            })
    }

    /// `/device/getOverview`: counts of a shop's APs and ESLs.
    ///
    /// # Errors
    /// The errors of every call.
    pub async fn overview(&self, shop_id: &str) -> Result<Overview, PushError> {
        let ep = endpoints::OVERVIEW;
        non_empty(ep, "shop_id", shop_id)?;
        Ok(self.call(ep, &[("shop_id", shop_id)], None).await?.data)
    }

    /// `/device/ap/getList`: one page of a shop's APs.
    ///
    /// # Errors
    /// [`PushError::Api`] with 5020 for a bad page, and the errors of every call.
    pub async fn ap_list(&self, shop_id: &str, page: Page) -> Result<ApPage, PushError> {
        self.list_page(endpoints::AP_LIST, shop_id, page).await
    }

    /// All of a shop's APs, walking `/device/ap/getList`'s pages.
    ///
    /// # Errors
    /// The first failing page's error.
    pub async fn ap_list_all(&self, shop_id: &str) -> Result<Vec<ApSummary>, PushError> {
        self.walk_pages(endpoints::AP_LIST, shop_id, |p: ApPage| {
            (p.ap_list, p.total_count)
        })
        .await
    }

    /// One page of a paged list endpoint (getList of ESLs or APs).
    async fn list_page<P: DeserializeOwned>(
        &self,
        ep: &'static str,
        shop_id: &str,
        page: Page,
    ) -> Result<P, PushError> {
        non_empty(ep, "shop_id", shop_id)?;
        let (num, size) = (page.num.to_string(), page.size.to_string());
        let params = [
            ("shop_id", shop_id),
            ("page_num", num.as_str()),
            ("page_size", size.as_str()),
        ];
        Ok(self.call(ep, &params, None).await?.data)
    }

    /// Every item of a paged list endpoint, [`LIST_ALL_PAGE_SIZE`] per page, until
    /// `total_count` are read or a page comes back short; `split` takes a page apart into
    /// its items and the total.
    async fn walk_pages<P: DeserializeOwned, T>(
        &self,
        ep: &'static str,
        shop_id: &str,
        split: impl Fn(P) -> (Vec<T>, u64),
    ) -> Result<Vec<T>, PushError> {
        let mut all = Vec::new();
        let mut num = 1;
        loop {
            let page = Page {
                num,
                size: LIST_ALL_PAGE_SIZE,
            };
            let (items, total) = split(self.list_page(ep, shop_id, page).await?);
            let got = items.len();
            all.extend(items);
            if done_walking(all.len(), got, total, num) {
                return Ok(all);
            }
            num += 1;
        }
    }

    /// `/device/ap/getInfo`: one AP's details.
    ///
    /// # Errors
    /// [`PushError::Api`] with 5300 (invalid AP), and the errors of every call.
    pub async fn ap_info(&self, shop_id: &str, ap_id: &str) -> Result<ApInfo, PushError> {
        let ep = endpoints::AP_INFO;
        non_empty(ep, "shop_id", shop_id)?;
        non_empty(ep, "ap_id", ap_id)?;
        Ok(self
            .call(ep, &[("shop_id", shop_id), ("ap_id", ap_id)], None)
            .await?
            .data)
    }

    /// `/device/ap/reboot`: reboots an AP.
    ///
    /// # Errors
    /// [`PushError::Api`] with 5300 (invalid AP), and the errors of every call.
    pub async fn reboot_ap(&self, shop_id: &str, ap_id: &str) -> Result<Receipt, PushError> {
        let ep = endpoints::AP_REBOOT;
        non_empty(ep, "shop_id", shop_id)?;
        non_empty(ep, "ap_id", ap_id)?;
        let reply: Reply<serde::de::IgnoredAny> = self
            .call(ep, &[("shop_id", shop_id), ("ap_id", ap_id)], None)
            .await?;
        Ok(receipt(reply))
    }

    /// Sends a typed request of the endpoint table ([`crate::api`]): its parameters are
    /// checked against the table first, arrays go as JSON text in one field, a file parameter
    /// makes the body multipart.
    ///
    /// # Errors
    /// [`PushError::InvalidRequest`] before sending if a required parameter is empty or a
    /// value does not fit; then as every call ([`PushError::Api`] with the platform's code).
    pub async fn send<R: ApiRequest>(&self, req: &R) -> Result<R::Reply, PushError> {
        let ep = R::ENDPOINT;
        let mut text = Vec::new();
        let mut file = None;
        for (name, value) in req.params() {
            match value {
                Encoded::Text(t) => text.push((name.to_owned(), t)),
                Encoded::File(bytes) => file = Some((name, bytes)),
            }
        }
        Ok(self.call_checked(ep, &text, file).await?.data)
    }

    /// Calls an endpoint of the table with untyped text parameters and at most one file;
    /// the parameters are checked against the table ([`api::Endpoint::validate`]) before
    /// anything is sent. Returns the reply's `data`.
    ///
    /// # Errors
    /// [`PushError::InvalidRequest`] naming the parameter for an unknown, missing, repeated
    /// or malformed one; then as every call.
    pub async fn call_endpoint(
        &self,
        ep: &'static api::Endpoint,
        params: &[(String, String)],
        file: Option<(&'static str, ImageBytes)>,
    ) -> Result<serde_json::Value, PushError> {
        Ok(self.call_checked(ep, params, file).await?.data)
    }

    async fn call_checked<T: DeserializeOwned>(
        &self,
        ep: &'static api::Endpoint,
        params: &[(String, String)],
        file: Option<(&'static str, ImageBytes)>,
    ) -> Result<Reply<T>, PushError> {
        let borrowed: Vec<(&str, &str)> = params
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let files: Vec<&str> = file.iter().map(|(n, _)| *n).collect();
        ep.validate(&borrowed, &files)
            .map_err(|e| invalid(ep.path, e.to_string()))?;
        let part = file.as_ref().map(|(field, bytes)| FilePart {
            field,
            bytes: bytes.as_ref(),
        });
        self.call(ep.path, &borrowed, part).await
    }

    /// Any endpoint, form-encoded, with the same signing and retries; returns `data` as JSON.
    /// For endpoints this crate has no typed method for (templates, products, …).
    ///
    /// # Errors
    /// As every call.
    pub async fn call_raw(
        &self,
        endpoint: &'static str,
        params: &[(&str, &str)],
    ) -> Result<serde_json::Value, PushError> {
        Ok(self.call(endpoint, params, None).await?.data)
    }

    /// Pushes many images with at most `concurrency` requests in flight (0 counts as 1).
    ///
    /// Returns one [`BatchItem`] per job, in the jobs' order; a failing label never stops
    /// the others. Each push has its own retries under the client's policy.
    pub async fn push_batch(
        &self,
        jobs: impl IntoIterator<Item = PushImage>,
        concurrency: usize,
    ) -> Vec<BatchItem> {
        let permits = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut set = JoinSet::new();
        let mut slots: Vec<BatchItem> = Vec::new();
        let mut index_of = HashMap::new();
        for (i, job) in jobs.into_iter().enumerate() {
            slots.push(BatchItem {
                shop_id: job.shop_id.clone(),
                esl_id: job.esl_id.clone(),
                result: Err(invalid(endpoints::PUSH_IMAGE, "push task did not finish")),
            });
            let client = self.clone();
            let permits = Arc::clone(&permits);
            let handle = set.spawn(async move {
                // The semaphore is never closed, so acquiring only fails if it were.
                let _permit = permits.acquire_owned().await;
                (i, client.push_image(&job).await)
            });
            index_of.insert(handle.id(), i);
        }
        while let Some(joined) = set.join_next().await {
            match joined {
                Ok((i, result)) => {
                    if let Some(slot) = slots.get_mut(i) {
                        slot.result = result;
                    }
                }
                Err(e) => {
                    if let Some(slot) = index_of.get(&e.id()).and_then(|&i| slots.get_mut(i)) {
                        slot.result = Err(invalid(
                            endpoints::PUSH_IMAGE,
                            format!("push task failed: {e}"),
                        ));
                    }
                }
            }
        }
        slots
    }

    /// Sends a call with retries; every attempt is built and signed afresh.
    async fn call<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        params: &[(&str, &str)],
        file: Option<FilePart<'_>>,
    ) -> Result<Reply<T>, PushError> {
        let policy = &self.inner.retry;
        let start = Instant::now();
        let mut attempt: u32 = 0;
        loop {
            attempt += 1;
            let error = match self.attempt::<T>(endpoint, params, file.as_ref()).await {
                Ok((data, message)) => {
                    return Ok(Reply {
                        data,
                        message,
                        attempts: attempt,
                    });
                }
                Err(e) => e,
            };
            if !policy.is_transient(&error) {
                tracing::debug!(endpoint, attempt, %error, "permanent failure");
                return Err(error);
            }
            let mut delay = policy.backoff(attempt);
            if let PushError::Http {
                retry_after: Some(after),
                ..
            } = &error
            {
                delay = delay.max((*after).min(policy.max_delay));
            }
            let out_of_attempts = attempt >= policy.max_attempts.max(1);
            let out_of_time = start.elapsed().saturating_add(delay) > policy.max_elapsed;
            if out_of_attempts || out_of_time {
                tracing::debug!(endpoint, attempt, %error, "transient failure; giving up");
                if attempt == 1 {
                    return Err(error);
                }
                return Err(PushError::GaveUp {
                    endpoint,
                    attempts: attempt,
                    elapsed: start.elapsed(),
                    last: Box::new(error),
                });
            }
            tracing::debug!(endpoint, attempt, ?delay, %error, "transient failure; retrying");
            tokio::time::sleep(delay).await;
        }
    }

    /// One attempt: fresh `timestamp` and `random`, signed, size-checked, sent, decoded.
    async fn attempt<T: DeserializeOwned>(
        &self,
        endpoint: &'static str,
        params: &[(&str, &str)],
        file: Option<&FilePart<'_>>,
    ) -> Result<(T, String), PushError> {
        let inner = &*self.inner;
        let timestamp = timestamp_now().to_string();
        let random = random_nonce();
        let mut all: Vec<(&str, &str)> = Vec::with_capacity(params.len() + 4);
        all.extend_from_slice(params);
        all.push(("app_id", &inner.app_id));
        all.push(("random", &random));
        all.push(("timestamp", &timestamp));
        let signature = sign(all.iter().copied(), &inner.secret);
        all.push(("sign", &signature));
        let Body {
            content_type,
            bytes,
        } = match file {
            Some(f) => body::multipart(&all, f),
            None => body::form(&all),
        };
        if bytes.len() > inner.max_body_bytes {
            return Err(PushError::BodyTooLarge {
                endpoint,
                size: bytes.len(),
                limit: inner.max_body_bytes,
            });
        }
        let url = format!("{}{}", inner.base_url, endpoint);
        let response = inner
            .http
            .post(&url)
            .header(reqwest::header::CONTENT_TYPE, content_type)
            .body(bytes)
            .send()
            .await
            .map_err(|e| transport(endpoint, e))?;
        let status = response.status().as_u16();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = response.text().await.map_err(|e| transport(endpoint, e))?;
        interpret(endpoint, status, &text, retry_after)
    }
}

/// Maps a reply to data or an error (seed 001, "Error Codes" §2: HTTP 401 for an invalid
/// sign, otherwise HTTP 200 with `{code, msg, data}`).
fn interpret<T: DeserializeOwned>(
    endpoint: &'static str,
    status: u16,
    text: &str,
    retry_after: Option<Duration>,
) -> Result<(T, String), PushError> {
    if status == 401 {
        let code = serde_json::from_str::<Envelope>(text)
            .ok()
            .and_then(|e| code_of(&e.code));
        return Err(PushError::Unauthorized {
            endpoint,
            code,
            body: keep_body(text),
        });
    }
    if !(200..300).contains(&status) {
        return Err(PushError::Http {
            endpoint,
            status,
            body: keep_body(text),
            retry_after,
        });
    }
    let decode = |source| PushError::Decode {
        endpoint,
        status,
        body: keep_body(text),
        source,
    };
    let envelope: Envelope = serde_json::from_str(text).map_err(decode)?;
    let code = code_of(&envelope.code).ok_or_else(|| {
        decode(<serde_json::Error as serde::de::Error>::custom(
            "`code` is not an integer",
        ))
    })?;
    let message = envelope.msg.unwrap_or_default();
    if code != 0 {
        return Err(PushError::Api {
            endpoint,
            code: ApiCode::from_code(code),
            message,
        });
    }
    // `data: {}` is documented; a missing or null `data` is read as `{}` too.
    let data = match envelope.data {
        None | Some(serde_json::Value::Null) => serde_json::Value::Object(serde_json::Map::new()),
        Some(v) => v,
    };
    let data = serde_json::from_value(data).map_err(decode)?;
    Ok((data, message))
}

/// `code` as a number, also when sent as a numeric string.
fn code_of(v: &serde_json::Value) -> Option<i64> {
    match v {
        serde_json::Value::Number(n) => n.as_i64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn transport(endpoint: &'static str, source: reqwest::Error) -> PushError {
    let kind = if source.is_timeout() {
        TransportKind::Timeout
    } else if source.is_connect() {
        TransportKind::Connect
    } else if source.is_request() || source.is_body() || source.is_decode() {
        TransportKind::Connection
    } else {
        TransportKind::Other
    };
    // reqwest's message names the URL, which carries no secret (parameters are in the body).
    PushError::Transport {
        endpoint,
        kind,
        source,
    }
}

fn receipt<T>(reply: Reply<T>) -> Receipt {
    Receipt {
        message: reply.message,
        attempts: reply.attempts,
    }
}

fn invalid(endpoint: &'static str, reason: impl Into<String>) -> PushError {
    PushError::InvalidRequest {
        endpoint,
        reason: reason.into(),
    }
}

fn non_empty(endpoint: &'static str, name: &str, value: &str) -> Result<(), PushError> {
    if value.trim().is_empty() {
        Err(invalid(endpoint, format!("{name} is empty")))
    } else {
        Ok(())
    }
}

/// Whether a page walk is over: everything read, a short or empty page, or (against a server
/// whose counts never add up) more pages than `total_count` allows.
fn done_walking(have: usize, got: usize, total: u64, num: u32) -> bool {
    let have = have as u64;
    let max_pages = total / u64::from(LIST_ALL_PAGE_SIZE) + 1;
    got == 0 || have >= total || got < LIST_ALL_PAGE_SIZE as usize || u64::from(num) >= max_pages
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interpret_success_and_errors() {
        let (d, m): (EslIdReply, String) = interpret(
            "/e",
            200,
            r#"{"code":0,"msg":"succeed","data":{"esl_id":"1"}}"#,
            None,
        )
        .unwrap();
        assert_eq!((d.esl_id.as_str(), m.as_str()), ("1", "succeed"));
        let (_, _): (serde::de::IgnoredAny, String) =
            interpret("/e", 200, r#"{"code":"0","msg":"ok"}"#, None).unwrap();
        let e = interpret::<EslIdReply>("/e", 200, r#"{"code":5005,"msg":"bad size"}"#, None)
            .unwrap_err();
        assert_eq!(e.api_code(), Some(ApiCode::InvalidFile));
        let e =
            interpret::<EslIdReply>("/e", 200, r#"{"code":9999,"msg":"new"}"#, None).unwrap_err();
        assert!(e.to_string().contains("9999"), "{e}");
        assert!(e.to_string().contains("new"), "{e}");
        let e = interpret::<EslIdReply>("/e", 200, "<html>oops</html>", None).unwrap_err();
        assert!(matches!(&e, PushError::Decode { body, .. } if body == "<html>oops</html>"));
        let e = interpret::<EslIdReply>("/e", 401, r#"{"code":5090,"msg":"invalid sign"}"#, None)
            .unwrap_err();
        assert!(matches!(
            e,
            PushError::Unauthorized {
                code: Some(5090),
                ..
            }
        ));
        let e =
            interpret::<EslIdReply>("/e", 503, "busy", Some(Duration::from_secs(1))).unwrap_err();
        assert_eq!(e.http_status(), Some(503));
    }

    #[test]
    fn walking_stops() {
        assert!(done_walking(10, 10, 10, 1));
        assert!(!done_walking(100, 100, 250, 1));
        assert!(done_walking(250, 50, 250, 3));
        assert!(done_walking(100, 0, 250, 2));
        assert!(done_walking(300, 100, 250, 3), "server over-delivers: stop");
    }

    #[test]
    fn debug_hides_secret() {
        let c = Client::builder("app", Secret::new("topsecret"))
            .build()
            .unwrap();
        let s = format!("{c:?}");
        assert!(!s.contains("topsecret"), "{s}");
    }
}
