//! Verifying an address, resending the proof, and changing the address.

use hallpass_core::{
    audit::AuditKind,
    email::{EmailCode, EmailPurpose, EmailToken, email_key},
    password::Verification,
    session::TokenHash,
    user::{Email, User},
};

use crate::{
    email_tokens::{self, Sent},
    infra::mail::MailKind,
    operation::{Caller, Client, OpError},
    state::AppState,
};

/// Wrong codes allowed per mailed code before it is void (a six-digit code then has a 5 in a
/// million chance).
const MAX_CODE_ATTEMPTS: u32 = 5;
/// Without a password to confirm, a change of address needs a login this recent.
const RECENT_LOGIN: time::Duration = time::Duration::minutes(10);

/// Mails `user` the proof of their current address, if they have one that is not proven yet.
pub(crate) async fn send_verification(state: &AppState, user: &User) -> Result<Sent, OpError> {
    match (&user.email, user.email_verified) {
        (Some(email), false) => {
            email_tokens::send_token(state, user, EmailPurpose::Verify, email).await
        }
        _ => Ok(Sent::OverBudget),
    }
}

/// Resends the proof to the account `login` names, if it has an unproven address. Answers the
/// same either way (this is reachable before login, so it must not say which accounts exist).
pub(crate) async fn resend(state: &AppState, login: &str, client: &Client) -> Result<(), OpError> {
    state.limits.check_ip(client.ip).await?;
    if let Some(user) = email_tokens::user_by_login(state, login).await?
        && !user.disabled
    {
        send_verification(state, &user).await?;
    }
    Ok(())
}

/// Follows a mailed link: a verification, or the confirmation of a new address. Spends the
/// token; a bad, used, replaced or expired one changes nothing.
pub(crate) async fn confirm_token(
    state: &AppState,
    token: &str,
    client: &Client,
) -> Result<User, OpError> {
    state.limits.check_ip(client.ip).await?;
    let token = EmailToken::parse(token).ok_or(OpError::InvalidEmailToken)?;
    confirm_hash(state, &token.hash(), client).await
}

/// Checks a typed code for the account `login` names (a verification or a new address), then
/// spends it as if its link was followed. Wrong codes count; after a few the code is void.
pub(crate) async fn confirm_code(
    state: &AppState,
    login: &str,
    code: &str,
    client: &Client,
) -> Result<User, OpError> {
    state.limits.check_ip(client.ip).await?;
    let code = EmailCode::parse(code).ok_or(OpError::InvalidEmailToken)?;
    let user = email_tokens::user_by_login(state, login)
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    let code_hash = code.hash(&state.keys.email_code);
    let now = state.clock.now();
    for purpose in [EmailPurpose::Verify, EmailPurpose::ChangeEmail] {
        if let Some(hash) = state
            .stores
            .email
            .check_email_code(user.id, purpose, &code_hash, MAX_CODE_ATTEMPTS, now)
            .await?
        {
            return confirm_hash(state, &hash, client).await;
        }
    }
    Err(OpError::InvalidEmailToken)
}

async fn confirm_hash(
    state: &AppState,
    hash: &TokenHash,
    client: &Client,
) -> Result<User, OpError> {
    let now = state.clock.now();
    let email = &state.stores.email;
    if let Some(user) = email
        .confirm_email(hash, EmailPurpose::Verify, None, now)
        .await?
    {
        let mut event = crate::audit::event(state, AuditKind::EmailVerified, client);
        event.subject = Some(user.id);
        crate::audit::record(state, event).await?;
        return Ok(user);
    }
    // A new address: the old one (if any) hears that it was replaced.
    let record = email
        .email_token(hash, EmailPurpose::ChangeEmail, now)
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    let notice = match &record.user.email {
        Some(old) if email_key(old) != email_key(&record.email) => Some(email_tokens::notice(
            state,
            MailKind::EmailChanged,
            &record.user.username,
            old,
            Some(&record.email),
        )?),
        _ => None,
    };
    let user = email
        .confirm_email(hash, EmailPurpose::ChangeEmail, notice.as_ref(), now)
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    if notice.is_some() {
        state.mail.wake();
    }
    let mut event = crate::audit::event(state, AuditKind::EmailChanged, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    crate::audit::record(state, event).await?;
    Ok(user)
}

/// Asks to change the caller's address to `new`: needs their current password (or, for an
/// account without one, a login in the last few minutes). Nothing changes until the link or
/// code mailed to the new address comes back. Another account's address is refused.
pub(crate) async fn request_change(
    state: &AppState,
    caller: Caller<'_>,
    new: &str,
    current_password: &str,
    client: &Client,
) -> Result<(), OpError> {
    let user = caller.user;
    let new = Email::parse(new)?;
    let lockee = crate::infra::rate_limit::Lockee::Session(caller.session.id);
    state.limits.check_lockout(lockee).await?;
    let confirmed = if user.password_hash.is_usable() {
        state
            .passwords
            .verify(current_password, user.password_hash.clone())
            .await?
            != Verification::Mismatch
    } else {
        state.clock.now() - caller.session.created_at <= RECENT_LOGIN
    };
    if !confirmed {
        state.limits.record_failure(lockee).await;
        return Err(OpError::WrongCurrentPassword);
    }
    state.limits.record_success(lockee).await;
    let same = user
        .email
        .as_ref()
        .is_some_and(|old| email_key(old) == email_key(&new));
    if same {
        // Nothing to change; an unproven address gets its proof again.
        send_verification(state, user).await?;
        return Ok(());
    }
    if let Some(other) = state.stores.users.user_by_email(&new).await?
        && other.id != user.id
    {
        return Err(OpError::EmailTaken);
    }
    email_tokens::send_token(state, user, EmailPurpose::ChangeEmail, &new).await?;
    let mut event = crate::audit::event(state, AuditKind::EmailChangeRequested, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    event.session = Some(caller.session.id);
    crate::audit::record(state, event).await?;
    Ok(())
}
