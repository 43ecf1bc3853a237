//! The label designer: the page at `/` (HTML, CSS and JS compiled into the binary, no build
//! step), the sample products it offers, and the parts of the `?format=json` render report it
//! draws on the preview (each warning's element, each element's box on the panel).
//!
//! The page and its two assets are public: they carry no data. The page takes the bearer
//! token from `?token=` of its URL, keeps it in the tab's `sessionStorage`, removes it from the
//! address bar, and sends it on every `/v1` call.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use esl_render::{Scene, Warning};
use serde::Serialize;

use crate::{AppState, Failure};

const INDEX_HTML: &str = include_str!("../assets/index.html");
const DESIGNER_CSS: &str = include_str!("../assets/designer.css");
const DESIGNER_JS: &str = include_str!("../assets/designer.js");
const LABELS_JS: &str = include_str!("../assets/labels.js");
const FAVICON: &str = include_str!("../assets/favicon.svg");
/// The renderer's CJK font, for the editors' Chinese text on machines without a CJK font of
/// their own (the page asks for it only then, and only for CJK characters).
const CJK_FONT: &[u8] = include_bytes!("../../../fonts/WenQuanYiMicroHei-GB2312.ttf");

/// The page's own policy: scripts, styles, fonts and fetches from this origin only; previews
/// are `blob:` URLs the page made (which it, and its tests, may read back). The token is in
/// the page's first URL, so no referrer ever leaves it.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' blob:; \
                   font-src 'self'; connect-src 'self' blob:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

fn asset(content_type: &'static str, body: impl IntoResponse) -> Response {
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    response
}

/// `/` and its assets, public.
pub(crate) fn pages() -> Router<AppState> {
    use axum::routing::get;
    Router::new()
        .route(
            "/",
            get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/designer.css",
            get(|| async { asset("text/css; charset=utf-8", DESIGNER_CSS) }),
        )
        .route(
            "/designer.js",
            get(|| async { asset("text/javascript; charset=utf-8", DESIGNER_JS) }),
        )
        .route(
            "/labels.js",
            get(|| async { asset("text/javascript; charset=utf-8", LABELS_JS) }),
        )
        .route(
            "/favicon.svg",
            get(|| async { asset("image/svg+xml", FAVICON) }),
        )
        .route(
            "/fonts/cjk.ttf",
            get(|| async { asset("font/ttf", CJK_FONT) }),
        )
}

/// The repository's sample products (`templates/products/*.json` and
/// `templates/gallery/products/*.json`), compiled in so that the page offers them whatever
/// templates folder is served.
const SAMPLES: [(&str, &str); 8] = [
    (
        "cola",
        include_str!("../../../templates/products/cola.json"),
    ),
    (
        "four-digit",
        include_str!("../../../templates/products/four-digit.json"),
    ),
    (
        "long-name",
        include_str!("../../../templates/products/long-name.json"),
    ),
    (
        "minimal",
        include_str!("../../../templates/products/minimal.json"),
    ),
    (
        "promo",
        include_str!("../../../templates/products/promo.json"),
    ),
    (
        "gallery-apples",
        include_str!("../../../templates/gallery/products/apples.json"),
    ),
    (
        "gallery-cola",
        include_str!("../../../templates/gallery/products/cola.json"),
    ),
    (
        "gallery-tea",
        include_str!("../../../templates/gallery/products/tea.json"),
    ),
];

/// One sample product of `GET /v1/samples/products`.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SampleProduct {
    /// Its name, e.g. `cola` (from the file name; `gallery-` for the gallery's).
    pub name: String,
    /// The product's fields.
    #[schema(value_type = Object)]
    pub product: serde_json::Value,
    /// The same product as its file is written (its keys in the file's order).
    pub text: String,
}

/// The sample products the designer offers.
#[utoipa::path(get, path = "/samples/products", tag = "designer",
    responses(
        (status = 200, body = Vec<SampleProduct>),
        (status = 401, description = "Missing or wrong bearer token")),
    security(("token" = [])))]
pub(crate) async fn sample_products() -> Result<axum::Json<Vec<SampleProduct>>, Failure> {
    SAMPLES
        .iter()
        .map(|(name, text)| {
            let product = serde_json::from_str(text).map_err(|e| {
                Failure::new(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("sample product {name}: {e}"),
                    None,
                )
            })?;
            Ok(SampleProduct {
                name: (*name).to_owned(),
                product,
                text: (*text).to_owned(),
            })
        })
        .collect::<Result<Vec<_>, _>>()
        .map(axum::Json)
}

/// A warning of the render report with the element it is about.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct WarningDetail {
    /// JSON path of the element in the template, e.g. `elements[0]` (as `elements[].path`).
    pub element: String,
    /// `missing_glyph`, `code_not_drawn`, `narrow_quiet_zone`, `truncated` (or `other`).
    pub kind: String,
    /// The message, as in `warnings`.
    pub message: String,
}

impl WarningDetail {
    pub(crate) fn of(w: &Warning) -> WarningDetail {
        let kind = match w {
            Warning::MissingGlyph { .. } => "missing_glyph",
            Warning::CodeNotDrawn { .. } => "code_not_drawn",
            Warning::NarrowQuietZone { .. } => "narrow_quiet_zone",
            Warning::Truncated { .. } => "truncated",
            _ => "other",
        };
        WarningDetail {
            element: w.element().to_owned(),
            kind: kind.to_owned(),
            message: w.to_string(),
        }
    }
}

/// The scene's elements as JSON, each with `panel_box`: its box mapped onto the panel (what
/// the PNG shows), which differs from `box` when the template is rotated.
pub(crate) fn scene_elements(scene: &Scene) -> Result<serde_json::Value, serde_json::Error> {
    scene
        .elements()
        .iter()
        .map(|e| {
            let mut v = serde_json::to_value(e)?;
            if let serde_json::Value::Object(map) = &mut v {
                map.insert(
                    "panel_box".into(),
                    serde_json::to_value(scene.to_panel(e.bounds))?,
                );
            }
            Ok(v)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(serde_json::Value::Array)
}

#[cfg(test)]
mod tests {
    use super::SAMPLES;

    #[test]
    fn samples_are_product_objects() {
        for (name, text) in SAMPLES {
            let v: serde_json::Value = serde_json::from_str(text).unwrap_or_else(|e| {
                panic!("{name}: {e}");
            });
            assert!(v.is_object(), "{name}");
        }
    }
}
