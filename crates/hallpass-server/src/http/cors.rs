//! CORS for the API (docs/design.md §6): single-page apps on the origins in `allowed_origins` may call
//! it with credentials (the refresh cookie, the session cookie); every other origin gets no
//! `Access-Control-Allow-Origin` at all, so its script cannot read an answer. Never `*`.

use std::time::Duration;

use axum::http::{HeaderName, HeaderValue, Method, header};
use tower_http::cors::{AllowOrigin, CorsLayer};

use crate::{config::ServerConfig, http::extract::CSRF_HEADER};

/// How long a browser may reuse a preflight answer (Chromium caps this at 2 hours).
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The API's CORS layer: the configured origins only, with credentials; preflights cached.
pub(crate) fn api(config: &ServerConfig) -> CorsLayer {
    let origins: Vec<HeaderValue> = config
        .allowed_origins
        .iter()
        .filter_map(|origin| HeaderValue::from_str(origin).ok())
        .collect();
    CorsLayer::new()
        // An exact list: the answer names the caller's origin only when it is listed, and
        // `Vary: Origin` keeps caches from handing one origin's answer to another.
        .allow_origin(AllowOrigin::list(origins))
        .allow_credentials(true)
        .allow_methods([Method::GET, Method::POST, Method::PATCH, Method::DELETE])
        .allow_headers([
            header::AUTHORIZATION,
            header::CONTENT_TYPE,
            HeaderName::from_static(CSRF_HEADER),
        ])
        .expose_headers([header::RETRY_AFTER, header::WWW_AUTHENTICATE])
        .max_age(PREFLIGHT_MAX_AGE)
}

/// For public, credential-free files (the browser SDK): any origin may load them.
pub(crate) fn public() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(tower_http::cors::Any)
        .allow_methods([Method::GET])
}
