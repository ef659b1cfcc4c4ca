//! `GET /v1/revocations?since=CURSOR`: what resource servers that verify tokens themselves
//! must refuse on top of signature and expiry — sessions ended, and users whose tokens issued
//! before some instant say something no longer true (docs/revocation-feed.md).

use axum::{Json, extract::State, http::HeaderMap};
use hallpass_core::{
    clock::{from_micros, to_micros},
    token::sub_sha256,
};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{
    error::ApiError,
    http::{extract::AppQuery, ops_access},
    state::AppState,
};

/// How much of the past each answer repeats.
const OVERLAP: Duration = Duration::seconds(5);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FeedQuery {
    /// The `next` of the previous answer; absent for everything still relevant.
    since: Option<String>,
}

/// A `since` this feed could have handed out: unix microseconds, not before the epoch and not
/// further ahead of this node's clock than the horizon (a node whose clock runs ahead by up to
/// the tolerated skew still produces acceptable cursors). Anything else is refused, never
/// turned into arithmetic on an instant out of range.
#[derive(Debug, Clone, Copy)]
struct Cursor(OffsetDateTime);

impl Cursor {
    fn parse(text: &str, now: OffsetDateTime, horizon: Duration) -> Result<Self, ApiError> {
        let refused =
            || ApiError::InvalidRequest(format!("since {text:?} is not a cursor from this feed"));
        let micros = text.parse::<i64>().map_err(|_| refused())?;
        if micros < 0 || micros > to_micros(now + horizon) {
            return Err(refused());
        }
        Ok(Self(from_micros(micros)))
    }
}

#[derive(Serialize)]
struct SessionRevocation {
    /// The `sid` whose tokens must be refused.
    session: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    revoked_at: OffsetDateTime,
    /// After this, every token of the session has expired anyway.
    #[serde(with = "time::serde::rfc3339")]
    refuse_until: OffsetDateTime,
}

#[derive(Serialize)]
struct UserRevocation {
    /// base64url (no padding) of SHA-256 of the token's `sub`: holders of the user's tokens can
    /// match it, a reader of this public feed learns no account id.
    sub_sha256: String,
    /// Tokens of the user whose `iat` is below this (unix seconds) must be refused.
    issued_before: i64,
    #[serde(with = "time::serde::rfc3339")]
    revoked_at: OffsetDateTime,
    /// After this, every token the entry refuses has expired anyway.
    #[serde(with = "time::serde::rfc3339")]
    refuse_until: OffsetDateTime,
}

#[derive(Serialize)]
pub(crate) struct Feed {
    revocations: Vec<SessionRevocation>,
    users: Vec<UserRevocation>,
    /// Pass as `since` next time.
    next: String,
}

/// The cursor is a time, and each answer repeats the last [`OVERLAP`] before it: a revocation
/// stamped in the same instant as the cursor, or by a node whose clock runs slightly behind,
/// still arrives. Entries are idempotent ("refuse until…"), so repeats are harmless.
pub(crate) async fn feed(
    State(state): State<AppState>,
    headers: HeaderMap,
    query: Result<AppQuery<FeedQuery>, ApiError>,
) -> Result<Json<Feed>, ApiError> {
    // The credential first: a caller without it learns nothing, not even what a cursor is.
    if let Some(access) = &state.config.revocation_feed_access {
        ops_access::admit(access, &headers)?;
    }
    let AppQuery(query) = query?;
    let now = state.clock.now();
    let horizon = state.tokens.access_ttl + state.config.clock_skew;
    let since = query
        .since
        .as_deref()
        .map(|text| Cursor::parse(text, now, horizon))
        .transpose()?;
    let oldest = now - horizon;
    let from =
        since.map_or(oldest, |Cursor(s)| (s - OVERLAP).max(oldest)) - Duration::microseconds(1);
    let mut sessions = state.stores.sessions.revoked_since(from).await?;
    sessions.sort_by_key(|(id, _, at)| (*at, *id));
    let mut users = state.stores.users.user_revocations_since(from).await?;
    users.sort_by_key(|mark| (mark.at, mark.user));
    let latest = sessions
        .iter()
        .map(|(_, _, at)| *at)
        .chain(users.iter().map(|mark| mark.at))
        .max();
    // Never behind the cursor given: an answer made only of the overlap's repeats keeps it.
    let next = latest
        .into_iter()
        .chain(since.map(|Cursor(s)| s))
        .max()
        .unwrap_or(oldest);
    Ok(Json(Feed {
        revocations: sessions
            .into_iter()
            .map(|(session, _, at)| SessionRevocation {
                session: session.0,
                revoked_at: at,
                refuse_until: at + horizon,
            })
            .collect(),
        users: users
            .into_iter()
            .map(|mark| UserRevocation {
                sub_sha256: sub_sha256(&mark.user.to_string()),
                issued_before: mark.issued_before,
                revoked_at: mark.at,
                refuse_until: mark.at + horizon,
            })
            .collect(),
        next: to_micros(next).to_string(),
    }))
}
