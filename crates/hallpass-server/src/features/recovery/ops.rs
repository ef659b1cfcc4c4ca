//! Asking for a reset link, and using one.

use hallpass_core::{
    audit::AuditKind,
    email::{EmailPurpose, EmailToken},
    password::Password,
    user::User,
};

use crate::{
    email_tokens::{self, Sent},
    infra::{mail::MailKind, rate_limit::Lockee},
    operation::{Client, OpError},
    state::AppState,
};

/// Mails a reset link if `login` (a username or an address) names an enabled account with a
/// verified address. Answers the same whether or not it does: one lookup and one audit record
/// either way, no password hashing and no waiting on SMTP, so neither the answer nor its time
/// says which accounts exist. The per-address budget bounds how many mails one victim gets.
pub(crate) async fn forgot(state: &AppState, login: &str, client: &Client) -> Result<(), OpError> {
    state.limits.check_ip(client.ip).await?;
    let user = email_tokens::user_by_login(state, login).await?;
    let target = user
        .as_ref()
        .and_then(|u| email_tokens::address_for(u, EmailPurpose::Reset).map(|e| (u, e)));
    let mut event = crate::audit::event(state, AuditKind::PasswordResetRequested, client);
    event.subject = user.as_ref().map(|u| u.id);
    event.detail = Some(match (&user, target) {
        (_, Some((user, to))) => {
            match email_tokens::send_token(state, user, EmailPurpose::Reset, to).await? {
                Sent::Queued => "reset link mailed".to_owned(),
                Sent::OverBudget => "not mailed: the address had its hourly budget".to_owned(),
            }
        }
        // Not what was typed: people type passwords into login fields.
        (None, None) => "no such account".to_owned(),
        (Some(_), None) => "not mailed: no verified address, or disabled".to_owned(),
    });
    crate::audit::record(state, event).await?;
    Ok(())
}

/// Sets a new password with a reset link's token. The token must be live (not used, not
/// replaced by a newer one, not expired, and issued since the last password change); the new
/// password follows the password rules. On success every session and refresh family of the
/// account ends (open pages show "logged out"), the account's lockout is lifted, and a "your
/// password was changed" notice is queued with the change. Anything wrong changes nothing.
pub(crate) async fn reset(
    state: &AppState,
    token: &str,
    new_password: &str,
    client: &Client,
) -> Result<User, OpError> {
    state.limits.check_ip(client.ip).await?;
    let token = EmailToken::parse(token).ok_or(OpError::InvalidEmailToken)?;
    let hash = token.hash();
    let now = state.clock.now();
    let record = state
        .stores
        .email
        .email_token(&hash, EmailPurpose::Reset, now)
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    let user = record.user;
    let context: Vec<&str> = [Some(user.username.as_str()), Some(record.email.as_str())]
        .into_iter()
        .flatten()
        .collect();
    let password = Password::parse(new_password, "new_password", &context)?;
    let password_hash = state.passwords.hash(password).await?;
    let notice = email_tokens::notice(
        state,
        MailKind::PasswordChanged,
        &user.username,
        &record.email,
        None,
    )?;
    state
        .stores
        .email
        .reset_password(&hash, &password_hash, &notice, now)
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    state.mail.wake();
    let revoked = state
        .stores
        .sessions
        .revoke_user_sessions(user.id, None, state.clock.now())
        .await?;
    // Whoever asked for the link proved they read the account's mail: the lockout that a
    // guesser may have caused no longer stands in their way.
    let account = user.username.to_ascii_lowercase();
    state.limits.record_success(Lockee::Account(&account)).await;
    tracing::info!(user = %user.id, revoked = revoked.len(), "password reset");
    let mut event = crate::audit::event(state, AuditKind::PasswordReset, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    event.detail = Some(format!("{} session(s) revoked", revoked.len()));
    crate::audit::record(state, event).await?;
    Ok(user)
}

/// Whether `token` is a live reset token (the reset page shows its form only then). Reads only.
pub(crate) async fn token_is_live(state: &AppState, token: &str) -> Result<bool, OpError> {
    let Some(token) = EmailToken::parse(token) else {
        return Ok(false);
    };
    Ok(state
        .stores
        .email
        .email_token(&token.hash(), EmailPurpose::Reset, state.clock.now())
        .await?
        .is_some())
}
