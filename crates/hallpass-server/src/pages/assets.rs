//! The static files the pages and single-page apps load: the stylesheet, the pages' one
//! script, and the browser SDK. Embedded in the binary, so a deployment is one file.

use axum::{Router, http::header, response::IntoResponse, routing::get};

use crate::{http::cors, state::AppState};

const STYLESHEET: &str = include_str!("../../../../web/static/hallpass.css");
const LIVE_SCRIPT: &str = include_str!("../../../../web/static/live.js");
const SDK: &str = include_str!("../../../../web/hallpass.js");
const SDK_TYPES: &str = include_str!("../../../../web/hallpass.d.ts");

const CSS: &str = "text/css; charset=utf-8";
const JAVASCRIPT: &str = "text/javascript; charset=utf-8";
const TYPESCRIPT: &str = "application/typescript; charset=utf-8";

/// Short enough that a new release reaches browsers within minutes.
const CACHE: &str = "public, max-age=300";

/// The asset routes. The SDK may be imported by pages on any origin (it is public code; the
/// API's own CORS list decides who may call the API with credentials).
pub(super) fn router() -> Router<AppState> {
    let sdk = Router::new()
        .route("/sdk/hallpass.js", get(|| file(JAVASCRIPT, SDK)))
        .route("/sdk/hallpass.d.ts", get(|| file(TYPESCRIPT, SDK_TYPES)))
        .layer(cors::public());
    Router::new()
        .route("/static/hallpass.css", get(|| file(CSS, STYLESHEET)))
        .route("/static/live.js", get(|| file(JAVASCRIPT, LIVE_SCRIPT)))
        .merge(sdk)
}

async fn file(content_type: &'static str, body: &'static str) -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, CACHE),
        ],
        body,
    )
}
