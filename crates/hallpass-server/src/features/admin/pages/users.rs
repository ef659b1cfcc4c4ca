//! `/admin`: the user list, and what every admin page shares (the admin extractor, a user's row).

use axum::{
    extract::State,
    response::{IntoResponse, Response},
};
use hallpass_core::user::User;
use hallpass_store::UserQuery;
use serde::{Deserialize, Serialize};

use crate::{
    error::ApiError,
    http::{
        extract::{AdminRole, AppQuery, HasRole},
        page_error::PageError,
        view::{human_time, viewer},
    },
    state::AppState,
};

const USERS_PER_PAGE: u32 = 25;

/// What every admin route takes: an administrator, or the reason why not.
pub(super) type Admin = Result<HasRole<AdminRole>, ApiError>;

#[derive(Serialize)]
pub(super) struct UserRow {
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
pub(crate) struct UsersQuery {
    q: Option<String>,
    page: Option<u32>,
}

pub(crate) async fn users(
    State(state): State<AppState>,
    admin: Admin,
    query: Result<AppQuery<UsersQuery>, ApiError>,
) -> Result<Response, PageError> {
    let caller = admin?.caller;
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
    Ok(html.into_response())
}
