//! `GET /v1/oauth/{provider}/authorize` and `GET /v1/oauth/{provider}/callback`: social login
//! through the browser. The authorize route sends the browser to the provider with PKCE,
//! `state` and `nonce`, keeping the transaction in a sealed cookie; the callback checks it all,
//! finds or creates the account, and opens a cookie session on the same model as a password
//! login. Both answer pages (a browser is on the other end), errors included.

use axum::{
    Router,
    extract::{Path, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use hallpass_core::{session::SessionKind, user::UserId};
use serde::Deserialize;

use crate::{
    auth,
    error::ApiError,
    http::{
        client::Client,
        cookies,
        extract::{AppQuery, resolve},
    },
    social::{SocialError, flow, next::SafeNext, pending::PENDING_LIFETIME},
    state::AppState,
};

/// Where a login goes when `next` is absent or not a local path.
const DEFAULT_NEXT: &str = "/account";

/// The social login routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/oauth/{provider}/authorize", get(authorize))
        .route("/v1/oauth/{provider}/callback", get(callback))
}

#[derive(Deserialize)]
struct AuthorizeQuery {
    next: Option<String>,
    /// `link=1`: a logged-in user links this provider to their account.
    link: Option<String>,
}

async fn authorize(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(provider): Path<String>,
    query: Result<AppQuery<AuthorizeQuery>, ApiError>,
) -> Response {
    let started = async {
        let AppQuery(query) = query?;
        let provider = state
            .social
            .providers
            .get(&provider)
            .ok_or(ApiError::NotFound)?;
        let next = query
            .next
            .as_deref()
            .and_then(SafeNext::parse)
            .or_else(|| SafeNext::parse(DEFAULT_NEXT))
            .ok_or(ApiError::NotFound)?;
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
            next,
            link_to,
            state.clock.now(),
        )
        .await?;
        let sealed = state
            .social
            .pending
            .seal(&pending)
            .map_err(|e| ApiError::Internal(e.into()))?;
        let mut response = Redirect::to(url.as_str()).into_response();
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::pending_login_cookie(&state.config, &sealed, PENDING_LIFETIME),
        );
        Ok::<_, ApiError>(response)
    };
    started.await.unwrap_or_else(|e| state.pages.error(&e))
}

async fn callback(
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
            .ok_or(ApiError::NotFound)?;
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
        let user =
            auth::social::account_for(&state, &provider, &identity, link_to, &client).await?;
        if user.disabled {
            return Err(ApiError::InvalidCredentials);
        }
        let next = SafeNext::parse(&pending.next)
            .map_or_else(|| DEFAULT_NEXT.to_owned(), |n| n.as_str().to_owned());
        if link_to.is_some() {
            return Ok(Redirect::to(&next).into_response());
        }
        let previous = current.map(|c| c.session);
        let outcome = auth::open_session(
            &state,
            user,
            &client,
            previous.as_ref(),
            SessionKind::Cookie,
        )
        .await?;
        let mut response = Redirect::to(&next).into_response();
        response.headers_mut().append(
            header::SET_COOKIE,
            cookies::session_cookie(&state.config, outcome.token.expose()),
        );
        Ok::<_, ApiError>(response)
    };
    let mut response = finished.await.unwrap_or_else(|e| {
        tracing::info!(error = ?e, "social login failed");
        state.pages.error(&e)
    });
    // Success or not, the transaction is spent.
    response.headers_mut().append(
        header::SET_COOKIE,
        cookies::clear_pending_login_cookie(&state.config),
    );
    response
}
