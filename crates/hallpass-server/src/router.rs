//! The route table: every path the server answers, grouped by who calls it, with the layers
//! each group gets, behind the layers every response gets. A feature's files export handlers;
//! only this file says where they are mounted.

use axum::{
    Router,
    extract::DefaultBodyLimit,
    http::{HeaderValue, Request, header},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{delete, get, patch, post},
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
        page_headers::with_page_headers,
        request_id::{self, REQUEST_ID},
        resilience, unread_body,
    },
    pages::{self, admin},
    routes as api,
    state::AppState,
    telemetry,
};

/// The largest request body accepted (docs/design.md §8).
pub(crate) const MAX_BODY_BYTES: usize = 65_536;

/// The whole application: the route table, behind the layers every response gets.
pub(crate) fn app(state: AppState) -> Router {
    // The JSON API, with CORS for the origins in `allowed_origins`. Probes and key publication
    // answer here too, under the same CORS.
    let api = Router::new()
        // Probes. `/metrics` needs `metrics_token` (404 when none is configured).
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(api::health::guarded_metrics))
        // Accounts and browser sessions.
        .route("/v1/signup", post(api::signup::signup))
        .route("/v1/login", post(api::login::login))
        .route("/v1/me", get(api::me::me))
        .route("/v1/logout", post(api::logout::logout))
        .route("/v1/sessions", get(api::sessions::list))
        .route("/v1/sessions/{id}", delete(api::sessions::revoke))
        .route("/v1/password", post(api::password::change))
        .route("/v1/session/events", get(api::session_events::events))
        // Administration; every handler takes the `Admin` extractor.
        .route("/v1/admin/users", get(api::admin::list_users))
        .route(
            "/v1/admin/users/{id}",
            patch(api::admin::update_user).delete(api::admin::delete_user),
        )
        .route(
            "/v1/admin/users/{id}/logout",
            post(api::admin::force_logout),
        )
        .route("/v1/admin/audit", get(api::admin::audit_log))
        // Tokens: issuing and revoking, forward auth, the revocation feed, key publication.
        .route("/v1/token", post(api::token::token))
        .route("/v1/revoke", post(api::token::revoke))
        .route("/v1/auth/check", get(api::auth_check::check))
        .route("/v1/revocations", get(api::revocations::feed))
        .route("/.well-known/jwks.json", get(api::well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(api::well_known::configuration),
        )
        // Social login: the providers, for an app's login buttons.
        .route("/v1/oauth/providers", get(api::social::providers));

    // Server-rendered pages, with the page headers (strict CSP, no referrer, no framing).
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/account") }))
        .route("/login", get(pages::login::show).post(pages::login::submit))
        .route(
            "/signup",
            get(pages::signup::show).post(pages::signup::submit),
        )
        .route("/account", get(pages::account::show))
        .route("/logout", post(pages::account::logout))
        .route("/account/password", post(pages::account::change_password))
        .route(
            "/account/sessions/{id}/revoke",
            post(pages::account::revoke),
        )
        .route(
            "/account/identities/{provider}/unlink",
            post(pages::account::unlink),
        )
        .route("/demo/board", get(pages::board::list))
        .route(
            "/demo/board/new",
            get(pages::board::new_form).post(pages::board::create),
        )
        .route("/demo/board/{id}", get(pages::board::show))
        .route(
            "/demo/board/{id}/edit",
            get(pages::board::edit_form).post(pages::board::update),
        )
        .route("/demo/board/{id}/delete", post(pages::board::delete))
        .route("/admin", get(admin::users::users))
        .route("/admin/users/{id}", get(admin::user::show))
        .route("/admin/users/{id}/roles", post(admin::user::set_roles))
        .route(
            "/admin/users/{id}/disabled",
            post(admin::user::set_disabled),
        )
        .route("/admin/users/{id}/logout", post(admin::user::force_logout))
        .route("/admin/users/{id}/delete", post(admin::user::delete))
        .route(
            "/admin/users/{id}/sessions/{session}/revoke",
            post(admin::user::revoke_session),
        )
        .route("/admin/audit", get(admin::audit::show))
        // Social login's browser legs answer pages (their errors, their redirects).
        .route(
            "/v1/oauth/{provider}/authorize",
            get(api::social::authorize),
        )
        .route("/v1/oauth/{provider}/callback", get(api::social::callback));

    // Static files, with their own cache policy; the SDK may be imported from any origin.
    let sdk = Router::new()
        .route("/sdk/hallpass.js", get(pages::assets::sdk))
        .route("/sdk/hallpass.d.ts", get(pages::assets::sdk_types))
        .layer(cors::public());
    let assets = Router::new()
        .route("/static/hallpass.css", get(pages::assets::stylesheet))
        .route("/static/live.js", get(pages::assets::live_script))
        .merge(sdk);

    let routes = Router::new()
        .merge(api.layer(cors::api(&state.config)))
        .merge(with_page_headers(pages).merge(assets))
        .fallback(not_found);
    around_everything(routes, state)
}

/// The operations listener's application (`metrics_listen`): health and metrics only, no
/// credentials; the operator decides who reaches the address.
pub(crate) fn ops_app(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(api::health::healthz))
        .route("/readyz", get(api::health::readyz))
        .route("/metrics", get(api::health::metrics))
        .fallback(not_found)
        .with_state(state)
}

/// The layers every response of the main listener gets, outermost last: metrics, the body
/// limit, the request timeout and store watch, request ids and tracing, panics as 500,
/// `no-store` and `nosniff`, closing connections whose body went unread, and HSTS over https.
fn around_everything(routes: Router<AppState>, state: AppState) -> Router {
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
    routes
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

async fn not_found() -> Response {
    ApiError::NotFound.into_response()
}
