//! `/account`: the profile, the device list, logging out and changing the password.

use axum::{
    extract::{Path, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
};
use hallpass_core::session::SessionId;
use serde::{Deserialize, Serialize};

use crate::features::{sessions, social, verification};
use crate::{
    error::ApiError,
    features::sessions::ops::LogoutScope,
    http::{
        cookies::end_browser_session,
        device::device,
        extract::{Authenticated, CsrfForm, CsrfOnly, SessionForm, path_id, resolve},
        page_error::PageError,
        view::{FieldError, field_errors, human_time},
    },
    operation::{Client, OpError},
    state::AppState,
};

/// A configured provider as the account page shows it: linked or not.
#[derive(Serialize)]
struct ProviderView {
    name: String,
    display_name: String,
    linked: bool,
    email: Option<String>,
    linked_at: Option<String>,
}

async fn provider_views(
    state: &AppState,
    user: hallpass_core::user::UserId,
) -> Result<Vec<ProviderView>, ApiError> {
    let identities = state.stores.identities.identities_of_user(user).await?;
    Ok(state
        .social
        .providers
        .all()
        .map(|p| {
            let identity = identities.iter().find(|i| i.provider.as_str() == p.name);
            ProviderView {
                name: p.name.clone(),
                display_name: p.display_name.clone(),
                linked: identity.is_some(),
                email: identity.and_then(|i| i.email.as_ref().map(|e| e.as_str().to_owned())),
                linked_at: identity.map(|i| human_time(i.created_at)),
            }
        })
        .collect())
}

#[derive(Serialize)]
struct SessionView {
    id: String,
    kind: &'static str,
    device: String,
    ip: Option<String>,
    created_at: String,
    last_seen_at: String,
    current: bool,
}

async fn page(
    state: &AppState,
    caller: &Authenticated,
    status: StatusCode,
    notice: Option<&str>,
    errors: Vec<FieldError>,
) -> Result<Response, ApiError> {
    let now = state.clock.now();
    let policy = &state.config.session_policy;
    let sessions: Vec<SessionView> = state
        .stores
        .sessions
        .sessions_of_user(caller.user.id, now)
        .await?
        .iter()
        .filter(|s| policy.is_live(s, now))
        .map(|s| SessionView {
            id: s.id.to_string(),
            kind: s.kind.as_str(),
            device: device(s.user_agent.as_deref()),
            ip: s.ip.clone(),
            created_at: human_time(s.created_at),
            last_seen_at: human_time(s.last_seen_at),
            current: s.id == caller.session.id,
        })
        .collect();
    let user = &caller.user;
    let html = state.pages.render(
        "account.html",
        minijinja::context! {
            title => "Your account",
            current_user => minijinja::context! {
                username => &user.username,
                email => user.email.as_ref().map(|e| e.as_str()),
                email_verified => user.email_verified,
                roles => user.roles.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>(),
                created_at => human_time(user.created_at),
                is_admin => user.is_admin(),
                has_password => user.password_hash.is_usable(),
            },
            csrf_token => state.keys.csrf.session_token(caller.session.id),
            session_id => caller.session.id.0.to_string(),
            sessions => minijinja::value::Serde(&sessions),
            providers => minijinja::value::Serde(provider_views(state, user.id).await?),
            factor_count => state
                .stores
                .factors
                .factors(user.id)
                .await?
                .iter()
                .filter(|f| f.confirmed_at.is_some())
                .count(),
            notice,
            errors => minijinja::value::Serde(&errors),
        },
    )?;
    Ok((status, html).into_response())
}

pub(crate) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    match resolve(&state, &headers).await? {
        Some(caller) => Ok(page(&state, &caller, StatusCode::OK, None, Vec::new()).await?),
        None => Ok(Redirect::to("/login").into_response()),
    }
}

#[derive(Deserialize)]
pub(crate) struct LogoutForm {
    #[serde(default)]
    scope: LogoutScope,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for LogoutForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn logout(
    State(state): State<AppState>,
    client: Client,
    form: Result<SessionForm<LogoutForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let revoked = sessions::ops::logout(&state, caller.caller(), form.scope, &client).await?;
    if form.scope == LogoutScope::Others {
        let notice = format!("Logged out of {revoked} other device(s).");
        return Ok(page(&state, &caller, StatusCode::OK, Some(&notice), Vec::new()).await?);
    }
    let mut response = Redirect::to("/login").into_response();
    end_browser_session(response.headers_mut(), &state.config);
    Ok(response)
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    /// Absent when an account made by social login sets its first password.
    #[serde(default)]
    current_password: String,
    new_password: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for PasswordForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

pub(crate) async fn change_password(
    State(state): State<AppState>,
    client: Client,
    form: Result<SessionForm<PasswordForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let result = sessions::ops::change_password(
        &state,
        caller.caller(),
        &form.current_password,
        &form.new_password,
        &client,
    )
    .await;
    let rendered = match result.map_err(ApiError::from) {
        Ok(()) => {
            let notice = "Password changed. Every other device has been logged out.";
            page(&state, &caller, StatusCode::OK, Some(notice), Vec::new()).await
        }
        // What the person typed is wrong or too soon: the form again, saying which.
        Err(
            error @ ApiError::Op(
                OpError::Invalid(_) | OpError::WrongCurrentPassword | OpError::RateLimited { .. },
            ),
        ) => {
            let (status, _) = error.status_and_code();
            page(&state, &caller, status, None, field_errors(&error)).await
        }
        Err(error) => Err(error),
    };
    Ok(rendered?)
}

pub(crate) async fn revoke(
    State(state): State<AppState>,
    client: Client,
    Path(id): Path<String>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, .. } = form?;
    let id = SessionId(path_id(&id)?);
    sessions::ops::revoke_one(&state, caller.caller(), id, &client).await?;
    let notice = "That device has been logged out.";
    Ok(page(&state, &caller, StatusCode::OK, Some(notice), Vec::new()).await?)
}

pub(crate) async fn unlink(
    State(state): State<AppState>,
    client: Client,
    Path(provider): Path<String>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, .. } = form?;
    // Refused (the last way to log in) or not linked: the error page says which.
    social::ops::unlink(&state, caller.user.id, &provider, &client).await?;
    let notice = "That account is no longer linked.";
    Ok(page(&state, &caller, StatusCode::OK, Some(notice), Vec::new()).await?)
}

#[derive(Deserialize)]
pub(crate) struct EmailForm {
    email: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for EmailForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Asks to change the address; it changes once the link mailed to the new one is followed.
pub(crate) async fn change_email(
    State(state): State<AppState>,
    client: Client,
    form: Result<SessionForm<EmailForm>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, form } = form?;
    let result = verification::ops::request_change(
        &state,
        caller.caller(),
        &form.email,
        &form.current_password,
        &client,
    )
    .await;
    let rendered = match result.map_err(ApiError::from) {
        Ok(()) => {
            let notice = format!(
                "We mailed a confirmation link to {}. Your address changes once you follow it.",
                form.email.trim()
            );
            page(&state, &caller, StatusCode::OK, Some(&notice), Vec::new()).await
        }
        Err(
            error @ ApiError::Op(
                OpError::Invalid(_)
                | OpError::EmailTaken
                | OpError::WrongCurrentPassword
                | OpError::RateLimited { .. },
            ),
        ) => {
            let (status, _) = error.status_and_code();
            let errors = match &error {
                ApiError::Op(OpError::WrongCurrentPassword) => vec![FieldError::new(
                    "email_password",
                    "This is not your current password.",
                )],
                ApiError::Op(OpError::RateLimited { .. }) => {
                    vec![FieldError::new("email", &error.to_string())]
                }
                _ => field_errors(&error),
            };
            page(&state, &caller, status, None, errors).await
        }
        Err(error) => Err(error),
    };
    Ok(rendered?)
}

/// Mails the proof of the current address again.
pub(crate) async fn resend_verification(
    State(state): State<AppState>,
    form: Result<SessionForm<CsrfOnly>, ApiError>,
) -> Result<Response, PageError> {
    let SessionForm { caller, .. } = form?;
    let notice = match verification::ops::send_verification(&state, &caller.user).await? {
        crate::email_tokens::Sent::Queued => "A new confirmation link is on its way.",
        crate::email_tokens::Sent::OverBudget => {
            "We have mailed this address several times in the last hour; please wait a little."
        }
    };
    Ok(page(&state, &caller, StatusCode::OK, Some(notice), Vec::new()).await?)
}
