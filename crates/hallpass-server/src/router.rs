//! The route table: every path the server answers, grouped by who calls it, with the layers
//! each group gets, behind the layers every response gets.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Request, header},
    middleware,
    response::{IntoResponse, Response},
};
use tower::ServiceBuilder;
use tower_http::{
    catch_panic::CatchPanicLayer,
    request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer},
    set_header::SetResponseHeaderLayer,
    trace::TraceLayer,
};

use crate::{
    error::ApiError,
    http::{
        cors,
        request_id::{self, REQUEST_ID},
        resilience, unread_body,
    },
    pages, routes,
    state::AppState,
    telemetry,
};

/// The largest request body accepted (docs/design.md §8).
pub const MAX_BODY_BYTES: usize = 65_536;

/// The whole application: every feature's router, merged, behind the common layers.
pub fn app(state: AppState) -> Router {
    let layers = ServiceBuilder::new()
        .map_request(request_id::drop_unacceptable)
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(
            // The span names the route and request id, never the query string or headers, which
            // could carry credentials.
            TraceLayer::new_for_http().make_span_with(|request: &Request<_>| {
                let id = request
                    .headers()
                    .get(REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(|_| {
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        // Responses carry sessions, tokens and personal data: no cache may keep them. The
        // stylesheet sets its own policy.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ));
    // Browsers that reached us over https once must never fall back to http (cookies included).
    let hsts = state.config.secure_cookies.then(|| {
        SetResponseHeaderLayer::overriding(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        )
    });
    Router::new()
        .merge(routes::router().layer(cors::api(&state.config)))
        .merge(pages::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.metrics.clone(),
            telemetry::track_requests,
        ))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(middleware::from_fn_with_state(
            state.clone(),
            resilience::bound_and_watch,
        ))
        .layer(layers)
        .layer(middleware::from_fn(unread_body::close_if_unread))
        .layer(tower::util::option_layer(hsts))
        .with_state(state)
}

/// The operations listener's application (`metrics_listen`): health and metrics only, no
/// credentials; the operator decides who reaches the address.
pub fn ops_app(state: AppState) -> Router {
    Router::new()
        .merge(routes::health::ops_router())
        .fallback(not_found)
        .with_state(state)
}

async fn not_found() -> Response {
    ApiError::NotFound.into_response()
}
