//! `/admin/audit`: the audit log, newest first, filtered by event and user.

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use hallpass_core::{
    audit::AuditKind,
    user::{User, UserId},
};
use hallpass_store::{AuditQuery, AuditRecord};
use serde::{Deserialize, Serialize};

use super::users::Admin;
use crate::{
    error::ApiError,
    http::{
        extract::AppQuery,
        page_error::PageError,
        view::{human_time, viewer},
    },
    operation::OpError,
    state::AppState,
};

const AUDIT_PER_PAGE: u32 = 50;

#[derive(Serialize)]
pub(super) struct AuditRow {
    at: String,
    kind: &'static str,
    actor: Option<String>,
    subject: Option<String>,
    session: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
}

#[derive(Deserialize)]
pub(crate) struct AuditFilter {
    kind: Option<String>,
    /// A username or a user id.
    user: Option<String>,
    before: Option<i64>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<AppQuery<AuditFilter>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    let AppQuery(filter) = query?;
    let kind_name = filter.kind.filter(|k| !k.is_empty());
    let kind = kind_name
        .as_deref()
        .map(|k| {
            AuditKind::parse(k)
                .ok_or_else(|| ApiError::InvalidRequest(format!("unknown audit kind {k:?}")))
        })
        .transpose()?;
    let user_text = filter
        .user
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let user = match &user_text {
        Some(text) => Some(find_user(&state, text).await?),
        None => None,
    };
    let query = AuditQuery {
        kind,
        user: user.as_ref().map(|u| u.id),
        before: filter.before,
        limit: AUDIT_PER_PAGE,
    };
    let records = state.stores.audit.list_audit(&query).await?;
    let next = (records.len() == AUDIT_PER_PAGE as usize)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    let events = audit_rows(&state, &records).await?;
    let kinds: Vec<&str> = AuditKind::ALL.iter().map(|k| k.as_str()).collect();
    let html = state.pages.render(
        "admin_audit.html",
        minijinja::context! {
            title => "Audit log",
            section => "admin",
            events => minijinja::value::Serde(&events),
            kinds,
            kind => kind_name,
            user => user_text,
            next,
            ..viewer(&state, Some(&caller))
        },
    )?;
    Ok(html.into_response())
}

/// A user named by id or by username (the audit filter takes either); 404 if neither matches.
async fn find_user(state: &AppState, text: &str) -> Result<User, ApiError> {
    if let Ok(id) = uuid::Uuid::parse_str(text)
        && let Some(user) = state.stores.users.user_by_id(UserId(id)).await?
    {
        return Ok(user);
    }
    let name = hallpass_core::user::Username::parse(text).map_err(|_| OpError::NotFound)?;
    state
        .stores
        .users
        .user_by_username(&name)
        .await?
        .ok_or(OpError::NotFound.into())
}

/// Audit records as rows, with user ids replaced by usernames where the user still exists.
pub(super) async fn audit_rows(
    state: &AppState,
    records: &[AuditRecord],
) -> Result<Vec<AuditRow>, ApiError> {
    let mut ids: Vec<UserId> = records
        .iter()
        .flat_map(|r| [r.event.actor, r.event.subject])
        .flatten()
        .collect();
    ids.sort_by_key(|id| id.0);
    ids.dedup();
    let mut names = std::collections::HashMap::<UserId, String>::new();
    for id in ids {
        let name = match state.stores.users.user_by_id(id).await? {
            Some(user) => user.username,
            None => format!("deleted ({})", &id.0.simple().to_string()[..8]),
        };
        names.insert(id, name);
    }
    let name = |id: Option<UserId>| id.and_then(|id| names.get(&id).cloned());
    Ok(records
        .iter()
        .map(|r| AuditRow {
            at: human_time(r.event.at),
            kind: r.event.kind.as_str(),
            actor: name(r.event.actor),
            subject: name(r.event.subject),
            session: r
                .event
                .session
                .map(|s| s.0.simple().to_string()[..8].to_owned()),
            ip: r.event.ip.clone(),
            detail: r.event.detail.clone(),
        })
        .collect())
}
