//! `GET /signup`, `POST /signup`: create an account and land logged in.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::session::SessionKind;
use serde::Deserialize;

use super::ops;
use crate::features::login::{self, second_step::SignIn};
use crate::{
    error::ApiError,
    features::signup::ops::SignupInput,
    http::{
        device_cookie,
        extract::{CsrfForm, PresessionForm},
        page_error::PageError,
        view::{FieldError, field_errors, logged_in, presession_page},
    },
    operation::{Client, OpError},
    state::AppState,
};

fn page(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    form: Option<&SignupForm>,
    errors: &[FieldError],
) -> Result<Response, ApiError> {
    presession_page(state, headers, status, "signup.html", |csrf_token| {
        minijinja::context! {
            title => "Create your account",
            csrf_token,
            username => form.map(|f| f.username.as_str()),
            email => form.map(|f| f.email.as_str()).filter(|e| !e.is_empty()),
            errors => minijinja::value::Serde(errors),
        }
    })
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    Ok(page(&state, &headers, StatusCode::OK, None, &[])?)
}

#[derive(Deserialize)]
pub(crate) struct SignupForm {
    username: String,
    password: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for SignupForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<SignupForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    let input = SignupInput {
        username: &form.username,
        password: &form.password,
        email: Some(form.email.as_str()),
    };
    let result = match ops::signup(&state, input, &client).await {
        Ok(_) => {
            login::ops::login(
                &state,
                &form.username,
                &form.password,
                &client,
                None,
                SessionKind::Cookie,
                None,
            )
            .await
        }
        Err(error) => Err(error),
    };
    match result.map_err(ApiError::from) {
        // The browser that made the account is its owner's first known device (docs/operations.md,
        // "Brute force and lockout").
        // A new account has no second factor yet, but the page follows wherever login leads.
        Ok(SignIn::SecondStep(_)) => Ok(Redirect::to("/login").into_response()),
        Ok(SignIn::Done(outcome)) => {
            let device = device_cookie::issue(&state, outcome.user.id, None)?;
            let mut response = logged_in(&state, &outcome.token);
            response.headers_mut().append(header::SET_COOKIE, device);
            Ok(response)
        }
        // The form again, with what was typed and what is wrong with it.
        Err(
            error @ ApiError::Op(
                OpError::Invalid(_)
                | OpError::UsernameTaken
                | OpError::EmailTaken
                | OpError::RateLimited { .. },
            ),
        ) => {
            let (status, _) = error.status_and_code();
            let errors = field_errors(&error);
            Ok(page(&state, &headers, status, Some(&form), &errors)?)
        }
        Err(error) => Err(error.into()),
    }
}
