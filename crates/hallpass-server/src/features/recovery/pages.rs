//! `GET`/`POST /forgot` and `GET`/`POST /reset`. Opening a link spends nothing (mail scanners
//! open links): the token is spent only by the form the page shows.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::ops;
use crate::{
    error::ApiError,
    http::{
        extract::{AppQuery, CsrfForm, PresessionForm},
        page_error::PageError,
        view::presession_page,
    },
    operation::{Client, OpError},
    state::AppState,
};

fn forgot_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    sent: bool,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let notice = sent.then_some(
        "If that account has a confirmed email address, a link to choose a new password is on \
         its way. It works once, for a limited time.",
    );
    presession_page(state, headers, status, "forgot.html", |csrf_token| {
        minijinja::context! { title => "Forgot your password?", csrf_token, sent, notice, error }
    })
}

pub(crate) async fn show_forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    Ok(forgot_page(&state, &headers, StatusCode::OK, false, None)?)
}

#[derive(Deserialize)]
pub(crate) struct ForgotForm {
    login: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for ForgotForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn submit_forgot(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<ForgotForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    match ops::forgot(&state, &form.login, &client).await {
        Ok(()) => Ok(forgot_page(&state, &headers, StatusCode::OK, true, None)?),
        Err(error @ OpError::RateLimited { .. }) => {
            let error = ApiError::from(error);
            let (status, _) = error.status_and_code();
            Ok(forgot_page(
                &state,
                &headers,
                status,
                false,
                Some(error.to_string()),
            )?)
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct TokenQuery {
    #[serde(default)]
    token: String,
}

fn reset_page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    token: Option<&str>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    presession_page(state, headers, status, "reset.html", |csrf_token| {
        minijinja::context! { title => "Choose a new password", csrf_token, token, error }
    })
}

const BAD_LINK: &str = "This link is not valid: it may have expired, been used, or been \
                        replaced by a newer one. Ask for a new link below.";

/// The form, if the link's token is live; else a way forward.
pub(crate) async fn show_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(query): AppQuery<TokenQuery>,
) -> Result<Response, PageError> {
    let live = ops::token_is_live(&state, &query.token).await?;
    Ok(if live {
        reset_page(&state, &headers, StatusCode::OK, Some(&query.token), None)?
    } else {
        reset_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            None,
            Some(BAD_LINK.to_owned()),
        )?
    })
}

#[derive(Deserialize)]
pub(crate) struct ResetForm {
    token: String,
    new_password: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for ResetForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn submit_reset(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<ResetForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    match ops::reset(&state, &form.token, &form.new_password, &client).await {
        Ok(_) => Ok(Redirect::to("/login?notice=password_reset").into_response()),
        Err(OpError::InvalidEmailToken) => Ok(reset_page(
            &state,
            &headers,
            StatusCode::BAD_REQUEST,
            None,
            Some(BAD_LINK.to_owned()),
        )?),
        Err(error @ (OpError::Invalid(_) | OpError::RateLimited { .. })) => {
            let error = ApiError::from(error);
            let (status, _) = error.status_and_code();
            let message = match error.invalid_fields() {
                Some(fields) => fields
                    .iter()
                    .map(|f| format!("The new password {}.", f.message))
                    .collect::<Vec<_>>()
                    .join(" "),
                None => error.to_string(),
            };
            Ok(reset_page(
                &state,
                &headers,
                status,
                Some(&form.token),
                Some(message),
            )?)
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}
