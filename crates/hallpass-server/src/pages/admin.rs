//! `/admin`: the console for administrators. Find users, change their roles, disable or delete
//! them, see and end their sessions, read the audit log. Every route takes [`HasRole<AdminRole>`],
//! so nobody else gets past the extractor; writes are forms checked by [`SessionForm`].

use axum::{
    Router,
    extract::{Path, State},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use hallpass_core::{
    audit::AuditKind,
    session::SessionId,
    user::{Role, User, UserId},
};
use hallpass_store::{AuditQuery, AuditRecord, UserQuery, UserUpdate};
use serde::{Deserialize, Serialize};

use crate::{
    auth::admin::{self, existing_user},
    error::ApiError,
    http::{
        client::Client,
        extract::{AdminRole, AppQuery, Authenticated, CsrfForm, CsrfOnly, HasRole, SessionForm},
    },
    pages::{device::device, human_time, viewer},
    routes::json::path_id,
    state::AppState,
};

const USERS_PER_PAGE: u32 = 25;
const AUDIT_PER_PAGE: u32 = 50;

/// The admin console's pages and forms.
pub(super) fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(users))
        .route("/admin/users/{id}", get(user))
        .route("/admin/users/{id}/roles", post(set_roles))
        .route("/admin/users/{id}/disabled", post(set_disabled))
        .route("/admin/users/{id}/logout", post(force_logout))
        .route("/admin/users/{id}/delete", post(delete))
        .route(
            "/admin/users/{id}/sessions/{session}/revoke",
            post(revoke_session),
        )
        .route("/admin/audit", get(audit))
}

type Admin = Result<HasRole<AdminRole>, ApiError>;

/// Unwraps the admin extractor or answers with the error page (login redirect, 403).
macro_rules! admin_or_page {
    ($state:expr, $admin:expr) => {
        match $admin {
            Ok(HasRole { caller, .. }) => caller,
            Err(error) => return $state.pages.error(&error),
        }
    };
}

#[derive(Serialize)]
struct UserRow {
    id: String,
    username: String,
    email: Option<String>,
    roles: Vec<String>,
    disabled: bool,
    created_at: String,
}

impl From<&User> for UserRow {
    fn from(user: &User) -> Self {
        Self {
            id: user.id.0.to_string(),
            username: user.username.clone(),
            email: user.email.as_ref().map(|e| e.as_str().to_owned()),
            roles: user.roles.iter().map(|r| r.as_str().to_owned()).collect(),
            disabled: user.disabled,
            created_at: human_time(user.created_at),
        }
    }
}

#[derive(Deserialize)]
struct UsersQuery {
    q: Option<String>,
    page: Option<u32>,
}

async fn users(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<AppQuery<UsersQuery>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let rendered = async {
        let AppQuery(query) = query?;
        let search = query
            .q
            .map(|q| q.trim().to_owned())
            .filter(|q| !q.is_empty());
        let page = query.page.unwrap_or(1).max(1);
        // One extra row says whether there is a next page.
        let mut found = state
            .stores
            .users
            .list_users(&UserQuery {
                search: search.clone(),
                limit: USERS_PER_PAGE + 1,
                offset: (page - 1).saturating_mul(USERS_PER_PAGE),
            })
            .await?;
        let more = found.len() > USERS_PER_PAGE as usize;
        found.truncate(USERS_PER_PAGE as usize);
        let rows: Vec<UserRow> = found.iter().map(UserRow::from).collect();
        let html = state.pages.render(
            "admin_users.html",
            minijinja::context! {
                title => "Users",
                section => "admin",
                users => minijinja::value::Serde(&rows),
                q => search,
                page,
                previous => (page > 1).then(|| page - 1),
                next => more.then_some(page + 1),
                ..viewer(&state, Some(&caller))
            },
        )?;
        Ok::<_, ApiError>(html.into_response())
    };
    rendered.await.unwrap_or_else(|e| state.pages.error(&e))
}

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
struct AuditRow {
    at: String,
    kind: &'static str,
    actor: Option<String>,
    subject: Option<String>,
    session: Option<String>,
    ip: Option<String>,
    detail: Option<String>,
}

async fn user_page(
    state: &AppState,
    caller: &Authenticated,
    id: &str,
    notice: Option<&str>,
) -> Result<Response, ApiError> {
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
    let html = state.pages.render(
        "admin_user.html",
        minijinja::context! {
            title => format!("User {}", user.username),
            section => "admin",
            user => minijinja::value::Serde(UserRow::from(&user)),
            is_admin => user.is_admin(),
            is_self => user.id == caller.user.id,
            sessions => minijinja::value::Serde(&sessions),
            events => minijinja::value::Serde(&events),
            notice,
            ..viewer(state, Some(caller))
        },
    )?;
    Ok(html.into_response())
}

async fn user(State(state): State<AppState>, admin: Admin, Path(id): Path<String>) -> Response {
    let caller = admin_or_page!(state, admin);
    user_page(&state, &caller, &id, None)
        .await
        .unwrap_or_else(|e| state.pages.error(&e))
}

/// After an action on a user: their page again, saying what happened, or the error page.
async fn done(
    state: &AppState,
    caller: &Authenticated,
    id: &str,
    outcome: Result<String, ApiError>,
) -> Response {
    let page = match outcome {
        Ok(notice) => user_page(state, caller, id, Some(&notice)).await,
        Err(error) => Err(error),
    };
    page.unwrap_or_else(|e| state.pages.error(&e))
}

/// Administrators cannot lock themselves out from the console: another administrator must.
fn not_self(caller: &Authenticated, target: &User) -> Result<(), ApiError> {
    if caller.user.id == target.id {
        return Err(ApiError::Validation(vec![
            hallpass_core::ValidationError::new(
                "user",
                "you cannot disable, demote or delete your own account; ask another administrator",
            ),
        ]));
    }
    Ok(())
}

#[derive(Deserialize)]
pub(super) struct RolesForm {
    /// A checkbox: present ("on") when the user should be an administrator.
    admin: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

#[derive(Deserialize)]
pub(super) struct DisabledForm {
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

async fn set_roles(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<RolesForm>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let result = async {
        let SessionForm { form, .. } = form?;
        let target = existing_user(&state, &id).await?;
        let make_admin = form.admin.is_some();
        if !make_admin {
            not_self(&caller, &target)?;
        }
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
        admin::update_user(&state, &caller, &target, &update, &client).await?;
        Ok(if make_admin {
            "Now an administrator.".to_owned()
        } else {
            "No longer an administrator.".to_owned()
        })
    };
    done(&state, &caller, &id, result.await).await
}

async fn set_disabled(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<DisabledForm>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let result = async {
        let SessionForm { form, .. } = form?;
        let target = existing_user(&state, &id).await?;
        not_self(&caller, &target)?;
        let update = UserUpdate {
            roles: None,
            disabled: Some(form.disabled),
        };
        admin::update_user(&state, &caller, &target, &update, &client).await?;
        Ok(if form.disabled {
            "Account disabled; every session of it has ended.".to_owned()
        } else {
            "Account enabled again.".to_owned()
        })
    };
    done(&state, &caller, &id, result.await).await
}

async fn force_logout(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let result = async {
        form?;
        let target = existing_user(&state, &id).await?;
        let count = admin::force_logout(&state, &caller, &target, &client).await?;
        Ok(format!("Logged out everywhere: {count} session(s) ended."))
    };
    done(&state, &caller, &id, result.await).await
}

async fn revoke_session(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path((id, session)): Path<(String, String)>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let result = async {
        form?;
        let target = existing_user(&state, &id).await?;
        let session = SessionId(path_id(&session)?);
        admin::revoke_session(&state, &caller, &target, session, &client).await?;
        Ok("That session has ended.".to_owned())
    };
    done(&state, &caller, &id, result.await).await
}

async fn delete(
    State(state): State<AppState>,
    client: Client,
    admin: Admin,
    Path(id): Path<String>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let result = async {
        form?;
        let target = existing_user(&state, &id).await?;
        not_self(&caller, &target)?;
        admin::delete_user(&state, &caller, &target, &client).await
    };
    match result.await {
        Ok(()) => Redirect::to("/admin").into_response(),
        Err(error) => state.pages.error(&error),
    }
}

#[derive(Deserialize)]
struct AuditFilter {
    kind: Option<String>,
    /// A username or a user id.
    user: Option<String>,
    before: Option<i64>,
}

async fn audit(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<AppQuery<AuditFilter>, ApiError>,
) -> Response {
    let caller = admin_or_page!(state, admin);
    let rendered = async {
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
        Ok::<_, ApiError>(html.into_response())
    };
    rendered.await.unwrap_or_else(|e| state.pages.error(&e))
}

/// A user named by id or by username (the audit filter takes either); 404 if neither matches.
async fn find_user(state: &AppState, text: &str) -> Result<User, ApiError> {
    if let Ok(id) = uuid::Uuid::parse_str(text)
        && let Some(user) = state.stores.users.user_by_id(UserId(id)).await?
    {
        return Ok(user);
    }
    let name = hallpass_core::user::Username::parse(text).map_err(|_| ApiError::NotFound)?;
    state
        .stores
        .users
        .user_by_username(&name)
        .await?
        .ok_or(ApiError::NotFound)
}

/// Audit records as rows, with user ids replaced by usernames where the user still exists.
async fn audit_rows(state: &AppState, records: &[AuditRecord]) -> Result<Vec<AuditRow>, ApiError> {
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
