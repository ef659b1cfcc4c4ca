//! The static files the pages and single-page apps load: the stylesheet, the pages' one
//! script, and the browser SDK. Embedded in the binary, so a deployment is one file.

use axum::{http::header, response::IntoResponse};

const STYLESHEET: &str = include_str!("../../../../../web/static/hallpass.css");
const LIVE_SCRIPT: &str = include_str!("../../../../../web/static/live.js");
const SDK: &str = include_str!("../../../../../web/hallpass.js");
const SDK_TYPES: &str = include_str!("../../../../../web/hallpass.d.ts");

const CSS: &str = "text/css; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const TYPESCRIPT: &str = "application/typescript; charset=utf-8";

/// Short enough that a new release reaches browsers within minutes.
const CACHE: &str = "public, max-age=300";

/// `/static/hallpass.css`: the pages' stylesheet.
pub(crate) async fn stylesheet() -> impl IntoResponse {
    file(CSS, STYLESHEET)
}

/// `/static/live.js`: the pages' one script (the session event stream).
pub(crate) async fn live_script() -> impl IntoResponse {
    file(JAVASCRIPT, LIVE_SCRIPT)
}

/// `/sdk/hallpass.js`: the browser SDK. Public code, so pages on any origin may import it (the
/// API's own CORS list decides who may call the API with credentials).
pub(crate) async fn sdk() -> impl IntoResponse {
    file(JAVASCRIPT, SDK)
}

/// `/sdk/hallpass.d.ts`: the SDK's types.
pub(crate) async fn sdk_types() -> impl IntoResponse {
    file(TYPESCRIPT, SDK_TYPES)
}

fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, CACHE),
        ],
        body,
    )
}
