//! Emailed tokens and notices, shared by every flow that mails (signup, verification, address
//! change, recovery, sign-in by code): each mail is queued in the store in the same transaction
//! as the token it carries, then this node's outbox worker is woken (docs/email.md).

use hallpass_core::{
    email::{EmailCode, EmailPurpose, EmailToken},
    user::{Email, User, Username},
};
use hallpass_store::{NewEmailToken, NewMail};

use crate::{
    infra::{
        mail::{
            MailKind,
            compose::{MailFacts, in_words},
        },
        random::random_bytes,
    },
    operation::OpError,
    state::AppState,
};

/// Whether a mail went out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Queued.
    Queued,
    /// Not queued: the address had its `email.mails_per_address_per_hour` already.
    OverBudget,
}

/// How long a token of `purpose` works.
fn ttl(state: &AppState, purpose: EmailPurpose) -> time::Duration {
    let settings = &state.mail.settings;
    match purpose {
        EmailPurpose::Verify | EmailPurpose::ChangeEmail => settings.verify_token_ttl.time(),
        EmailPurpose::Reset => settings.reset_token_ttl.time(),
        EmailPurpose::Login => settings.login_code_ttl.time(),
    }
}

/// Mails `user` a fresh token of `purpose` at `to` (for [`EmailPurpose::ChangeEmail`], the new
/// address), voiding their older ones of the same purpose. Every purpose but a reset also gets a
/// short code. Counted against `to`'s hourly budget, over every node (the count is the store's).
pub(crate) async fn send_token(
    state: &AppState,
    user: &User,
    purpose: EmailPurpose,
    to: &Email,
) -> Result<Sent, OpError> {
    let now = state.clock.now();
    let budget = state.mail.settings.mails_per_address_per_hour;
    if budget > 0
        && state
            .stores
            .outbox
            .mails_to_since(to, now - time::Duration::hours(1))
            .await?
            >= u64::from(budget)
    {
        tracing::info!(user = %user.id, purpose = purpose.as_str(), "mail not sent: the address had its hourly budget");
        return Ok(Sent::OverBudget);
    }
    let token = EmailToken::from_random(random_bytes()?);
    let code = match purpose {
        EmailPurpose::Reset => None,
        _ => Some(EmailCode::from_random(random_bytes()?)),
    };
    let ttl = ttl(state, purpose);
    let expires_at = now + ttl;
    let kind = match purpose {
        EmailPurpose::Verify => MailKind::Verify,
        EmailPurpose::ChangeEmail => MailKind::ChangeEmail,
        EmailPurpose::Reset => MailKind::Reset,
        EmailPurpose::Login => MailKind::Login,
    };
    let mail = state.mail.templates.compose(
        kind,
        &user.username,
        to,
        &MailFacts {
            token: Some(&token),
            code: code.as_ref().map(EmailCode::expose),
            valid_for: Some(in_words(ttl)),
            ..MailFacts::default()
        },
        now,
        Some(expires_at),
    )?;
    state
        .stores
        .email
        .issue_email_token(
            &NewEmailToken {
                hash: token.hash(),
                code_hash: code.map(|c| c.hash(&state.keys.email_code)),
                user: user.id,
                purpose,
                email: to.clone(),
                created_at: now,
                expires_at,
            },
            &mail,
        )
        .await?;
    state.mail.wake();
    Ok(Sent::Queued)
}

/// A notice that carries no token ("your password was changed"), to be queued with the change
/// it reports.
pub(crate) fn notice(
    state: &AppState,
    kind: MailKind,
    username: &str,
    to: &Email,
    new_email: Option<&Email>,
) -> Result<NewMail, OpError> {
    Ok(state.mail.templates.compose(
        kind,
        username,
        to,
        &MailFacts {
            new_email: new_email.map(Email::as_str),
            ..MailFacts::default()
        },
        state.clock.now(),
        None,
    )?)
}

/// The account a person typed into a "username or email" field: an address if it has an `@`
/// (usernames cannot), else a username. Malformed input finds no one.
pub(crate) async fn user_by_login(state: &AppState, login: &str) -> Result<Option<User>, OpError> {
    let login = login.trim();
    if login.contains('@') {
        match Email::parse(login) {
            Ok(email) => Ok(state.stores.users.user_by_email(&email).await?),
            Err(_) => Ok(None),
        }
    } else {
        match Username::parse(login) {
            Ok(name) => Ok(state.stores.users.user_by_username(&name).await?),
            Err(_) => Ok(None),
        }
    }
}

/// The address a token of `purpose` may be mailed to for `user`: a verification goes to any
/// address they gave; a reset or a sign-in code only to one they proved (an unverified address
/// may be anyone's).
pub(crate) fn address_for(user: &User, purpose: EmailPurpose) -> Option<&Email> {
    let email = user.email.as_ref()?;
    match purpose {
        EmailPurpose::Verify | EmailPurpose::ChangeEmail => Some(email),
        EmailPurpose::Reset | EmailPurpose::Login => {
            (user.email_verified && !user.disabled).then_some(email)
        }
    }
}
