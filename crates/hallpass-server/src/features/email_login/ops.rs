//! Asking for a sign-in code, and signing in with it.

use hallpass_core::{
    audit::AuditKind,
    email::{EmailCode, EmailPurpose, EmailToken, email_key},
    factor::amr::Method,
    session::{Session, SessionKind, TokenHash},
    user::Email,
};

use crate::{
    email_tokens,
    features::login::second_step::{SignIn, first_factor_passed},
    operation::{Client, OpError},
    state::AppState,
};

/// Wrong codes allowed per mailed code before it is void.
const MAX_CODE_ATTEMPTS: u32 = 5;

fn enabled(state: &AppState) -> Result<(), OpError> {
    if state.mail.settings.passwordless_login {
        Ok(())
    } else {
        Err(OpError::NotFound)
    }
}

/// Mails a sign-in code and link if `email` is the verified address of an enabled account;
/// answers alike otherwise.
pub(crate) async fn request(state: &AppState, email: &str, client: &Client) -> Result<(), OpError> {
    enabled(state)?;
    state.limits.check_ip(client.ip).await?;
    let Ok(email) = Email::parse(email) else {
        return Ok(());
    };
    if let Some(user) = state.stores.users.user_by_email(&email).await?
        && let Some(to) = email_tokens::address_for(&user, EmailPurpose::Login)
    {
        email_tokens::send_token(state, &user, EmailPurpose::Login, to).await?;
    }
    Ok(())
}

/// What a sign-in presents: the mailed link's token, or the address and the mailed code.
pub(crate) enum Proof<'a> {
    Link(&'a str),
    Code { email: &'a str, code: &'a str },
}

impl<'a> Proof<'a> {
    /// The token alone, or the address with the code; anything else is no proof.
    pub(crate) fn from_parts(
        token: Option<&'a str>,
        email: Option<&'a str>,
        code: Option<&'a str>,
    ) -> Option<Self> {
        match (token, email, code) {
            (Some(token), None, None) => Some(Self::Link(token)),
            (None, Some(email), Some(code)) => Some(Self::Code { email, code }),
            _ => None,
        }
    }
}

/// Signs in with a mailed link or code, opening a session of `kind`: a cookie session for the
/// pages and `POST /v1/login/email/complete`, a token session for the token endpoint's grant.
pub(crate) async fn complete(
    state: &AppState,
    proof: Proof<'_>,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
) -> Result<SignIn, OpError> {
    enabled(state)?;
    state.limits.check_ip(client.ip).await?;
    let hash = match proof {
        Proof::Link(token) => EmailToken::parse(token)
            .ok_or(OpError::InvalidEmailToken)?
            .hash(),
        Proof::Code { email, code } => code_hash(state, email, code).await?,
    };
    spend(state, &hash, client, previous, kind).await
}

/// The hash of the live login token the code belongs to; a wrong code counts against it.
async fn code_hash(state: &AppState, email: &str, code: &str) -> Result<TokenHash, OpError> {
    let code = EmailCode::parse(code).ok_or(OpError::InvalidEmailToken)?;
    let email = Email::parse(email).map_err(|_| OpError::InvalidEmailToken)?;
    let user = state
        .stores
        .users
        .user_by_email(&email)
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    state
        .stores
        .email
        .check_email_code(
            user.id,
            EmailPurpose::Login,
            &code.hash(&state.keys.email_code),
            MAX_CODE_ATTEMPTS,
            state.clock.now(),
        )
        .await?
        .ok_or(OpError::InvalidEmailToken)
}

async fn spend(
    state: &AppState,
    hash: &TokenHash,
    client: &Client,
    previous: Option<&Session>,
    kind: SessionKind,
) -> Result<SignIn, OpError> {
    let record = state
        .stores
        .email
        .spend_email_token(hash, EmailPurpose::Login, state.clock.now())
        .await?
        .ok_or(OpError::InvalidEmailToken)?;
    let user = record.user;
    // Still the account's proven address, and still an account that may log in.
    let still_theirs = user.email_verified
        && user
            .email
            .as_ref()
            .is_some_and(|e| email_key(e) == email_key(&record.email));
    if !still_theirs || user.disabled {
        return Err(OpError::InvalidEmailToken);
    }
    let mut event = crate::audit::event(state, AuditKind::EmailLogin, client);
    event.actor = Some(user.id);
    event.subject = Some(user.id);
    let signed_in = first_factor_passed(state, user, Method::Email, client, previous, kind).await?;
    match &signed_in {
        SignIn::Done(outcome) => event.session = Some(outcome.session.id),
        SignIn::SecondStep(_) => event.detail = Some("second step due".to_owned()),
    }
    crate::audit::record(state, event).await?;
    Ok(signed_in)
}
