//! Who is calling, by session cookie, and whether their writes are really theirs (CSRF).

use axum::{
    extract::{FromRef, FromRequest, FromRequestParts, Request},
    http::{HeaderMap, Method, header, request::Parts},
};
use hallpass_core::{
    CsrfRejection,
    session::{Session, SessionId, SessionKind, SessionToken},
    token::{TokenError, verify::MAX_TOKEN_BYTES},
    user::User,
};
use serde::de::DeserializeOwned;

use crate::{
    error::ApiError,
    http::{cookies, extract::AppForm},
    operation::Caller,
    state::AppState,
};

/// The header a cookie-authenticated API write carries its CSRF token in.
pub(crate) const CSRF_HEADER: &str = "x-csrf-token";

/// How the caller proved it holds its session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Credential {
    /// The session cookie.
    Cookie,
    /// An access token in `Authorization: Bearer`.
    Bearer,
}

/// A caller authenticated by session cookie or Bearer token. On unsafe methods (POST, PUT,
/// PATCH, DELETE) a cookie caller must also pass both CSRF halves, with the token from
/// `X-CSRF-Token`, so no handler can forget them; Bearer callers need neither.
#[derive(Debug, Clone)]
pub(crate) struct Authenticated {
    /// The session.
    pub session: Session,
    /// Its user.
    pub user: User,
    /// Cookie or Bearer.
    pub via: Credential,
}

impl Authenticated {
    /// The caller as operations take it: the session and its user, however they were proved.
    pub(crate) fn caller(&self) -> Caller<'_> {
        Caller {
            session: &self.session,
            user: &self.user,
        }
    }
}

impl<S> FromRequestParts<S> for Authenticated
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let state = AppState::from_ref(state);
        let in_query = parts
            .uri
            .query()
            .is_some_and(|q| q.split('&').any(|p| p.starts_with("access_token=")));
        if in_query {
            return Err(ApiError::InvalidRequest(
                "access tokens are never accepted in the query string; send Authorization: Bearer"
                    .to_owned(),
            ));
        }
        let caller = resolve(&state, &parts.headers)
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        if caller.via == Credential::Cookie && is_unsafe(&parts.method) {
            check_origin(&state, &parts.headers)?;
            let token = parts.headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok());
            state.keys.csrf.verify_session(caller.session.id, token)?;
        }
        Ok(caller)
    }
}

/// An administrator, authenticated as [`Authenticated`] is (CSRF included): the JSON admin API.
/// Anyone else gets 403.
#[derive(Debug, Clone)]
pub(crate) struct Admin(pub Authenticated);

impl<S> FromRequestParts<S> for Admin
where
    S: Send + Sync,
    AppState: FromRef<S>,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = Authenticated::from_request_parts(parts, state).await?;
        hallpass_core::authz::require_role(&caller.user, &hallpass_core::user::Role::admin())?;
        crate::factor_policy::check(&AppState::from_ref(state), &caller.user).await?;
        Ok(Self(caller))
    }
}

/// A form that carries a CSRF token in its `csrf_token` field.
pub(crate) trait CsrfForm {
    /// The token the form carried.
    fn csrf_token(&self) -> &str;
}

/// A form that carries nothing but its CSRF token (a button: log out, delete, revoke).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct CsrfOnly {
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for CsrfOnly {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A page form posted by a logged-in user: authenticated, same-origin, and carrying the
/// session's CSRF token in the form body.
#[derive(Debug, Clone)]
pub(crate) struct SessionForm<F> {
    /// The caller.
    pub caller: Authenticated,
    /// The parsed form.
    pub form: F,
}

impl<S, F> FromRequest<S> for SessionForm<F>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    F: DeserializeOwned + CsrfForm,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        let caller = resolve(&app, req.headers())
            .await?
            .ok_or(ApiError::Unauthenticated)?;
        check_origin(&app, req.headers())?;
        let AppForm(form) = AppForm::<F>::from_request(req, state).await?;
        app.keys
            .csrf
            .verify_session(caller.session.id, Some(form.csrf_token()))?;
        Ok(Self { caller, form })
    }
}

/// A login or signup form: same-origin, carrying the token bound to the pre-session cookie
/// (login CSRF: a foreign page must not log the victim into the attacker's account).
#[derive(Debug, Clone)]
pub(crate) struct PresessionForm<F>(pub F);

impl<S, F> FromRequest<S> for PresessionForm<F>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    F: DeserializeOwned + CsrfForm,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let app = AppState::from_ref(state);
        check_origin(&app, req.headers())?;
        let nonce = cookies::read_presession(req.headers(), &app.config)?;
        let AppForm(form) = AppForm::<F>::from_request(req, state).await?;
        app.keys
            .csrf
            .verify_presession(nonce.as_deref(), Some(form.csrf_token()))?;
        Ok(Self(form))
    }
}

/// Whether `method` may change state, so a cookie caller must prove it is not a forgery: anything
/// but GET, HEAD, OPTIONS and TRACE (an unknown method counts as unsafe).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(
        *method,
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    )
}

/// The origin half of the CSRF check (docs/design.md §6).
pub(crate) fn check_origin(state: &AppState, headers: &HeaderMap) -> Result<(), CsrfRejection> {
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &axum::http::HeaderValue| v.to_str().ok())
    };
    state.config.origins.check(
        text(header::HeaderName::from_static("sec-fetch-site")),
        text(header::ORIGIN),
    )
}

/// The live session the request presents, by cookie or Bearer token, if any. A missing,
/// malformed, unknown, revoked or expired cookie, or a disabled user, is simply "no session"; a
/// bad Bearer token is an `invalid_token` error. Cookie activity is recorded in the store at
/// most once per touch interval.
pub(crate) async fn resolve(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<Authenticated>, ApiError> {
    let mut authorization = headers.get_all(header::AUTHORIZATION).iter();
    if let Some(value) = authorization.next() {
        if authorization.next().is_some() {
            return Err(ApiError::InvalidRequest(
                "send one Authorization header".to_owned(),
            ));
        }
        // An explicit Bearer token says who is calling; a session cookie that rides along
        // (a single-page app on the same site as hallpass's pages, fetching with credentials)
        // is ignored, never a fallback: a bad token is an error even with a good cookie. No
        // foreign page can add this header to a victim's request without passing CORS.
        return bearer(state, value).await.map(Some);
    }
    let presented = cookies::read_session(headers, &state.config)?;
    let Some(token) = presented.as_deref().and_then(SessionToken::parse) else {
        return Ok(None);
    };
    let Some((mut session, user)) = state
        .stores
        .sessions
        .session_by_token_hash(&token.hash())
        .await?
    else {
        return Ok(None);
    };
    let now = state.clock.now();
    let policy = &state.config.session_policy;
    if session.kind != SessionKind::Cookie || user.disabled || !policy.is_live(&session, now) {
        return Ok(None);
    }
    if policy.touch_due(&session, now) {
        state.stores.sessions.touch_session(session.id, now).await?;
        session.last_seen_at = now;
    }
    Ok(Some(Authenticated {
        session,
        user,
        via: Credential::Cookie,
    }))
}

/// RFC 6750: the scheme is case-insensitive; a token over 8 KiB is refused before parsing.
async fn bearer(
    state: &AppState,
    value: &axum::http::HeaderValue,
) -> Result<Authenticated, ApiError> {
    if value.len() > MAX_TOKEN_BYTES + "Bearer ".len() {
        return Err(ApiError::InvalidToken(TokenError::TooLarge));
    }
    let text = value
        .to_str()
        .map_err(|_| ApiError::InvalidToken(TokenError::Malformed))?;
    let Some((scheme, token)) = text.split_once(' ') else {
        return Err(ApiError::Unauthenticated);
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthenticated);
    }
    let now = state.clock.now();
    let token = token.trim();
    let claims = match state.tokens.verify(token, now) {
        Err(TokenError::UnknownKey) if state.tokens.keyring.reload_for_unknown_key(now).await => {
            state.tokens.verify(token, now)
        }
        verified => verified,
    }
    .map_err(ApiError::InvalidToken)?;
    let sid = uuid::Uuid::parse_str(&claims.sid)
        .map_err(|_| ApiError::InvalidToken(TokenError::Malformed))?;
    let found = state.stores.sessions.session_by_id(SessionId(sid)).await?;
    match found {
        Some((session, user))
            if session.kind == SessionKind::Token
                && session.user_id.to_string() == claims.sub
                && !user.disabled
                && state.config.session_policy.is_live(&session, now) =>
        {
            Ok(Authenticated {
                session,
                user,
                via: Credential::Bearer,
            })
        }
        _ => Err(ApiError::InvalidToken(TokenError::Revoked)),
    }
}
