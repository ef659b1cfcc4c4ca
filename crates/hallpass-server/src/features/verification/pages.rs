//! `GET`/`POST /verify`: following a mailed link (one click on a form: opening the link spends
//! nothing, so a mail scanner that opens it cannot), or typing a mailed code.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
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

/// What the page shows: the confirm button for a link's token, else the code form; or the
/// outcome.
#[derive(Default)]
struct View<'a> {
    token: Option<&'a str>,
    login: Option<&'a str>,
    done: bool,
    notice: Option<&'a str>,
    error: Option<String>,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    view: View<'_>,
) -> Result<Response, ApiError> {
    presession_page(state, headers, status, "verify.html", |csrf_token| {
        minijinja::context! {
            title => "Confirm your email address",
            csrf_token,
            token => view.token,
            login => view.login,
            done => view.done,
            notice => view.notice,
            error => view.error,
        }
    })
}

#[derive(Deserialize)]
pub(crate) struct VerifyQuery {
    token: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(query): AppQuery<VerifyQuery>,
) -> Result<Response, PageError> {
    let token = query.token.as_deref().filter(|t| !t.is_empty());
    Ok(page(
        &state,
        &headers,
        StatusCode::OK,
        View {
            token,
            ..View::default()
        },
    )?)
}

#[derive(Deserialize)]
pub(crate) struct VerifyForm {
    token: Option<String>,
    login: Option<String>,
    code: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for VerifyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<VerifyForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    let result = match (&form.token, &form.login, &form.code) {
        (Some(token), _, _) => ops::confirm_token(&state, token, &client).await,
        (None, Some(login), Some(code)) => ops::confirm_code(&state, login, code, &client).await,
        _ => Err(OpError::InvalidEmailToken),
    };
    match result {
        Ok(user) => {
            let notice = format!(
                "Your email address {} is confirmed.",
                user.email.as_ref().map_or("", |e| e.as_str())
            );
            Ok(page(
                &state,
                &headers,
                StatusCode::OK,
                View {
                    done: true,
                    notice: Some(&notice),
                    ..View::default()
                },
            )?)
        }
        Err(error @ (OpError::InvalidEmailToken | OpError::RateLimited { .. })) => {
            let bad_link = matches!(error, OpError::InvalidEmailToken) && form.token.is_some();
            let error = ApiError::from(error);
            let (status, _) = error.status_and_code();
            let message = if bad_link {
                "This link is not valid: it may have expired, been used, or been replaced by a \
                 newer one. Log in and ask for a new one from your account page, or enter a \
                 code below."
                    .to_owned()
            } else {
                error.to_string()
            };
            Ok(page(
                &state,
                &headers,
                status,
                View {
                    login: form.login.as_deref(),
                    error: Some(message),
                    ..View::default()
                },
            )?)
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}
