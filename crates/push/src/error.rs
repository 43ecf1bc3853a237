//! Errors of the push client: the platform's error codes as a type, and [`PushError`].

use std::fmt;
use std::time::Duration;

macro_rules! api_codes {
    ($( $(#[$doc:meta])* $variant:ident = $code:literal => $meaning:literal, )*) => {
        /// An error code of the platform (seed 001: "Error Codes" §3, "Authentication" §4.2 and
        /// the per-endpoint tables of the ESL, AP, template, product and shop APIs).
        ///
        /// Codes the seed does not list are kept as [`ApiCode::Unknown`] with their number.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum ApiCode {
            $( $(#[$doc])* $variant, )*
            /// A code the seed does not list; the number is kept.
            Unknown(i64),
        }

        impl ApiCode {
            /// Every code the seed lists, in numeric order.
            pub const KNOWN: &'static [ApiCode] = &[$(ApiCode::$variant),*];

            /// The code for a number (never fails: unknown numbers give [`ApiCode::Unknown`]).
            #[must_use]
            pub const fn from_code(code: i64) -> Self {
                match code {
                    $( $code => ApiCode::$variant, )*
                    other => ApiCode::Unknown(other),
                }
            }

            /// The number the platform sends.
            #[must_use]
            pub const fn code(self) -> i64 {
                match self {
                    $( ApiCode::$variant => $code, )*
                    ApiCode::Unknown(code) => code,
                }
            }

            /// The seed's description of the code (`"unknown error code"` for unknown codes).
            #[must_use]
            pub const fn meaning(self) -> &'static str {
                match self {
                    $( ApiCode::$variant => $meaning, )*
                    ApiCode::Unknown(_) => "unknown error code",
                }
            }
        }
    };
}

api_codes! {
    /// 5000: database error. Transient: retried.
    DatabaseError = 5000 => "database error",
    /// 5004: system error (pushImage).
    SystemError = 5004 => "system error",
    /// 5005: invalid file (pushImage: wrong size, colours or format; templates: file error).
    InvalidFile = 5005 => "invalid file",
    /// 5006: OSS (object storage) error.
    OssError = 5006 => "oss error",
    /// 5011: invalid model type (AP getInfo).
    InvalidModelType = 5011 => "invalid model type",
    /// 5013: invalid SaaS provider or shop.
    InvalidProviderOrShop = 5013 => "invalid saas provider or shop",
    /// 5015: invalid product.
    InvalidProduct = 5015 => "invalid product",
    /// 5020: invalid parameter (getList, pushImage, product APIs).
    InvalidParameter = 5020 => "invalid parameter",
    /// 5022: invalid parameter (the general error list).
    InvalidParameterGeneral = 5022 => "invalid parameter",
    /// 5023: parameter missing / invalid parameter (ESL getInfo, AP bind).
    ParameterMissing = 5023 => "parameter missing",
    /// 5032: invalid shop_id (shop APIs).
    InvalidShopId = 5032 => "invalid shop_id",
    /// 5041: invalid SaaS provider (unknown `app_id`).
    InvalidProvider = 5041 => "invalid saas provider",
    /// 5042: shop already mapped.
    ShopAlreadyMapped = 5042 => "shop already mapped",
    /// 5043: API key error.
    ApiKeyError = 5043 => "API key error",
    /// 5047: invalid order.
    InvalidOrder = 5047 => "invalid order",
    /// 5090: invalid sign (sent with HTTP 401).
    InvalidSign = 5090 => "invalid sign",
    /// 5091: invalid timestamp (outside the platform's time window).
    InvalidTimestamp = 5091 => "invalid timestamp (outdated)",
    /// 5092: invalid random value (malformed or already used).
    InvalidRandom = 5092 => "invalid random value",
    /// 5300: invalid AP.
    InvalidAp = 5300 => "invalid AP",
    /// 5301: invalid ESL.
    InvalidEsl = 5301 => "invalid ESL",
    /// 5320: ESL not bound.
    EslNotBound = 5320 => "ESL not bound",
    /// 5336: ESL bound to another shop.
    EslBoundToAnotherShop = 5336 => "ESL bound to another shop",
    /// 5338: ESL already bound.
    EslAlreadyBound = 5338 => "ESL already bound",
    /// 5339: AP already bound to a shop.
    ApAlreadyBound = 5339 => "AP already bound to a shop",
    /// 5342: invalid ESL image.
    InvalidEslImage = 5342 => "invalid ESL image",
    /// 5343: invalid template.
    InvalidTemplate = 5343 => "invalid template",
    /// 5346: template name already exists.
    TemplateNameExists = 5346 => "template name already exists",
    /// 5502: invalid ESL, as the seed's ESL getInfo table writes it (probably a typo of 5301;
    /// kept as its own code because a platform may really send it).
    InvalidEslInfo = 5502 => "invalid ESL",
    /// 5527: bad face image (IPC events).
    BadFaceImage = 5527 => "bad face image",
}

impl ApiCode {
    /// Whether a retry may succeed. Only 5000 (database error), as issue 4 lists; see
    /// [`crate::RetryPolicy::retry_codes`] to widen it (e.g. to 5004 or 5006).
    #[must_use]
    pub const fn is_transient(self) -> bool {
        matches!(self, ApiCode::DatabaseError)
    }
}

impl fmt::Display for ApiCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.meaning())
    }
}

/// Everything that can go wrong talking to the platform.
///
/// Each variant names the endpoint (`/device/esl/pushImage`, …). The secret key never appears
/// in an error. Bodies kept for diagnosis are cut to [`MAX_KEPT_BODY`] bytes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PushError {
    /// The platform answered HTTP 200 with a non-zero `code`.
    #[error("{endpoint}: platform error {code}: {message}")]
    Api {
        /// The endpoint path.
        endpoint: &'static str,
        /// The error code.
        code: ApiCode,
        /// The platform's `msg`.
        message: String,
    },
    /// HTTP 401: the platform rejected the signature (seed: "If the sign is invalid, then the
    /// http status code 401 will be returned", code 5090). Never retried.
    #[error("{endpoint}: HTTP 401 unauthorized (invalid sign{}): {body}",
        .code.map(|c| format!(", code {c}")).unwrap_or_default())]
    Unauthorized {
        /// The endpoint path.
        endpoint: &'static str,
        /// The `code` of the JSON body, if the body had one (normally 5090).
        code: Option<i64>,
        /// The response body.
        body: String,
    },
    /// Any other HTTP status than 200 and 401.
    #[error("{endpoint}: HTTP {status}: {body}")]
    Http {
        /// The endpoint path.
        endpoint: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The response body.
        body: String,
        /// The `Retry-After` delay the server asked for, if any.
        retry_after: Option<Duration>,
    },
    /// An HTTP 200 reply that is not the documented `{code, msg, data}` JSON, or whose `data`
    /// does not have the documented shape.
    #[error("{endpoint}: unexpected reply (HTTP {status}): {source}; body: {body}")]
    Decode {
        /// The endpoint path.
        endpoint: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The response body as received.
        body: String,
        /// What did not parse.
        source: serde_json::Error,
    },
    /// The request could not be sent or its reply not read: connection refused or dropped,
    /// time-out, TLS failure.
    #[error("{endpoint}: {kind}: {source}")]
    Transport {
        /// The endpoint path.
        endpoint: &'static str,
        /// What kind of failure it was.
        kind: TransportKind,
        /// The underlying error.
        source: reqwest::Error,
    },
    /// The encoded request body is larger than the platform accepts (seed 001, ESL §2.1: "no
    /// more than 1 MB"); checked before sending.
    #[error("{endpoint}: request body is {size} bytes, more than the limit of {limit} bytes")]
    BodyTooLarge {
        /// The endpoint path.
        endpoint: &'static str,
        /// Encoded body size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// The request is invalid before it is sent (e.g. an empty image or id).
    #[error("{endpoint}: invalid request: {reason}")]
    InvalidRequest {
        /// The endpoint path.
        endpoint: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// Transient failures went on until the retry policy's attempts or time ran out.
    #[error("{endpoint}: gave up after {attempts} attempts in {elapsed:?}: {last}")]
    GaveUp {
        /// The endpoint path.
        endpoint: &'static str,
        /// Attempts made.
        attempts: u32,
        /// Time spent, back-off included.
        elapsed: Duration,
        /// The error of the last attempt.
        last: Box<PushError>,
    },
    /// The platform's answers about an ESL do not describe a model esl can draw for (see
    /// [`Client::describe_model`](crate::Client::describe_model)).
    #[error("ESL {esl_id}: {source}")]
    Model {
        /// The ESL.
        esl_id: String,
        /// What is missing or wrong.
        source: esl_model::ModelError,
    },
    /// The client could not be built (bad base URL, TLS set-up).
    #[error("cannot build the client: {reason}")]
    Config {
        /// What is wrong.
        reason: String,
    },
}

/// The kind of a [`PushError::Transport`] failure.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TransportKind {
    /// Connecting failed (refused, DNS, TLS handshake).
    Connect,
    /// The connect or request time-out elapsed.
    Timeout,
    /// The connection broke while sending the request or reading the reply.
    Connection,
    /// Anything else reqwest reports.
    Other,
}

impl fmt::Display for TransportKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TransportKind::Connect => "cannot connect",
            TransportKind::Timeout => "timed out",
            TransportKind::Connection => "connection failed",
            TransportKind::Other => "transport error",
        })
    }
}

/// Response bodies kept in errors are cut to this many bytes.
pub const MAX_KEPT_BODY: usize = 4096;

impl PushError {
    /// The platform's error code, if the platform sent one (looks through [`PushError::GaveUp`]).
    #[must_use]
    pub fn api_code(&self) -> Option<ApiCode> {
        match self {
            PushError::Api { code, .. } => Some(*code),
            PushError::Unauthorized { code, .. } => Some(ApiCode::from_code(code.unwrap_or(5090))),
            PushError::GaveUp { last, .. } => last.api_code(),
            _ => None,
        }
    }

    /// The HTTP status, if the failure was an HTTP-level one.
    #[must_use]
    pub fn http_status(&self) -> Option<u16> {
        match self {
            PushError::Unauthorized { .. } => Some(401),
            PushError::Http { status, .. } | PushError::Decode { status, .. } => Some(*status),
            PushError::GaveUp { last, .. } => last.http_status(),
            _ => None,
        }
    }

    /// The endpoint path the error is about (empty for [`PushError::Config`] and
    /// [`PushError::Model`], which are not about one call).
    #[must_use]
    pub fn endpoint(&self) -> &'static str {
        match self {
            PushError::Api { endpoint, .. }
            | PushError::Unauthorized { endpoint, .. }
            | PushError::Http { endpoint, .. }
            | PushError::Decode { endpoint, .. }
            | PushError::Transport { endpoint, .. }
            | PushError::BodyTooLarge { endpoint, .. }
            | PushError::InvalidRequest { endpoint, .. }
            | PushError::GaveUp { endpoint, .. } => endpoint,
            PushError::Config { .. } | PushError::Model { .. } => "",
        }
    }
}

/// Cuts `body` to [`MAX_KEPT_BODY`] bytes on a character boundary.
pub(crate) fn keep_body(body: &str) -> String {
    if body.len() <= MAX_KEPT_BODY {
        return body.to_owned();
    }
    let mut end = MAX_KEPT_BODY;
    while !body.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… ({} bytes in all)", &body[..end], body.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip() {
        for &c in ApiCode::KNOWN {
            assert_eq!(ApiCode::from_code(c.code()), c);
            assert!(!c.meaning().is_empty());
        }
        assert_eq!(ApiCode::from_code(5005), ApiCode::InvalidFile);
        assert_eq!(ApiCode::from_code(7777), ApiCode::Unknown(7777));
        assert_eq!(ApiCode::Unknown(7777).code(), 7777);
        assert!(ApiCode::DatabaseError.is_transient());
        assert!(!ApiCode::InvalidSign.is_transient());
        assert!(!ApiCode::InvalidEsl.is_transient());
        assert_eq!(ApiCode::KNOWN.len(), 29);
    }

    #[test]
    fn keep_body_cuts_on_char_boundary() {
        let long = "é".repeat(MAX_KEPT_BODY);
        let kept = keep_body(&long);
        assert!(kept.len() < long.len());
        assert!(kept.ends_with("bytes in all)"));
    }
}
