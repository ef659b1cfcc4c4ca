//! `/account/factors`: two-factor authentication on the pages. Setting up an authenticator app
//! (the QR code and the key, then a code from the app), the recovery codes shown once, removing
//! a factor and new recovery codes.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::factor::FactorId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{ops, qr};
use crate::{
    error::ApiError,
    http::{
        extract::{Authenticated, CsrfForm, SessionForm, resolve},
        page_error::PageError,
        view::{human_time, viewer},
    },
    operation::{Client, OpError},
    reauth::REAUTH_WINDOW,
    state::AppState,
};

#[derive(Serialize)]
struct FactorView {
    id: String,
    name: String,
    kind_label: &'static str,
    created_at: String,
    last_used_at: Option<String>,
}

/// The management page, with an optional notice or error.
async fn manage(
    state: &AppState,
    caller: &Authenticated,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let (factors, left) = ops::list(state, caller.user.id).await?;
    let views: Vec<FactorView> = factors
        .iter()
        .map(|f| FactorView {
            id: f.id.to_string(),
            name: f.name.clone(),
            kind_label: match f.kind {
                hallpass_core::factor::FactorKind::Totp => "Authenticator app",
                hallpass_core::factor::FactorKind::Passkey => "Passkey",
            },
            created_at: human_time(f.created_at),
            last_used_at: f.last_used_at.map(human_time),
        })
        .collect();
    // Within the window no password is asked for (docs/factors.md, "Step-up").
    let recent = state.clock.now() - caller.session.auth_time <= REAUTH_WINDOW;
    let html = state.pages.render(
        "factors.html",
        minijinja::context! {
            title => "Two-factor authentication",
            factors => minijinja::value::Serde(&views),
            recovery_codes_left => left,
            recent, notice, error,
            ..viewer(state, Some(caller))
        },
    )?;
    Ok((status, html).into_response())
}

fn enroll_page(
    state: &AppState,
    caller: &Authenticated,
    status: StatusCode,
    enrollment: &ops::Enrollment,
    error: Option<String>,
) -> Result<Response, ApiError> {
    let html = state.pages.render(
        "factor_totp.html",
        minijinja::context! {
            title => "Set up your authenticator app",
            qr_svg => qr::svg(&enrollment.otpauth_uri),
            secret => &enrollment.secret,
            error,
            ..viewer(state, Some(caller))
        },
    )?;
    Ok((status, html).into_response())
}

fn codes_page(
    state: &AppState,
    caller: &Authenticated,
    codes: &[String],
    notice: Option<&str>,
) -> Result<Response, ApiError> {
    let html = state.pages.render(
        "recovery_codes.html",
        minijinja::context! {
            title => "Recovery codes",
            codes => minijinja::value::Serde(codes),
            notice,
            ..viewer(state, Some(caller))
        },
    )?;
    Ok(html.into_response())
}

/// What a refused change says on the page; other failures are errors.
fn refusal(error: OpError) -> Result<(StatusCode, String), OpError> {
    match error {
        OpError::ReauthRequired => Ok((
            StatusCode::UNAUTHORIZED,
            "Enter your current password to change two-factor authentication.".to_owned(),
        )),
        OpError::WrongCurrentPassword => Ok((
            StatusCode::FORBIDDEN,
            "That is not your current password.".to_owned(),
        )),
        error @ (OpError::Invalid(_) | OpError::RateLimited { .. }) => {
            let error = ApiError::from(error);
            Ok((error.status_and_code().0, error.to_string()))
        }
        other => Err(other),
    }
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match resolve(&state, &headers).await? {
        Some(caller) => Ok(manage(&state, &caller, StatusCode::OK, None, None).await?),
        None => Ok(Redirect::to("/login").into_response()),
    }
}

#[derive(Deserialize)]
pub(crate) struct StartForm {
    name: Option<String>,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for StartForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn start(
    State(state): State<AppState>,
    form: Result<SessionForm<StartForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let started = ops::start_totp(
        &state,
        caller.caller(),
        form.name.as_deref(),
        &form.current_password,
    )
    .await;
    Ok(match started {
        Ok(enrollment) => enroll_page(&state, &caller, StatusCode::OK, &enrollment, None)?,
        Err(error) => {
            let (status, message) = refusal(error).map_err(ApiError::from)?;
            manage(&state, &caller, status, None, Some(message)).await?
        }
    })
}

#[derive(Deserialize)]
pub(crate) struct ConfirmForm {
    code: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for ConfirmForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn confirm(
    State(state): State<AppState>,
    client: Client,
    form: Result<SessionForm<ConfirmForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    match ops::confirm_totp(&state, caller.caller(), &form.code, &client).await {
        Ok(codes) => Ok(codes_page(
            &state,
            &caller,
            &codes,
            codes.is_empty().then_some(
                "Your authenticator app is added. Your recovery codes stay as they were.",
            ),
        )?),
        // A wrong code: the same QR code and key again, saying so.
        Err(OpError::Invalid(_)) => match ops::pending_totp(&state, &caller.user).await? {
            Some(enrollment) => Ok(enroll_page(
                &state,
                &caller,
                StatusCode::UNPROCESSABLE_ENTITY,
                &enrollment,
                Some(
                    "That is not the app's current code. Check the phone's clock and try again."
                        .to_owned(),
                ),
            )?),
            None => Ok(Redirect::to("/account/factors").into_response()),
        },
        Err(OpError::NotFound) => Ok(Redirect::to("/account/factors").into_response()),
        Err(error) => Err(ApiError::from(error).into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for PasswordForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn remove(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    form: Result<SessionForm<PasswordForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let id = Uuid::parse_str(&id).map_err(|_| ApiError::from(OpError::NotFound))?;
    let removed = ops::remove(
        &state,
        caller.caller(),
        FactorId(id),
        &form.current_password,
        &client,
    )
    .await;
    Ok(match removed {
        Ok(()) => {
            manage(
                &state,
                &caller,
                StatusCode::OK,
                Some("The factor was removed."),
                None,
            )
            .await?
        }
        Err(error) => {
            let (status, message) = refusal(error).map_err(ApiError::from)?;
            manage(&state, &caller, status, None, Some(message)).await?
        }
    })
}

pub(crate) async fn regenerate_codes(
    State(state): State<AppState>,
    client: Client,
    form: Result<SessionForm<PasswordForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    match ops::regenerate_codes(&state, caller.caller(), &form.current_password, &client).await {
        Ok(codes) => Ok(codes_page(&state, &caller, &codes, None)?),
        Err(error) => {
            let (status, message) = refusal(error).map_err(ApiError::from)?;
            Ok(manage(&state, &caller, status, None, Some(message)).await?)
        }
    }
}
