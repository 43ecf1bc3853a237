//! What the platform is, and with the simulator as the platform, what each ESL shows now:
//! `GET /v1/platform`, `GET /v1/shelf` and `GET /v1/shelf/{esl_id}/image.png`, which read
//! esl-sim's simulator-only view routes (`/sim/esls`) so that the page needs no second
//! origin.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::db::{Db, db, lock};
use crate::{AppState, Failure};

/// How long a look at the simulator may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The platform the service pushes to, as far as the shelf view needs it.
pub(crate) struct PlatformView {
    base_url: String,
    app_id: String,
    http: Option<reqwest::Client>,
    /// Whether the base URL answers `GET /sim/esls`: asked the first time it matters, kept
    /// once the platform answered at all (a connection error is asked again next time).
    simulator: Mutex<Option<bool>>,
}

impl PlatformView {
    pub(crate) fn new(client: &esl_push::Client) -> PlatformView {
        // The esl-push client installed the TLS provider when it was built, so this
        // builder finds one; if it still fails, the shelf view is just unavailable.
        let http = reqwest::Client::builder()
            .connect_timeout(PROBE_TIMEOUT)
            .timeout(PROBE_TIMEOUT * 3)
            .build()
            .ok();
        PlatformView {
            base_url: client.base_url().to_owned(),
            app_id: client.app_id().to_owned(),
            http,
            simulator: Mutex::new(None),
        }
    }

    /// `{base_url}/sim/esls[/…]` with each segment percent-encoded.
    fn url(&self, tail: &[&str]) -> Result<reqwest::Url, Failure> {
        let bad = |why: String| Failure::new(StatusCode::BAD_GATEWAY, why, None);
        let mut url = reqwest::Url::parse(&self.base_url)
            .map_err(|e| bad(format!("platform base URL {:?}: {e}", self.base_url)))?;
        url.path_segments_mut()
            .map_err(|()| bad(format!("platform base URL {:?} has no path", self.base_url)))?
            .pop_if_empty()
            .extend(["sim", "esls"])
            .extend(tail);
        Ok(url)
    }

    async fn get(&self, tail: &[&str]) -> Result<reqwest::Response, Failure> {
        let Some(http) = &self.http else {
            return Err(Failure::new(
                StatusCode::BAD_GATEWAY,
                "no HTTP client for the platform",
                None,
            ));
        };
        let url = self.url(tail)?;
        http.get(url.clone())
            .send()
            .await
            .map_err(|e| Failure::new(StatusCode::BAD_GATEWAY, format!("GET {url}: {e}"), None))
    }

    async fn esls(&self) -> Result<Option<Shelf>, Failure> {
        let resp = self.get(&[]).await?;
        if resp.status() != StatusCode::OK {
            return Ok(None);
        }
        let bytes = resp.bytes().await.map_err(|e| {
            Failure::new(
                StatusCode::BAD_GATEWAY,
                format!("reading GET {}/sim/esls: {e}", self.base_url),
                None,
            )
        })?;
        Ok(serde_json::from_slice::<Shelf>(&bytes).ok())
    }

    /// Whether the platform is esl-sim.
    async fn is_simulator(&self) -> bool {
        if let Some(known) = *lock(&self.simulator) {
            return known;
        }
        match self.esls().await {
            Ok(found) => {
                let known = found.is_some();
                *lock(&self.simulator) = Some(known);
                known
            }
            Err(_) => false,
        }
    }
}

/// The platform of the service's reprice runs.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlatformInfo {
    /// Its base URL; `null` without a platform.
    pub base_url: Option<String>,
    /// The app_id runs sign with; `null` without a platform.
    pub app_id: Option<String>,
    /// Whether runs push (the service has a platform).
    pub push: bool,
    /// Whether the platform is the esl-sim simulator (it answers `GET /sim/esls`), so that
    /// `GET /v1/shelf` shows what each ESL shows.
    pub simulator: bool,
}

/// One simulated ESL and the picture it shows.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ShelfEsl {
    /// The ESL.
    pub esl_id: String,
    /// The shop it is bound to.
    pub shop_id: Option<String>,
    /// Its model.
    pub model: String,
    /// Pictures it accepted so far.
    pub push_count: u64,
    /// The simulator's request number of its last accepted picture; `null` when it has none.
    pub request_seq: Option<u64>,
}

/// What each simulated ESL shows.
#[derive(Debug, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Shelf {
    /// The ESLs, by `esl_id`.
    pub esls: Vec<ShelfEsl>,
}

fn platform(db: &Db) -> Result<&PlatformView, Failure> {
    db.platform.as_ref().ok_or_else(|| {
        Failure::new(
            StatusCode::NOT_FOUND,
            "this service has no platform: start it with --base-url and --app-id (and ESL_SECRET)",
            None,
        )
    })
}

async fn simulator(db: &Arc<Db>) -> Result<&PlatformView, Failure> {
    let p = platform(db)?;
    if p.is_simulator().await {
        Ok(p)
    } else {
        Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!(
                "the platform at {} is not the simulator (no GET /sim/esls): the shelf view needs esl-sim",
                p.base_url
            ),
            None,
        ))
    }
}

/// The platform the reprice runs push to, and whether it is the simulator.
#[utoipa::path(get, path = "/platform", tag = "registry",
    responses(
        (status = 200, body = PlatformInfo),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry (`--db`)", body = crate::ApiError)),
    security(("token" = [])))]
async fn platform_info(State(state): State<AppState>) -> Result<axum::Json<PlatformInfo>, Failure> {
    let db = db(&state)?;
    let info = match &db.platform {
        None => PlatformInfo {
            base_url: None,
            app_id: None,
            push: false,
            simulator: false,
        },
        Some(p) => PlatformInfo {
            base_url: Some(p.base_url.clone()),
            app_id: Some(p.app_id.clone()),
            push: true,
            simulator: p.is_simulator().await,
        },
    };
    Ok(axum::Json(info))
}

/// With the simulator as the platform: every ESL it knows and whether it shows a picture.
#[utoipa::path(get, path = "/shelf", tag = "registry",
    responses(
        (status = 200, body = Shelf),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry, no platform, or the platform is not the simulator", body = crate::ApiError),
        (status = 502, description = "The simulator did not answer", body = crate::ApiError)),
    security(("token" = [])))]
async fn shelf(State(state): State<AppState>) -> Result<axum::Json<Shelf>, Failure> {
    let db = db(&state)?;
    let p = simulator(&db).await?;
    match p.esls().await? {
        Some(shelf) => Ok(axum::Json(shelf)),
        None => Err(Failure::new(
            StatusCode::BAD_GATEWAY,
            format!("GET {}/sim/esls gave no ESL list", p.base_url),
            None,
        )),
    }
}

/// With the simulator as the platform: the last picture the ESL accepted, as pushed.
#[utoipa::path(get, path = "/shelf/{esl_id}/image.png", tag = "registry",
    params(("esl_id" = String, Path, description = "The ESL")),
    responses(
        (status = 200, description = "The picture the ESL shows", content_type = "image/png"),
        (status = 401, description = "Missing or wrong bearer token"),
        (status = 404, description = "No registry or simulator, an ESL the simulator does not know, or one without a picture", body = crate::ApiError),
        (status = 502, description = "The simulator did not answer", body = crate::ApiError)),
    security(("token" = [])))]
async fn shelf_image(
    State(state): State<AppState>,
    Path(esl_id): Path<String>,
) -> Result<Response, Failure> {
    let db = db(&state)?;
    let p = simulator(&db).await?;
    let resp = p.get(&[&esl_id, "image.png"]).await?;
    let status = resp.status();
    let bytes = resp.bytes().await.map_err(|e| {
        Failure::new(
            StatusCode::BAD_GATEWAY,
            format!("reading the simulator's picture of {esl_id:?}: {e}"),
            None,
        )
    })?;
    match status {
        StatusCode::OK => Ok((
            [
                (header::CONTENT_TYPE, "image/png"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            bytes,
        )
            .into_response()),
        StatusCode::NOT_FOUND => Err(Failure::new(
            StatusCode::NOT_FOUND,
            format!("simulator: {}", String::from_utf8_lossy(&bytes)),
            None,
        )),
        other => Err(Failure::new(
            StatusCode::BAD_GATEWAY,
            format!("the simulator answered {other} for the picture of {esl_id:?}"),
            None,
        )),
    }
}

/// The platform and shelf routes, to be nested under `/v1`.
pub(crate) fn routes() -> utoipa_axum::router::OpenApiRouter<AppState> {
    use utoipa_axum::routes;
    utoipa_axum::router::OpenApiRouter::new()
        .routes(routes!(platform_info))
        .routes(routes!(shelf))
        .routes(routes!(shelf_image))
}
