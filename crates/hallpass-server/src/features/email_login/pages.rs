//! `GET`/`POST /login/email` (ask for a code, then type it) and `POST /login/email/complete`.
//! Opening the mailed link shows a button; only the button signs in.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode},
    response::Response,
};
use hallpass_core::session::SessionKind;
use serde::Deserialize;

use super::ops;
use crate::features::login::{
    respond::{self, Onward},
    second_step::SignIn,
};
use crate::{
    error::ApiError,
    http::{
        extract::{AppQuery, CsrfForm, PresessionForm, resolve},
        page_error::PageError,
        view::{logged_in, presession_page},
    },
    operation::{Client, OpError},
    state::AppState,
};

#[derive(Default)]
struct View<'a> {
    token: Option<&'a str>,
    email: Option<&'a str>,
    notice: Option<&'a str>,
    error: Option<String>,
}

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    view: View<'_>,
) -> Result<Response, ApiError> {
    presession_page(state, headers, status, "login_email.html", |csrf_token| {
        minijinja::context! {
            title => "Sign in with an emailed code",
            csrf_token,
            token => view.token,
            email => view.email,
            notice => view.notice,
            error => view.error,
        }
    })
}

#[derive(Deserialize)]
pub(crate) struct LinkQuery {
    token: Option<String>,
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    AppQuery(query): AppQuery<LinkQuery>,
) -> Result<Response, PageError> {
    if !state.mail.settings.passwordless_login {
        return Err(ApiError::from(OpError::NotFound).into());
    }
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
pub(crate) struct RequestForm {
    email: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for RequestForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn request(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<RequestForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    ops::request(&state, &form.email, &client).await?;
    let notice = "If this address belongs to an account, a sign-in code is on its way.";
    Ok(page(
        &state,
        &headers,
        StatusCode::OK,
        View {
            email: Some(form.email.trim()),
            notice: Some(notice),
            ..View::default()
        },
    )?)
}

#[derive(Deserialize)]
pub(crate) struct CompleteForm {
    token: Option<String>,
    email: Option<String>,
    code: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for CompleteForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn complete(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<CompleteForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    let previous = resolve(&state, &headers)
        .await
        .ok()
        .flatten()
        .map(|c| c.session);
    let result = match ops::Proof::from_parts(
        form.token.as_deref(),
        form.email.as_deref(),
        form.code.as_deref(),
    ) {
        Some(proof) => {
            ops::complete(
                &state,
                proof,
                &client,
                previous.as_ref(),
                SessionKind::Cookie,
            )
            .await
        }
        None => Err(OpError::InvalidEmailToken),
    };
    match result {
        Ok(SignIn::Done(outcome)) => Ok(logged_in(&state, &outcome.token)),
        Ok(SignIn::SecondStep(step)) => Ok(respond::second_step_page(
            &state,
            &headers,
            &step,
            &Onward::default(),
        )?),
        Err(error @ (OpError::InvalidEmailToken | OpError::RateLimited { .. })) => {
            let error = ApiError::from(error);
            let (status, _) = error.status_and_code();
            Ok(page(
                &state,
                &headers,
                status,
                View {
                    email: form.email.as_deref(),
                    error: Some(error.to_string()),
                    ..View::default()
                },
            )?)
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}
