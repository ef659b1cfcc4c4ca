//! `GET /v1/oauth/{provider}/authorize` and `GET /v1/oauth/{provider}/callback`: social login
//! through the browser. The authorize route sends the browser to the provider with PKCE,
//! `state` and `nonce`, keeping the transaction in a sealed cookie; the callback checks it all,
//! finds or creates the account, and opens a cookie session on the same model as a password
//! login. Both answer pages (a browser is on the other end), errors included.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::{factor::amr::Method, session::SessionKind, user::UserId};
use serde::Deserialize;

use super::ops;
use crate::features::login::{
    respond::{self, Onward, tokens_to_app, trusted_return_to},
    second_step::{SignIn, first_factor_passed},
};
use crate::{
    error::ApiError,
    http::{
        cookies,
        extract::{AppQuery, resolve},
        page_error::PageError,
    },
    infra::social::{
        SocialError, flow,
        next::SafeNext,
        pending::{PENDING_LIFETIME, PendingLogin},
    },
    operation::{Client, OpError},
    state::AppState,
};

/// Where a login goes when `next` is absent or not a local path.
const DEFAULT_NEXT: &str = "/account";

#[derive(serde::Serialize)]
struct ProviderJson {
    name: String,
    display_name: String,
}

pub(crate) async fn providers(State(state): State<AppState>) -> axum::Json<serde_json::Value> {
    let list: Vec<ProviderJson> = state
        .social
        .providers
        .all()
        .map(|p| ProviderJson {
            name: p.name.clone(),
            display_name: p.display_name.clone(),
        })
        .collect();
    axum::Json(serde_json::json!({ "providers": list }))
}

#[derive(Deserialize)]
pub(crate) struct AuthorizeQuery {
    next: Option<String>,
    /// `link=1`: a logged-in user links this provider to their account.
    link: Option<String>,
    /// `mode=token`: a single-page app signs in; the login ends in a token session whose
    /// refresh token goes into its HttpOnly cookie, and the browser returns to `return_to`.
    mode: Option<String>,
    /// In token mode, the app's page to return to: its origin must be in `allowed_origins`.
    return_to: Option<String>,
}

/// Where the login goes when it is done: a local path for pages, or in token mode a page of an
/// allowed origin (which the app then signs in from with the refresh cookie; no token ever
/// travels in a URL).
fn destination(state: &AppState, query: &AuthorizeQuery) -> Result<flow::Destination, ApiError> {
    match query.mode.as_deref() {
        None | Some("cookie") => Ok(flow::Destination::Pages(
            query
                .next
                .as_deref()
                .and_then(SafeNext::parse)
                .or_else(|| SafeNext::parse(DEFAULT_NEXT))
                .ok_or(OpError::NotFound)?,
        )),
        Some("token") => {
            let refused = || {
                ApiError::InvalidRequest(
                    "return_to must be a page of an origin in allowed_origins".to_owned(),
                )
            };
            let url = query
                .return_to
                .as_deref()
                .and_then(|r| trusted_return_to(state, r))
                .ok_or_else(refused)?;
            Ok(flow::Destination::App(url))
        }
        Some(other) => Err(ApiError::InvalidRequest(format!(
            "mode is cookie or token, not {other:?}"
        ))),
    }
}

pub(crate) async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    query: Result<AppQuery<AuthorizeQuery>, ApiError>,
) -> Result<Response, PageError> {
    let started = async {
        let AppQuery(query) = query?;
        let provider = state
            .social
            .providers
            .get(&provider)
            .ok_or(OpError::NotFound)?;
        let destination = destination(&state, &query)?;
        if matches!(destination, flow::Destination::App(_)) && query.link.is_some() {
            return Err(ApiError::InvalidRequest(
                "link from the account page, not in token mode".to_owned(),
            ));
        }
        let link_to = match query.link.as_deref() {
            Some("1") => Some(
                resolve(&state, &headers)
                    .await?
                    .ok_or(ApiError::Unauthenticated)?
                    .user
                    .id
                    .0,
            ),
            _ => None,
        };
        let (url, pending) = flow::start(
            &provider,
            &state.social.http,
            destination,
            link_to,
            state.clock.now(),
        )
        .await?;
        let sealed = state
            .social
            .pending
            .seal(&pending)
            .map_err(|e| OpError::Internal(e.into()))?;
        let mut response = Redirect::to(url.as_str()).into_response();
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::pending_login_cookie(&state.config, &sealed, PENDING_LIFETIME),
        );
        Ok::<_, ApiError>(response)
    };
    Ok(started.await?)
}

pub(crate) async fn callback(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    Path(provider): Path<String>,
    query: Result<AppQuery<flow::Callback>, ApiError>,
) -> Response {
    let finished = async {
        let AppQuery(callback) = query?;
        let provider = state
            .social
            .providers
            .get(&provider)
            .ok_or(OpError::NotFound)?;
        // No transaction in this browser: the callback was not started here (or expired).
        let sealed = cookies::read_pending_login(&headers, &state.config)?
            .filter(|v| !v.is_empty())
            .ok_or(SocialError::Rejected(
                "no login was started in this browser, or it expired; start again",
            ))?;
        let pending = state
            .social
            .pending
            .open(&sealed)
            .map_err(|_| SocialError::Rejected("the login in progress is not valid"))?;
        let now = state.clock.now();
        flow::check_transaction(&provider, &pending, &callback, now)?;
        spend(&state, &pending, now).await?;
        let identity = flow::finish(
            &provider,
            &state.social.http,
            &pending,
            &callback,
            now,
            state.config.clock_skew,
        )
        .await?;
        let current = resolve(&state, &headers).await.ok().flatten();
        let link_to = pending.link_to.map(UserId);
        if let Some(user) = link_to {
            // Linking belongs to the session that asked for it, which stays as it is.
            if current.as_ref().is_none_or(|c| c.user.id != user) {
                return Err(ApiError::Unauthenticated);
            }
        }
        let user = ops::account_for(&state, &provider, &identity, link_to, &client).await?;
        if user.disabled {
            return Err(OpError::InvalidCredentials.into());
        }
        if pending.tokens {
            return app_signed_in(&state, &headers, user, &client, &pending.next).await;
        }
        let next = SafeNext::parse(&pending.next)
            .map_or_else(|| DEFAULT_NEXT.to_owned(), |n| n.as_str().to_owned());
        if link_to.is_some() {
            return Ok(Redirect::to(&next).into_response());
        }
        let previous = current.map(|c| c.session);
        let signed_in = first_factor_passed(
            &state,
            user,
            Method::Fed,
            &client,
            previous.as_ref(),
            SessionKind::Cookie,
        )
        .await?;
        let outcome = match signed_in {
            SignIn::Done(outcome) => outcome,
            SignIn::SecondStep(step) => {
                let onward = Onward {
                    next: Some(next),
                    return_to: None,
                };
                return respond::second_step_page(&state, &headers, &step, &onward);
            }
        };
        let mut response = Redirect::to(&next).into_response();
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::session_cookie(&state.config, outcome.token.expose()),
        );
        Ok::<_, ApiError>(response)
    };
    let mut response = finished.await.unwrap_or_else(|error| {
        tracing::info!(error = ?error, "social login failed");
        PageError::from(error).into_response()
    });
    // Success or not, the transaction is spent.
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear_pending_login_cookie(&state.config),
    );
    response
}

/// Marks the transaction spent, once for every node: a second callback with the same
/// transaction (a replay of the whole request, or a race of two) is refused before its code is
/// exchanged, whether or not the provider would refuse the code again.
async fn spend(
    state: &AppState,
    pending: &PendingLogin,
    now: time::OffsetDateTime,
) -> Result<(), ApiError> {
    let first = state
        .stores
        .identities
        .spend_social_login(
            &pending.state_hash(),
            pending.spent_mark_until(state.config.clock_skew),
            now,
        )
        .await?;
    if first {
        Ok(())
    } else {
        Err(SocialError::Rejected("this login was completed already; start again").into())
    }
}

/// Token mode's end: a token session whose refresh token goes into the app's HttpOnly refresh
/// cookie, and back to the app, which signs in by refreshing. (The origin was checked against
/// `allowed_origins` when the login started; the sealed transaction cannot have changed it.)
async fn app_signed_in(
    state: &AppState,
    headers: &HeaderMap,
    user: hallpass_core::user::User,
    client: &Client,
    return_to: &str,
) -> Result<Response, ApiError> {
    let signed_in =
        first_factor_passed(state, user, Method::Fed, client, None, SessionKind::Token).await?;
    match signed_in {
        SignIn::Done(outcome) => tokens_to_app(state, &outcome, return_to),
        // The code form on hallpass's page, which then returns to the app the same way.
        SignIn::SecondStep(step) => {
            let onward = Onward {
                next: None,
                return_to: Some(return_to.to_owned()),
            };
            respond::second_step_page(state, headers, &step, &onward)
        }
    }
}
