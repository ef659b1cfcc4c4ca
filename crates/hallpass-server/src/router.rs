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

use crate::operation::OpError;
use crate::{
    error::ApiError,
    features::{
        account, admin, board, email_login, factors, login, probes, reauth, recovery, sessions,
        signup, social, tokens, verification,
    },
    http::{
        cors, page_error,
        page_headers::with_page_headers,
        request_id::{self, REQUEST_ID},
        resilience, unread_body,
    },
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
        .route("/healthz", get(probes::health::healthz))
        .route("/readyz", get(probes::health::readyz))
        .route("/metrics", get(probes::health::guarded_metrics))
        // Accounts and browser sessions.
        .route("/v1/signup", post(signup::api::signup))
        .route("/v1/login", post(login::api::login))
        .route("/v1/me", get(sessions::me::me))
        .route("/v1/logout", post(sessions::logout::logout))
        .route("/v1/sessions", get(sessions::devices::list))
        .route("/v1/sessions/{id}", delete(sessions::devices::revoke))
        .route("/v1/password", post(sessions::password::change))
        // Mail: recovery, address verification and change.
        .route("/v1/password/forgot", post(recovery::api::forgot))
        .route("/v1/password/reset", post(recovery::api::reset))
        .route("/v1/email", post(verification::api::change))
        .route("/v1/email/verify", post(verification::api::verify))
        .route("/v1/email/verify/resend", post(verification::api::resend))
        .route("/v1/login/mfa", post(login::api::complete))
        .route("/v1/reauth", post(reauth::api::reauth))
        .route("/v1/factors", get(factors::api::list))
        .route("/v1/factors/totp", post(factors::api::start))
        .route("/v1/factors/totp/confirm", post(factors::api::confirm))
        .route(
            "/v1/factors/recovery-codes",
            post(factors::api::regenerate_codes),
        )
        .route("/v1/factors/{id}", delete(factors::api::remove))
        .route("/v1/login/email", post(email_login::api::request))
        .route("/v1/login/email/complete", post(email_login::api::complete))
        .route("/v1/session/events", get(sessions::events::events))
        // Administration; every handler takes the `Admin` extractor.
        .route("/v1/admin/users", get(admin::api::list_users))
        .route(
            "/v1/admin/users/{id}",
            patch(admin::api::update_user).delete(admin::api::delete_user),
        )
        .route(
            "/v1/admin/users/{id}/logout",
            post(admin::api::force_logout),
        )
        .route("/v1/admin/audit", get(admin::api::audit_log))
        .route(
            "/v1/admin/users/{id}/factors",
            get(admin::api::user_factors),
        )
        .route(
            "/v1/admin/users/{id}/factors/{factor}",
            delete(admin::api::remove_user_factor),
        )
        // Tokens: issuing and revoking, forward auth, the revocation feed, key publication.
        .route("/v1/token", post(tokens::token::token))
        .route("/v1/revoke", post(tokens::token::revoke))
        .route("/v1/auth/check", get(probes::auth_check::check))
        .route("/v1/revocations", get(tokens::revocations::feed))
        .route("/.well-known/jwks.json", get(tokens::well_known::jwks))
        .route(
            "/.well-known/openid-configuration",
            get(tokens::well_known::configuration),
        )
        // Social login: the providers, for an app's login buttons.
        .route("/v1/oauth/providers", get(social::api::providers));

    // Server-rendered pages, with the page headers (strict CSP, no referrer, no framing) and
    // errors rendered as the error page.
    let pages = Router::new()
        .route("/", get(|| async { Redirect::to("/account") }))
        .route("/login", get(login::pages::show).post(login::pages::submit))
        .route(
            "/signup",
            get(signup::pages::show).post(signup::pages::submit),
        )
        .route("/account", get(account::pages::show))
        .route("/logout", post(account::pages::logout))
        .route("/account/password", post(account::pages::change_password))
        .route("/account/email", post(account::pages::change_email))
        .route(
            "/account/email/resend",
            post(account::pages::resend_verification),
        )
        .route(
            "/forgot",
            get(recovery::pages::show_forgot).post(recovery::pages::submit_forgot),
        )
        .route(
            "/reset",
            get(recovery::pages::show_reset).post(recovery::pages::submit_reset),
        )
        .route(
            "/verify",
            get(verification::pages::show).post(verification::pages::submit),
        )
        .route(
            "/login/email",
            get(email_login::pages::show).post(email_login::pages::request),
        )
        .route("/login/email/complete", post(email_login::pages::complete))
        .route("/login/mfa", post(login::mfa_pages::submit))
        .route("/account/factors", get(factors::pages::show))
        .route(
            "/reauth",
            get(reauth::pages::show).post(reauth::pages::submit),
        )
        .route("/account/factors/totp", post(factors::pages::start))
        .route(
            "/account/factors/totp/confirm",
            post(factors::pages::confirm),
        )
        .route(
            "/account/factors/recovery-codes",
            post(factors::pages::regenerate_codes),
        )
        .route("/account/factors/{id}/remove", post(factors::pages::remove))
        .route("/login/mfa/method", post(login::mfa_pages::switch))
        .route(
            "/account/sessions/{id}/revoke",
            post(account::pages::revoke),
        )
        .route(
            "/account/identities/{provider}/unlink",
            post(account::pages::unlink),
        )
        .route("/demo/board", get(board::pages::list))
        .route(
            "/demo/board/new",
            get(board::pages::new_form).post(board::pages::create),
        )
        .route("/demo/board/{id}", get(board::pages::show))
        .route(
            "/demo/board/{id}/edit",
            get(board::pages::edit_form).post(board::pages::update),
        )
        .route("/demo/board/{id}/delete", post(board::pages::delete))
        .route("/admin", get(admin::pages::users::users))
        .route("/admin/users/{id}", get(admin::pages::user::show))
        .route(
            "/admin/users/{id}/roles",
            post(admin::pages::user::set_roles),
        )
        .route(
            "/admin/users/{id}/disabled",
            post(admin::pages::user::set_disabled),
        )
        .route(
            "/admin/users/{id}/logout",
            post(admin::pages::user::force_logout),
        )
        .route("/admin/users/{id}/delete", post(admin::pages::user::delete))
        .route(
            "/admin/users/{id}/factors/{factor}/remove",
            post(admin::pages::user::remove_factor),
        )
        .route(
            "/admin/users/{id}/sessions/{session}/revoke",
            post(admin::pages::user::revoke_session),
        )
        .route("/admin/audit", get(admin::pages::audit::show))
        // Social login's browser legs answer pages (their errors, their redirects).
        .route(
            "/v1/oauth/{provider}/authorize",
            get(social::api::authorize),
        )
        .route("/v1/oauth/{provider}/callback", get(social::api::callback))
        // A page handler's error (`PageError`) becomes the error page here, once.
        .layer(middleware::from_fn_with_state(
            state.pages.clone(),
            page_error::render_page_errors,
        ));

    // Static files, with their own cache policy; the SDK may be imported from any origin.
    let sdk = Router::new()
        .route("/sdk/hallpass.js", get(probes::assets::sdk))
        .route("/sdk/hallpass.d.ts", get(probes::assets::sdk_types))
        .layer(cors::public());
    let assets = Router::new()
        .route("/static/hallpass.css", get(probes::assets::stylesheet))
        .route("/static/live.js", get(probes::assets::live_script))
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
        .route("/healthz", get(probes::health::healthz))
        .route("/readyz", get(probes::health::readyz))
        .route("/metrics", get(probes::health::metrics))
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
            ApiError::from(OpError::Internal(anyhow::anyhow!("handler panicked"))).into_response()
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
    ApiError::from(OpError::NotFound).into_response()
}
