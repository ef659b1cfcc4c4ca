//! What a sign-in answers, for every entry point that signs in (the login API and pages, email
//! codes, social login, the token endpoint's grants): the session response, the `mfa_required`
//! answer, the second step's page, and the way back to a single-page app.

use axum::{
    Json,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use serde::Serialize;

use super::{
    second_step::{Proof, SecondStep},
    session::LoginOutcome,
};
use crate::{
    error::ApiError,
    http::{
        cookies,
        json::{SessionJson, UserJson},
        view::presession_page,
    },
    operation::OpError,
    state::AppState,
};

#[derive(Serialize)]
struct LoginResponse {
    user: UserJson,
    session: SessionJson,
    csrf_token: String,
}

/// The second step's proof: exactly one of `code` and `recovery_code`.
pub(crate) fn proof<'a>(
    code: Option<&'a str>,
    recovery_code: Option<&'a str>,
) -> Result<Proof<'a>, ApiError> {
    match (code, recovery_code) {
        (Some(code), None) => Ok(Proof::Totp(code)),
        (None, Some(code)) => Ok(Proof::RecoveryCode(code)),
        _ => Err(ApiError::InvalidRequest(
            "send either code or recovery_code".to_owned(),
        )),
    }
}

/// What a login answers: the user, the session and its CSRF token, with the session cookie
/// (and `extra`, the device cookie, where there is one).
pub(crate) fn session_response(
    state: &AppState,
    outcome: &LoginOutcome,
    extra: Option<HeaderValue>,
) -> Response {
    let body = LoginResponse {
        user: UserJson::from(&outcome.user),
        session: SessionJson::new(&outcome.session, &state.config.session_policy, true),
        csrf_token: state.keys.csrf.session_token(outcome.session.id),
    };
    let mut response = Json(body).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        cookies::session_cookie(&state.config, outcome.token.expose()),
    );
    if let Some(extra) = extra {
        headers.append(header::SET_COOKIE, extra);
    }
    response
}

#[derive(Serialize)]
struct MfaRequired<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    status: u16,
    code: &'static str,
    detail: &'static str,
    mfa_token: &'a str,
    methods: &'a [&'static str],
}

/// 401 `mfa_required`: the password was right, the second step is due. No cookie is set.
pub(crate) fn mfa_required(step: &SecondStep) -> Response {
    let body = MfaRequired {
        kind: "about:blank",
        title: "Unauthorized",
        status: StatusCode::UNAUTHORIZED.as_u16(),
        code: "mfa_required",
        detail: "enter a code from your authenticator app, or a recovery code",
        mfa_token: step.token.expose(),
        methods: &step.methods,
    };
    let mut response = (StatusCode::UNAUTHORIZED, Json(body)).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// Where the completed login goes: a path on hallpass (`next`, cookie sessions), or for a
/// single-page app's social login an allowed origin (`return_to`, token sessions).
#[derive(Debug, Default, Clone)]
pub(crate) struct Onward {
    pub next: Option<String>,
    pub return_to: Option<String>,
}

/// The code form for a challenge.
pub(crate) fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    mfa_token: &str,
    onward: &Onward,
    recovery: bool,
    error: Option<String>,
) -> Result<Response, ApiError> {
    presession_page(state, headers, status, "login_mfa.html", |csrf_token| {
        minijinja::context! {
            title => "Two-factor authentication", csrf_token, mfa_token, recovery, error,
            next => &onward.next, return_to => &onward.return_to,
        }
    })
}

/// The page a first factor that needs a second step answers with.
pub(crate) fn second_step_page(
    state: &AppState,
    headers: &HeaderMap,
    step: &SecondStep,
    onward: &Onward,
) -> Result<Response, ApiError> {
    page(
        state,
        headers,
        StatusCode::OK,
        step.token.expose(),
        onward,
        false,
        None,
    )
}

/// `return_to` if it is a page of an origin in `allowed_origins` (and carries no credentials).
pub(crate) fn trusted_return_to(state: &AppState, return_to: &str) -> Option<url::Url> {
    let url = url::Url::parse(return_to).ok()?;
    let origin = url.origin().ascii_serialization();
    let clean = url.username().is_empty() && url.password().is_none();
    (clean && state.config.allowed_origins.contains(&origin)).then_some(url)
}

/// Sends a browser back to the app at `return_to` with the new token session's refresh token
/// in the app's HttpOnly refresh cookie.
pub(crate) fn tokens_to_app(
    state: &AppState,
    outcome: &LoginOutcome,
    return_to: &str,
) -> Result<Response, ApiError> {
    let refresh = state
        .tokens
        .refresh_token(&outcome.session)
        .ok_or_else(|| OpError::Internal(anyhow::anyhow!("a token session without a family")))?;
    let mut response = Redirect::to(return_to).into_response();
    for cookie in cookies::refresh_cookies(
        &state.config,
        &state.keys.refresh_binding,
        &refresh,
        outcome.session.id,
        state.tokens.refresh_ttl,
    ) {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    Ok(response)
}
