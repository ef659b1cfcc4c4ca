//! `GET /reauth`, `POST /reauth`: "confirm it's you", then back to the page of the action.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use crate::{
    error::ApiError,
    http::{
        extract::{AppQuery, Authenticated, CsrfForm, SessionForm, resolve},
        page_error::PageError,
        view::viewer,
    },
    infra::social::next::SafeNext,
    operation::OpError,
    reauth,
    state::AppState,
};

fn page(
    state: &AppState,
    caller: &Authenticated,
    status: StatusCode,
    next: &str,
    error: Option<&str>,
) -> Result<Response, ApiError> {
    let html = state.pages.render(
        "reauth.html",
        minijinja::context! {
            title => "Confirm it's you",
            next, error,
            has_password => caller.user.password_hash.is_usable(),
            ..viewer(state, Some(caller))
        },
    )?;
    Ok((status, html).into_response())
}

fn next_of(next: Option<&str>) -> String {
    next.and_then(SafeNext::parse)
        .map_or_else(|| "/account".to_owned(), |n| n.as_str().to_owned())
}

#[derive(Deserialize)]
pub(crate) struct ReauthQuery {
    next: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(query): AppQuery<ReauthQuery>,
) -> Result<Response, PageError> {
    match resolve(&state, &headers).await? {
        Some(caller) => Ok(page(
            &state,
            &caller,
            StatusCode::OK,
            &next_of(query.next.as_deref()),
            None,
        )?),
        None => Ok(Redirect::to("/login").into_response()),
    }
}

#[derive(Deserialize)]
pub(crate) struct ReauthForm {
    password: Option<String>,
    code: Option<String>,
    next: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for ReauthForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    form: Result<SessionForm<ReauthForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let next = next_of(form.next.as_deref());
    // An empty field is a field left out.
    let password = form.password.as_deref().filter(|p| !p.is_empty());
    let code = form.code.as_deref().filter(|c| !c.trim().is_empty());
    match reauth::reauthenticate(&state, caller.caller(), password, code).await {
        Ok(()) => Ok(Redirect::to(&next).into_response()),
        Err(OpError::WrongCurrentPassword) => Ok(page(
            &state,
            &caller,
            StatusCode::FORBIDDEN,
            &next,
            Some("That is not right. Try again."),
        )?),
        Err(error @ OpError::RateLimited { .. }) => {
            let message = ApiError::from(error).to_string();
            Ok(page(
                &state,
                &caller,
                StatusCode::TOO_MANY_REQUESTS,
                &next,
                Some(&message),
            )?)
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}
