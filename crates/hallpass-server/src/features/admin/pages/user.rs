//! `/admin/users/{id}`: one account's access, sessions and recent activity, and the forms that
//! change them.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::{
    factor::FactorId,
    session::SessionId,
    user::{Role, User, UserId},
};
use hallpass_store::{AuditQuery, UserUpdate};
use serde::{Deserialize, Serialize};

use super::{
    audit::audit_rows,
    users::{Admin, UserRow},
};
use crate::{
    error::ApiError,
    features::{
        admin::ops::{self, existing_user},
        factors,
    },
    http::{
        device::device,
        extract::{Authenticated, CsrfForm, CsrfOnly, SessionForm, path_id},
        page_error::PageError,
        view::{human_time, viewer},
    },
    operation::Client,
    state::AppState,
};

#[derive(Serialize)]
struct SessionRow {
    id: String,
    kind: &'static str,
    device: String,
    user_agent: Option<String>,
    ip: Option<String>,
    created_at: String,
    last_seen_at: String,
}

#[derive(Serialize)]
struct FactorRow {
    id: String,
    name: String,
    kind: &'static str,
    created_at: String,
    last_used_at: Option<String>,
}

/// The user a path names, or 404 (an id that is not one included).
async fn target(state: &AppState, id: &str) -> Result<User, ApiError> {
    Ok(existing_user(state, UserId(path_id(id)?)).await?)
}

/// The user's page as it is now, with `notice` saying what just happened.
async fn user_page(
    state: &AppState,
    caller: &Authenticated,
    id: UserId,
    notice: Option<&str>,
) -> Result<Response, PageError> {
    let user = existing_user(state, id).await?;
    let now = state.clock.now();
    let policy = &state.config.session_policy;
    let sessions: Vec<SessionRow> = state
        .stores
        .sessions
        .sessions_of_user(user.id, now)
        .await?
        .iter()
        .filter(|s| policy.is_live(s, now))
        .map(|s| SessionRow {
            id: s.id.0.to_string(),
            kind: s.kind.as_str(),
            device: device(s.user_agent.as_deref()),
            user_agent: s.user_agent.clone(),
            ip: s.ip.clone(),
            created_at: human_time(s.created_at),
            last_seen_at: human_time(s.last_seen_at),
        })
        .collect();
    let recent = AuditQuery {
        user: Some(user.id),
        limit: 10,
        ..AuditQuery::default()
    };
    let events = audit_rows(state, &state.stores.audit.list_audit(&recent).await?).await?;
    let (factors, recovery_codes_left) = factors::ops::list(state, user.id).await?;
    let factors: Vec<FactorRow> = factors
        .iter()
        .map(|f| FactorRow {
            id: f.id.to_string(),
            name: f.name.clone(),
            kind: f.kind.as_str(),
            created_at: human_time(f.created_at),
            last_used_at: f.last_used_at.map(human_time),
        })
        .collect();
    let html = state.pages.render(
        "admin_user.html",
        minijinja::context! {
            title => format!("User {}", user.username),
            section => "admin",
            user => minijinja::value::Serde(UserRow::from(&user)),
            is_admin => user.is_admin(),
            is_self => user.id == caller.user.id,
            sessions => minijinja::value::Serde(&sessions),
            factors => minijinja::value::Serde(&factors),
            recovery_codes_left,
            events => minijinja::value::Serde(&events),
            notice,
            ..viewer(state, Some(caller))
        },
    )?;
    Ok(html.into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    admin: Admin,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    let user = target(&state, &id).await?;
    user_page(&state, &caller, user.id, None).await
}

#[derive(Deserialize)]
pub(crate) struct RolesForm {
    /// A checkbox: present ("on") when the user should be an administrator.
    admin: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub(crate) struct DisabledForm {
    disabled: bool,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for RolesForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}
impl CsrfForm for DisabledForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn set_roles(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<RolesForm>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    let SessionForm { form, .. } = form?;
    let target = target(&state, &id).await?;
    let make_admin = form.admin.is_some();
    // Whether this may demote the caller or the last administrator is the store's call
    // (`last_admin`), the same rule as the JSON API's.
    let mut roles: Vec<Role> = target
        .roles
        .iter()
        .filter(|r| **r != Role::admin())
        .cloned()
        .collect();
    if make_admin {
        roles.push(Role::admin());
    }
    let update = UserUpdate {
        roles: Some(roles),
        disabled: None,
    };
    ops::update_user(&state, caller.caller(), &target, &update, &client).await?;
    let notice = if make_admin {
        "Now an administrator."
    } else {
        "No longer an administrator."
    };
    user_page(&state, &caller, target.id, Some(notice)).await
}

pub(crate) async fn set_disabled(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<DisabledForm>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    let SessionForm { form, .. } = form?;
    let target = target(&state, &id).await?;
    let update = UserUpdate {
        roles: None,
        disabled: Some(form.disabled),
    };
    ops::update_user(&state, caller.caller(), &target, &update, &client).await?;
    let notice = if form.disabled {
        "Account disabled; every session of it has ended."
    } else {
        "Account enabled again."
    };
    user_page(&state, &caller, target.id, Some(notice)).await
}

pub(crate) async fn force_logout(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    form?;
    let target = target(&state, &id).await?;
    let count = ops::force_logout(&state, caller.caller(), &target, &client).await?;
    let notice = format!("Logged out everywhere: {count} session(s) ended.");
    user_page(&state, &caller, target.id, Some(&notice)).await
}

pub(crate) async fn revoke_session(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path((id, session)): Path<(String, String)>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    form?;
    let target = target(&state, &id).await?;
    let session = SessionId(path_id(&session)?);
    ops::revoke_session(&state, caller.caller(), &target, session, &client).await?;
    user_page(&state, &caller, target.id, Some("That session has ended.")).await
}

pub(crate) async fn delete(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    form?;
    let target = target(&state, &id).await?;
    ops::delete_user(&state, caller.caller(), &target, &client).await?;
    Ok(Redirect::to("/admin").into_response())
}

pub(crate) async fn remove_factor(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path((id, factor)): Path<(String, String)>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
    form?;
    let target = target(&state, &id).await?;
    let factor = FactorId(path_id(&factor)?);
    factors::ops::remove_by_admin(&state, caller.caller(), &target, factor, &client).await?;
    user_page(
        &state,
        &caller,
        target.id,
        Some("The factor was removed; the user was told."),
    )
    .await
}
