//! The second step on the pages: `POST /login/mfa` (the code form) and `POST /login/mfa/method`
//! (switch between the authenticator code and a recovery code). The challenge's token travels
//! only in the forms' bodies, never in a URL.

use axum::{
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::session::SessionKind;
use serde::Deserialize;

use super::{
    respond::{Onward, page, tokens_to_app, trusted_return_to},
    second_step::{self, Proof},
};
use crate::{
    error::ApiError,
    http::{
        cookies, device_cookie,
        extract::{CsrfForm, PresessionForm, resolve},
        page_error::PageError,
    },
    infra::social::next::SafeNext,
    operation::{Client, OpError},
    state::AppState,
};

#[derive(Deserialize)]
pub(crate) struct MfaForm {
    mfa_token: String,
    code: Option<String>,
    recovery_code: Option<String>,
    next: Option<String>,
    return_to: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for MfaForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl MfaForm {
    fn onward(&self) -> Onward {
        Onward {
            next: self.next.clone(),
            return_to: self.return_to.clone(),
        }
    }
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    client: Client,
    form: Result<PresessionForm<MfaForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    let recovery = form.recovery_code.is_some();
    let proof = match (form.code.as_deref(), form.recovery_code.as_deref()) {
        (Some(code), None) => Proof::Totp(code),
        (None, Some(code)) => Proof::RecoveryCode(code),
        _ => return Err(ApiError::InvalidRequest("send a code".to_owned()).into()),
    };
    // A single-page app's social login completes into tokens for an origin hallpass trusts.
    let return_to = form
        .return_to
        .as_deref()
        .filter(|url| trusted_return_to(&state, url).is_some());
    let kind = if return_to.is_some() {
        SessionKind::Token
    } else {
        SessionKind::Cookie
    };
    let previous = match kind {
        SessionKind::Cookie => resolve(&state, &headers)
            .await
            .ok()
            .flatten()
            .map(|c| c.session),
        SessionKind::Token => None,
    };
    let presented = device_cookie::presented(&state, &headers);
    let result = second_step::complete(
        &state,
        &form.mfa_token,
        proof,
        &client,
        previous.as_ref(),
        kind,
        presented.as_ref(),
    )
    .await;
    match result {
        Ok(outcome) => match return_to {
            Some(return_to) => Ok(tokens_to_app(&state, &outcome, return_to)?),
            None => {
                let next = form
                    .next
                    .as_deref()
                    .and_then(SafeNext::parse)
                    .map_or_else(|| "/account".to_owned(), |n| n.as_str().to_owned());
                let device = device_cookie::issue(&state, outcome.user.id, presented.as_ref())?;
                let mut response = Redirect::to(&next).into_response();
                let cookies_out = response.headers_mut();
                cookies_out.append(
                    header::SET_COOKIE,
                    cookies::session_cookie(&state.config, outcome.token.expose()),
                );
                cookies_out.append(header::SET_COOKIE, device);
                Ok(response)
            }
        },
        // A wrong code: the same form again, saying so (the challenge may still be live).
        Err(error @ (OpError::InvalidCredentials | OpError::RateLimited { .. })) => {
            let error = ApiError::from(error);
            let (status, _) = error.status_and_code();
            let message = match error {
                ApiError::Op(OpError::InvalidCredentials) if recovery => {
                    "That recovery code is not valid (or was used already).".to_owned()
                }
                ApiError::Op(OpError::InvalidCredentials) => {
                    "That code is not right. Check the time on your phone and try the current code."
                        .to_owned()
                }
                other => other.to_string(),
            };
            Ok(page(
                &state,
                &headers,
                status,
                &form.mfa_token,
                &form.onward(),
                recovery,
                Some(message),
            )?)
        }
        // Expired, used up, or voided by wrong codes: back to the start.
        Err(OpError::InvalidChallenge) => {
            Ok(Redirect::to("/login?notice=mfa_expired").into_response())
        }
        Err(error) => Err(ApiError::from(error).into()),
    }
}

#[derive(Deserialize)]
pub(crate) struct MethodForm {
    mfa_token: String,
    recovery: bool,
    next: Option<String>,
    return_to: Option<String>,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for MethodForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Shows the form for the other method; nothing is checked or spent.
pub(crate) async fn switch(
    State(state): State<AppState>,
    headers: HeaderMap,
    form: Result<PresessionForm<MethodForm>, ApiError>,
) -> Result<Response, PageError> {
    let PresessionForm(form) = form?;
    let onward = Onward {
        next: form.next,
        return_to: form.return_to,
    };
    Ok(page(
        &state,
        &headers,
        StatusCode::OK,
        &form.mfa_token,
        &onward,
        form.recovery,
        None,
    )?)
}
