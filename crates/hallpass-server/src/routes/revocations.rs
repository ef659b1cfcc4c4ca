//! `GET /v1/revocations?since=CURSOR`: the sessions revoked recently enough that their access
//! tokens may still be unexpired, for resource servers that verify tokens themselves.

use axum::{Json, Router, extract::State, routing::get};
use hallpass_core::clock::{from_micros, to_micros};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{error::ApiError, http::extract::AppQuery, state::AppState};

/// The revocation feed.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/revocations", get(feed))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    /// The `next` of the previous answer; absent for everything still relevant.
    since: Option<String>,
}

/// Position in the feed: revocation time, then session id, so that revocations made in the
/// same microsecond are neither skipped nor repeated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Cursor(i64, Uuid);

impl Cursor {
    fn parse(text: &str) -> Option<Self> {
        let (micros, id) = text.split_once('.')?;
        Some(Self(micros.parse().ok()?, Uuid::parse_str(id).ok()?))
    }

    fn text(self) -> String {
        format!("{}.{}", self.0, self.1)
    }
}

#[derive(Serialize)]
struct Revocation {
    /// The `sid` whose tokens must be refused.
    session: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    revoked_at: OffsetDateTime,
    /// After this, every token of the session has expired anyway.
    #[serde(with = "time::serde::rfc3339")]
    refuse_until: OffsetDateTime,
}

#[derive(Serialize)]
struct Feed {
    revocations: Vec<Revocation>,
    /// Pass as `since` next time.
    next: String,
}

/// Session ids are public handles, not credentials; user ids are left out.
async fn feed(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<FeedQuery>,
) -> Result<Json<Feed>, ApiError> {
    let cursor = query
        .since
        .map(|text| {
            Cursor::parse(&text).ok_or_else(|| {
                ApiError::InvalidRequest(format!("since {text:?} is not a cursor from this feed"))
            })
        })
        .transpose()?;
    let now = state.clock.now();
    let horizon = state.tokens.access_ttl + state.config.clock_skew;
    let oldest = now - horizon;
    // One microsecond back, so revocations sharing the cursor's instant are read and then
    // filtered by id.
    let from = cursor.map_or(oldest, |c| from_micros(c.0 - 1).max(oldest));
    let mut revoked: Vec<(Cursor, OffsetDateTime)> = state
        .stores
        .sessions
        .revoked_since(from)
        .await?
        .into_iter()
        .map(|(session, _, at)| (Cursor(to_micros(at), session.0), at))
        .filter(|(position, _)| cursor.is_none_or(|c| *position > c))
        .collect();
    revoked.sort_by_key(|(position, _)| *position);
    let next = revoked
        .last()
        .map(|(position, _)| *position)
        .or(cursor)
        .unwrap_or(Cursor(to_micros(oldest), Uuid::nil()));
    Ok(Json(Feed {
        revocations: revoked
            .into_iter()
            .map(|(position, at)| Revocation {
                session: position.1,
                revoked_at: at,
                refuse_until: at + horizon,
            })
            .collect(),
        next: next.text(),
    }))
}
