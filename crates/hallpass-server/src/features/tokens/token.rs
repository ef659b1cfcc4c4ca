//! `POST /v1/token` (RFC 6749 password and refresh_token grants, and the emailed sign-in code
//! as the extension grant [`EMAIL_CODE_GRANT`]) and `POST /v1/revoke` (RFC 7009): the wire
//! format; issuing goes through login's, email login's and refresh's operations, revoking
//! through `ops::revoke`.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use hallpass_core::{session::SessionKind, token::RefreshToken};
use serde::{Deserialize, Serialize};

use crate::features::{
    email_login,
    login::{self, second_step::SignIn},
};
use crate::operation::{Client, OpError};
use crate::{
    features::tokens::{
        oauth::{Encoding, OAuthBody, OAuthError},
        ops::{self, RefreshError, exchange},
    },
    http::{cookies, extract::check_origin},
    state::AppState,
};

/// The extension grant (RFC 6749 §4.5) for a sign-in code or link mailed by
/// `POST /v1/login/email`: `email` and `code`, or the link's `token`.
pub(crate) const EMAIL_CODE_GRANT: &str = "urn:hallpass:grant-type:email-code";

/// The extension grant that completes a sign-in answered with `mfa_required`: `mfa_token` and
/// `code` (an authenticator app's) or `recovery_code`.
pub(crate) const MFA_GRANT: &str = "urn:hallpass:grant-type:mfa";

#[derive(Deserialize)]
pub(crate) struct TokenRequest {
    grant_type: Option<String>,
    username: Option<String>,
    password: Option<String>,
    email: Option<String>,
    code: Option<String>,
    token: Option<String>,
    mfa_token: Option<String>,
    recovery_code: Option<String>,
    refresh_token: Option<String>,
    refresh_token_delivery: Option<String>,
    /// Accepted and ignored: hallpass tokens carry roles, not scopes.
    #[serde(rename = "scope")]
    _scope: Option<String>,
}

#[derive(Serialize)]
struct TokenResponse {
    access_token: String,
    token_type: &'static str,
    expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    refresh_token: Option<String>,
}

/// Where the refresh token goes: the body (default) or an HttpOnly cookie for browsers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Delivery {
    Body,
    Cookie,
}

fn delivery(request: &TokenRequest, encoding: Encoding) -> Result<Delivery, OAuthError> {
    match request.refresh_token_delivery.as_deref() {
        None | Some("body") => Ok(Delivery::Body),
        // A form is what a foreign page can post without a preflight; the cookie flow is JSON only.
        Some("cookie") if encoding == Encoding::Json => Ok(Delivery::Cookie),
        Some("cookie") => Err(OAuthError::invalid_request(
            "refresh_token_delivery=cookie needs a JSON body",
        )),
        Some(other) => Err(OAuthError::invalid_request(format!(
            "unknown refresh_token_delivery {other:?}"
        ))),
    }
}

pub(crate) async fn token(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    body: Result<OAuthBody<TokenRequest>, OAuthError>,
) -> Result<Response, OAuthError> {
    let OAuthBody {
        value: request,
        encoding,
    } = body?;
    check_origin(&state, &headers).map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let delivery = delivery(&request, encoding)?;
    let (session, user) = match request.grant_type.as_deref() {
        Some("password") => {
            let (Some(username), Some(password)) = (&request.username, &request.password) else {
                return Err(OAuthError::invalid_request(
                    "the password grant needs username and password",
                ));
            };
            let signed_in = login::ops::login(
                &state,
                username,
                password,
                &client,
                None,
                SessionKind::Token,
                // Native apps keep no cookies: the password grant stays under the account
                // lockout (docs/operations.md "Brute force and lockout").
                None,
            )
            .await?;
            match signed_in {
                SignIn::Done(outcome) => (outcome.session, outcome.user),
                SignIn::SecondStep(step) => return Err(OAuthError::mfa_required(&step)),
            }
        }
        Some(EMAIL_CODE_GRANT) if !state.mail.settings.passwordless_login => {
            return Err(OAuthError::unsupported_grant_type(
                "signing in with an emailed code is off ([email] passwordless_login)",
            ));
        }
        Some(EMAIL_CODE_GRANT) => {
            let proof = email_login::ops::Proof::from_parts(
                request.token.as_deref(),
                request.email.as_deref(),
                request.code.as_deref(),
            )
            .ok_or_else(|| {
                OAuthError::invalid_request("the email-code grant needs email and code, or token")
            })?;
            let signed_in =
                email_login::ops::complete(&state, proof, &client, None, SessionKind::Token)
                    .await?;
            match signed_in {
                SignIn::Done(outcome) => (outcome.session, outcome.user),
                SignIn::SecondStep(step) => return Err(OAuthError::mfa_required(&step)),
            }
        }
        Some(MFA_GRANT) => {
            let Some(mfa_token) = &request.mfa_token else {
                return Err(OAuthError::invalid_request("the mfa grant needs mfa_token"));
            };
            let proof =
                login::respond::proof(request.code.as_deref(), request.recovery_code.as_deref())?;
            let outcome = login::second_step::complete(
                &state,
                mfa_token,
                proof,
                &client,
                None,
                SessionKind::Token,
                // As for the password grant: no cookies, the account's lockout.
                None,
            )
            .await?;
            (outcome.session, outcome.user)
        }
        Some("refresh_token") => {
            let presented = match (&request.refresh_token, delivery) {
                (Some(token), _) => token.clone(),
                (None, Delivery::Cookie) => bound_refresh_cookie(&state, &headers)?,
                (None, Delivery::Body) => {
                    return Err(OAuthError::invalid_request("refresh_token is required"));
                }
            };
            if delivery == Delivery::Cookie && !from_trusted_browser(&state, &headers) {
                return Err(OAuthError::invalid_request(
                    "a cookie refresh must come from the public origin or an allowed origin",
                ));
            }
            match exchange(&state, &presented, &client).await {
                Ok(refreshed) => (refreshed.session, refreshed.user),
                Err(RefreshError::Op(error)) => return Err(error.into()),
                Err(error) => return Err(OAuthError::invalid_grant(error.to_string())),
            }
        }
        Some(other) => {
            return Err(OAuthError::unsupported_grant_type(format!(
                "grant_type {other:?} is not supported"
            )));
        }
        None => return Err(OAuthError::invalid_request("grant_type is required")),
    };
    let access = state
        .tokens
        .issue_access(&user, &session, state.clock.now())
        .map_err(OpError::from)?;
    let refresh = state
        .tokens
        .refresh_token(&session)
        .ok_or_else(|| OAuthError::invalid_grant("not a token session"))?;
    let mut response = Json(TokenResponse {
        access_token: access.token,
        token_type: "Bearer",
        expires_in: access.expires_in,
        refresh_token: (delivery == Delivery::Body).then(|| refresh.to_string()),
    })
    .into_response();
    let headers = response.headers_mut();
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if delivery == Delivery::Cookie {
        for cookie in cookies::refresh_cookies(
            &state.config,
            &state.keys.refresh_binding,
            &refresh,
            session.id,
            state.tokens.refresh_ttl,
        ) {
            headers.append(header::SET_COOKIE, cookie);
        }
    }
    Ok(response)
}

/// The refresh cookie hallpass set in this browser: the one whose session the companion cookie
/// names. A refresh cookie without a matching companion was planted (a sibling site can set
/// `__Secure-` cookies, not `__Host-` ones) or outlived its companion: refused as
/// `invalid_grant` before anything is looked up, so it changes nothing. Copies a sibling added
/// beside the real one are passed over.
fn bound_refresh_cookie(state: &AppState, headers: &HeaderMap) -> Result<String, OAuthError> {
    let sent = cookies::read_refresh(headers, &state.config);
    if sent.iter().all(String::is_empty) {
        return Err(OAuthError::invalid_request(
            "no refresh token in the body or the cookie",
        ));
    }
    let refused = || {
        OAuthError::invalid_grant(
            "the refresh cookie was not set for this browser by hallpass; sign in again",
        )
    };
    let binding = cookies::read_refresh_binding(headers, &state.config)?
        .filter(|b| !b.is_empty())
        .ok_or_else(refused)?;
    let key = &state.keys.refresh_binding;
    let mut bound = sent.into_iter().filter(|value| {
        RefreshToken::parse(value).is_some_and(|token| key.matches(token.session, &binding))
    });
    match (bound.next(), bound.next()) {
        (Some(value), None) => Ok(value),
        (None, _) => Err(refused()),
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "the refresh cookie of this session was sent more than once",
        )),
    }
}

/// A browser request from our own origin or an allowed one: `Sec-Fetch-Site: same-origin`, or
/// an `Origin` we trust. (No header at all is a non-browser client, which has no cookie to use.)
fn from_trusted_browser(state: &AppState, headers: &HeaderMap) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    text("sec-fetch-site") == Some("same-origin")
        || text("origin").is_some_and(|o| state.config.origins.is_trusted(o))
}

#[derive(Deserialize)]
pub(crate) struct RevokeRequest {
    token: Option<String>,
    /// A hint only: both kinds are recognised by their shape.
    #[serde(rename = "token_type_hint")]
    _hint: Option<String>,
}

/// RFC 7009: revoking a refresh or access token ends its session. The answer is 200 whether or
/// not the token was valid, so the endpoint tells nobody which tokens exist.
pub(crate) async fn revoke(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    body: Result<OAuthBody<RevokeRequest>, OAuthError>,
) -> Result<Response, OAuthError> {
    let OAuthBody { value: request, .. } = body?;
    check_origin(&state, &headers).map_err(|e| OAuthError::invalid_request(e.to_string()))?;
    let token = request
        .token
        .ok_or_else(|| OAuthError::invalid_request("token is required"))?;
    let Some(id) = ops::revoke(&state, &token, &client).await? else {
        return Ok(StatusCode::OK.into_response());
    };
    let mut response = StatusCode::OK.into_response();
    // The browser revoked the session its refresh cookie belongs to (the companion, sent to
    // every path, names it; the refresh cookie itself only goes to /v1/token): forget both.
    // Only then: anyone may post here, and must not clear the cookies of a live session.
    let own = cookies::read_refresh_binding(&headers, &state.config)
        .ok()
        .flatten()
        .is_some_and(|binding| state.keys.refresh_binding.matches(id, &binding));
    if own {
        for cookie in cookies::clear_refresh_cookies(&state.config) {
            response.headers_mut().append(header::SET_COOKIE, cookie);
        }
    }
    Ok(response)
}
