//! Creating an account.

use hallpass_core::{
    ValidationError,
    audit::AuditKind,
    password::Password,
    user::{Email, NewUser, User, UserId, Username},
};
use uuid::Uuid;

use crate::{
    operation::{Client, OpError},
    state::AppState,
};

/// What a signup form or request carries.
#[derive(Debug)]
pub(crate) struct SignupInput<'a> {
    /// Desired username.
    pub username: &'a str,
    /// Desired password.
    pub password: &'a str,
    /// Optional email; empty counts as none.
    pub email: Option<&'a str>,
}

/// Validates every field (reporting all problems at once), hashes the password off the async
/// workers, creates the account, and mails the proof of its address if it has one.
pub(crate) async fn signup(
    state: &AppState,
    input: SignupInput<'_>,
    client: &Client,
) -> Result<User, OpError> {
    state.limits.check_ip(client.ip).await?;
    let mut errors: Vec<ValidationError> = Vec::new();
    let username = Username::parse(input.username)
        .map_err(|e| errors.push(e))
        .ok();
    let email_text = input.email.map(str::trim).filter(|e| !e.is_empty());
    let email = email_text
        .map(Email::parse)
        .transpose()
        .map_err(|e| errors.push(e))
        .ok()
        .flatten();
    let context: Vec<&str> = [Some(input.username.trim()), email_text]
        .into_iter()
        .flatten()
        .collect();
    let password = Password::parse(input.password, "password", &context)
        .map_err(|e| errors.push(e))
        .ok();
    let (Some(username), Some(password)) = (username, password) else {
        return Err(OpError::Invalid(errors));
    };
    if !errors.is_empty() {
        return Err(OpError::Invalid(errors));
    }
    let password_hash = state.passwords.hash(password).await?;
    let user = state
        .stores
        .users
        .create_user(&NewUser {
            id: UserId(Uuid::new_v4()),
            username,
            email,
            email_verified: false,
            roles: Vec::new(),
            password_hash,
            created_at: state.clock.now(),
        })
        .await?;
    let mut event = crate::audit::event(state, AuditKind::Signup, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    crate::audit::record(state, event).await?;
    // The account exists whether or not the mail could be queued: a failure here is logged and
    // the owner can ask again (`/v1/email/verify/resend`, the account page).
    if let Err(error) = crate::features::verification::ops::send_verification(state, &user).await {
        tracing::warn!(user = %user.id, error = ?error, "could not queue the verification mail");
    }
    Ok(user)
}
