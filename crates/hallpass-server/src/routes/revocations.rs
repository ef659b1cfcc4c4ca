//! `GET /v1/revocations?since=CURSOR`: the sessions revoked recently enough that their access
//! tokens may still be unexpired, for resource servers that verify tokens themselves.

use axum::{Json, Router, extract::State, routing::get};
use hallpass_core::clock::{from_micros, to_micros};
use serde::{Deserialize, Serialize};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use crate::{error::ApiError, http::extract::AppQuery, state::AppState};

/// The revocation feed.
pub fn router() -> Router<AppState> {
    Router::new().route("/v1/revocations", get(feed))
}

/// How much of the past each answer repeats.
const OVERLAP: Duration = Duration::seconds(5);

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedQuery {
    /// The `next` of the previous answer; absent for everything still relevant.
    since: Option<String>,
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
///
/// The cursor is a time, and each answer repeats the last [`OVERLAP`] before it: a revocation
/// stamped in the same instant as the cursor, or by a node whose clock runs slightly behind,
/// still arrives. Entries are idempotent ("refuse this session until…"), so repeats are harmless.
async fn feed(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<FeedQuery>,
) -> Result<Json<Feed>, ApiError> {
    let since = query
        .since
        .map(|text| {
            text.parse::<i64>().map_err(|_| {
                ApiError::InvalidRequest(format!("since {text:?} is not a cursor from this feed"))
            })
        })
        .transpose()?;
    let now = state.clock.now();
    let horizon = state.tokens.access_ttl + state.config.clock_skew;
    let oldest = now - horizon;
    let from = since.map_or(oldest, |s| (from_micros(s) - OVERLAP).max(oldest));
    let mut revoked = state
        .stores
        .sessions
        .revoked_since(from - Duration::microseconds(1))
        .await?;
    revoked.sort_by_key(|(id, _, at)| (*at, *id));
    let next = revoked.last().map_or_else(
        || since.unwrap_or_else(|| to_micros(oldest)),
        |(_, _, at)| to_micros(*at),
    );
    Ok(Json(Feed {
        revocations: revoked
            .into_iter()
            .map(|(session, _, at)| Revocation {
                session: session.0,
                revoked_at: at,
                refuse_until: at + horizon,
            })
            .collect(),
        next: next.to_string(),
    }))
}
