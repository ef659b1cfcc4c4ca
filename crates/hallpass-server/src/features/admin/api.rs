//! `/v1/admin/*`: users, force logout, roles and disabling, deletion, the audit log.

use axum::{
    Json,
    extract::{Path, State},
    http::StatusCode,
};
use hallpass_core::{
    audit::AuditKind,
    factor::FactorId,
    user::{UserId, parse_roles},
};
use hallpass_store::{AuditQuery, UserQuery, UserUpdate};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    error::ApiError,
    features::{
        admin::ops::{self, existing_user},
        factors,
    },
    http::{
        extract::{Admin, AppJson, AppQuery, path_id},
        json::{AdminUserJson, FactorJson},
    },
    operation::Client,
    state::AppState,
};

const MAX_PAGE: u32 = 200;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    search: Option<String>,
    limit: Option<u32>,
    offset: Option<u32>,
}

#[derive(Serialize)]
pub(crate) struct UsersResponse {
    users: Vec<AdminUserJson>,
}

pub(crate) async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
    AppQuery(query): AppQuery<ListQuery>,
) -> Result<Json<UsersResponse>, ApiError> {
    let users = state
        .stores
        .users
        .list_users(&UserQuery {
            search: query.search.filter(|s| !s.is_empty()),
            limit: query.limit.unwrap_or(50).clamp(1, MAX_PAGE),
            offset: query.offset.unwrap_or(0),
        })
        .await?;
    Ok(Json(UsersResponse {
        users: users.iter().map(AdminUserJson::from).collect(),
    }))
}

pub(crate) async fn force_logout(
    State(state): State<AppState>,
    client: Client,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = existing_user(&state, UserId(path_id(&id)?)).await?;
    ops::force_logout(&state, admin.caller(), &user, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UpdateRequest {
    roles: Option<Vec<String>>,
    disabled: Option<bool>,
}

#[derive(Serialize)]
pub(crate) struct UserResponse {
    user: AdminUserJson,
}

pub(crate) async fn update_user(
    State(state): State<AppState>,
    client: Client,
    Admin(admin): Admin,
    Path(id): Path<String>,
    AppJson(body): AppJson<UpdateRequest>,
) -> Result<Json<UserResponse>, ApiError> {
    let roles = body
        .roles
        .as_ref()
        .map(|roles| parse_roles(roles.iter().map(String::as_str)))
        .transpose()?;
    let target = existing_user(&state, UserId(path_id(&id)?)).await?;
    let update = UserUpdate {
        roles,
        disabled: body.disabled,
    };
    let user = ops::update_user(&state, admin.caller(), &target, &update, &client).await?;
    Ok(Json(UserResponse {
        user: AdminUserJson::from(&user),
    }))
}

pub(crate) async fn delete_user(
    State(state): State<AppState>,
    client: Client,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let user = existing_user(&state, UserId(path_id(&id)?)).await?;
    ops::delete_user(&state, admin.caller(), &user, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AuditParams {
    kind: Option<String>,
    user: Option<Uuid>,
    before: Option<i64>,
    limit: Option<u32>,
}

#[derive(Serialize)]
struct AuditEntry {
    id: i64,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    kind: AuditKind,
    actor: Option<Uuid>,
    subject: Option<Uuid>,
    session: Option<Uuid>,
    ip: Option<String>,
    detail: Option<String>,
}

#[derive(Serialize)]
pub(crate) struct AuditResponse {
    events: Vec<AuditEntry>,
    /// Pass as `before` for the next (older) page; absent on the last page.
    next: Option<i64>,
}

pub(crate) async fn audit_log(
    State(state): State<AppState>,
    _admin: Admin,
    AppQuery(params): AppQuery<AuditParams>,
) -> Result<Json<AuditResponse>, ApiError> {
    let kind = params
        .kind
        .map(|k| {
            AuditKind::parse(&k)
                .ok_or_else(|| ApiError::InvalidRequest(format!("unknown audit kind {k:?}")))
        })
        .transpose()?;
    let limit = params.limit.unwrap_or(50).clamp(1, MAX_PAGE);
    let records = state
        .stores
        .audit
        .list_audit(&AuditQuery {
            kind,
            user: params.user.map(UserId),
            before: params.before,
            limit,
        })
        .await?;
    let next = (records.len() == limit as usize)
        .then(|| records.last().map(|r| r.id))
        .flatten();
    Ok(Json(AuditResponse {
        events: records
            .into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.event.at,
                kind: r.event.kind,
                actor: r.event.actor.map(|u| u.0),
                subject: r.event.subject.map(|u| u.0),
                session: r.event.session.map(|s| s.0),
                ip: r.event.ip,
                detail: r.event.detail,
            })
            .collect(),
        next,
    }))
}

#[derive(Serialize)]
pub(crate) struct FactorsResponse {
    factors: Vec<FactorJson>,
    recovery_codes_left: u32,
}

/// A user's second factors (never their secrets).
pub(crate) async fn user_factors(
    State(state): State<AppState>,
    Admin(_admin): Admin,
    Path(id): Path<String>,
) -> Result<Json<FactorsResponse>, ApiError> {
    let user = existing_user(&state, UserId(path_id(&id)?)).await?;
    let (factors, left) = factors::ops::list(&state, user.id).await?;
    Ok(Json(FactorsResponse {
        factors: factors.iter().map(FactorJson::from).collect(),
        recovery_codes_left: left,
    }))
}

/// Removes one of a user's factors, for someone who lost both the device and the codes.
pub(crate) async fn remove_user_factor(
    State(state): State<AppState>,
    client: Client,
    Admin(admin): Admin,
    Path((id, factor)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    let user = existing_user(&state, UserId(path_id(&id)?)).await?;
    let factor = FactorId(path_id(&factor)?);
    factors::ops::remove_by_admin(&state, admin.caller(), &user, factor, &client).await?;
    Ok(StatusCode::NO_CONTENT)
}
