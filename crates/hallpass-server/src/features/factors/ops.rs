//! Enrolling, listing and removing second factors, and recovery codes.

use hallpass_core::{
    ValidationError,
    audit::AuditKind,
    factor::{
        FactorId, FactorKind, factor_name,
        recovery::{RECOVERY_CODES, RecoveryCode},
        totp::TotpSecret,
    },
    session::TokenHash,
    user::{User, UserId},
};
use hallpass_store::{Factor, NewFactor};
use uuid::Uuid;

use crate::{
    factor_codes::open_totp,
    infra::{
        mail::{MailKind, compose::MailFacts},
        random::random_bytes,
    },
    operation::{Caller, Client, OpError},
    reauth,
    state::AppState,
};

/// An authenticator app being enrolled: what the user puts into it.
#[derive(Debug)]
pub(crate) struct Enrollment {
    pub id: FactorId,
    /// The secret in base32, for typing in by hand.
    pub secret: String,
    /// The `otpauth://` URI the QR code carries.
    pub otpauth_uri: String,
}

/// The name apps show above the codes: the public URL's host (an `otpauth` issuer cannot hold
/// a `:`, so never a port).
fn issuer(state: &AppState) -> String {
    url::Url::parse(&state.tokens.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_else(|| "hallpass".to_owned())
}

/// What the user puts into the app for the factor `id` with `secret`.
fn enrollment(
    state: &AppState,
    user: &User,
    id: FactorId,
    secret: &TotpSecret,
) -> Result<Enrollment, OpError> {
    let otpauth_uri = secret
        .otpauth_uri(&issuer(state), &user.username)
        .map_err(|e| OpError::Internal(e.into()))?;
    Ok(Enrollment {
        id,
        secret: secret.base32(),
        otpauth_uri,
    })
}

/// Starts enrolling an authenticator app: a new secret, stored sealed and not yet counting.
/// Needs the current password or a recent authentication. A previous unfinished enrollment
/// is replaced.
pub(crate) async fn start_totp(
    state: &AppState,
    caller: Caller<'_>,
    name: Option<&str>,
    current_password: &str,
) -> Result<Enrollment, OpError> {
    reauth::confirm(state, caller, current_password).await?;
    let name = factor_name(name.unwrap_or("Authenticator app")).ok_or_else(|| {
        OpError::Invalid(vec![ValidationError::new(
            "name",
            "a name of 1 to 64 characters, without control characters",
        )])
    })?;
    let id = FactorId(Uuid::new_v4());
    let secret = TotpSecret::from_random(random_bytes()?);
    let sealed = secret
        .seal(&state.keys.totp_seal, id, random_bytes()?)
        .map_err(|e| OpError::Internal(e.into()))?;
    let enrollment = enrollment(state, caller.user, id, &secret)?;
    state
        .stores
        .factors
        .add_factor(&NewFactor {
            id,
            user: caller.user.id,
            kind: FactorKind::Totp,
            name,
            secret: Some(sealed),
            credential: None,
            credential_id: None,
            created_at: state.clock.now(),
        })
        .await?;
    Ok(enrollment)
}

/// The enrollment in progress, to show again (after a wrong code); `None` if there is none.
pub(crate) async fn pending_totp(
    state: &AppState,
    user: &User,
) -> Result<Option<Enrollment>, OpError> {
    let Some(pending) = state
        .stores
        .factors
        .factors(user.id)
        .await?
        .into_iter()
        .rfind(|f| f.kind == FactorKind::Totp && f.confirmed_at.is_none())
    else {
        return Ok(None);
    };
    let secret = open_totp(state, &pending)?.ok_or(OpError::NotFound)?;
    Ok(Some(enrollment(state, user, pending.id, &secret)?))
}

/// Finishes enrolling the authenticator app with a code from it: the factor counts from now on.
/// The account's first factor comes with ten recovery codes, shown this once (returned here);
/// a later one leaves the existing codes as they are (the list is empty).
pub(crate) async fn confirm_totp(
    state: &AppState,
    caller: Caller<'_>,
    code: &str,
    client: &Client,
) -> Result<Vec<String>, OpError> {
    let user = caller.user.id;
    let now = state.clock.now();
    let pending = state
        .stores
        .factors
        .factors(user)
        .await?
        .into_iter()
        .rfind(|f| f.kind == FactorKind::Totp && f.confirmed_at.is_none())
        .ok_or(OpError::NotFound)?;
    let secret = open_totp(state, &pending)?.ok_or(OpError::NotFound)?;
    let step = secret.check(code, now).ok_or_else(|| {
        OpError::Invalid(vec![ValidationError::new(
            "code",
            "that is not the app's current code; check the phone's clock and try again",
        )])
    })?;
    let first = !state.stores.factors.has_factor(user).await?;
    let codes = if first { new_codes()? } else { Vec::new() };
    let hashes: Vec<TokenHash> = codes.iter().map(RecoveryCode::hash).collect();
    let confirmed = state
        .stores
        .factors
        .confirm_factor(
            user,
            pending.id,
            Some(step),
            first.then_some(&hashes[..]),
            now,
        )
        .await?;
    if !confirmed {
        return Err(OpError::NotFound);
    }
    audit(
        state,
        AuditKind::FactorAdded,
        client,
        user,
        user,
        format!("totp \"{}\"", pending.name),
    )
    .await?;
    notify(
        state,
        caller.user,
        &format!("an authenticator app (\"{}\") was added", pending.name),
    )
    .await?;
    Ok(codes.iter().map(RecoveryCode::display).collect())
}

/// The user's confirmed factors, and how many recovery codes are unused.
pub(crate) async fn list(state: &AppState, user: UserId) -> Result<(Vec<Factor>, u32), OpError> {
    let factors = state
        .stores
        .factors
        .factors(user)
        .await?
        .into_iter()
        .filter(|f| f.confirmed_at.is_some())
        .collect();
    let left = state.stores.factors.recovery_codes_left(user).await?;
    Ok((factors, left))
}

/// Removes one of the caller's factors (the last one takes the recovery codes with it). Needs
/// the current password or a recent authentication.
pub(crate) async fn remove(
    state: &AppState,
    caller: Caller<'_>,
    id: FactorId,
    current_password: &str,
    client: &Client,
) -> Result<(), OpError> {
    reauth::confirm(state, caller, current_password).await?;
    delete(state, caller.user, caller.user.id, id, client).await
}

/// An administrator removes one of `user`'s factors (account recovery for someone who lost
/// their phone and their codes). Audited with the administrator as actor; the user is told.
pub(crate) async fn remove_by_admin(
    state: &AppState,
    admin: Caller<'_>,
    user: &User,
    id: FactorId,
    client: &Client,
) -> Result<(), OpError> {
    reauth::require_recent(state, admin)?;
    delete(state, user, admin.user.id, id, client).await
}

async fn delete(
    state: &AppState,
    user: &User,
    actor: UserId,
    id: FactorId,
    client: &Client,
) -> Result<(), OpError> {
    let factor = state
        .stores
        .factors
        .factors(user.id)
        .await?
        .into_iter()
        .find(|f| f.id == id)
        .ok_or(OpError::NotFound)?;
    if !state.stores.factors.delete_factor(user.id, id).await? {
        return Err(OpError::NotFound);
    }
    let by = if actor == user.id {
        ""
    } else {
        " by an administrator"
    };
    audit(
        state,
        AuditKind::FactorRemoved,
        client,
        actor,
        user.id,
        format!("{} \"{}\"{by}", factor.kind.as_str(), factor.name),
    )
    .await?;
    if factor.confirmed_at.is_some() {
        notify(state, user, &format!("\"{}\" was removed{by}", factor.name)).await?;
    }
    Ok(())
}

/// A new set of recovery codes in place of the old one. Needs a factor, and the current
/// password or a recent authentication.
pub(crate) async fn regenerate_codes(
    state: &AppState,
    caller: Caller<'_>,
    current_password: &str,
    client: &Client,
) -> Result<Vec<String>, OpError> {
    reauth::confirm(state, caller, current_password).await?;
    let user = caller.user.id;
    if !state.stores.factors.has_factor(user).await? {
        return Err(OpError::NotFound);
    }
    let codes = new_codes()?;
    let hashes: Vec<TokenHash> = codes.iter().map(RecoveryCode::hash).collect();
    state
        .stores
        .factors
        .replace_recovery_codes(user, &hashes, state.clock.now())
        .await?;
    audit(
        state,
        AuditKind::RecoveryCodesRegenerated,
        client,
        user,
        user,
        String::new(),
    )
    .await?;
    notify(
        state,
        caller.user,
        "new recovery codes were made, and the old ones no longer work",
    )
    .await?;
    Ok(codes.iter().map(RecoveryCode::display).collect())
}

fn new_codes() -> Result<Vec<RecoveryCode>, OpError> {
    (0..RECOVERY_CODES)
        .map(|_| Ok(RecoveryCode::from_random(random_bytes()?)))
        .collect()
}

async fn audit(
    state: &AppState,
    kind: AuditKind,
    client: &Client,
    actor: UserId,
    subject: UserId,
    detail: String,
) -> Result<(), OpError> {
    let mut event = crate::audit::event(state, kind, client);
    event.actor = Some(actor);
    event.subject = Some(subject);
    event.detail = (!detail.is_empty()).then_some(detail);
    crate::audit::record(state, event).await?;
    Ok(())
}

/// Tells the user at their proven address that their factors changed; nothing without one.
async fn notify(state: &AppState, user: &User, change: &str) -> Result<(), OpError> {
    let Some(to) = user.email.as_ref().filter(|_| user.email_verified) else {
        return Ok(());
    };
    let mail = state.mail.templates.compose(
        MailKind::FactorsChanged,
        &user.username,
        to,
        &MailFacts {
            change: Some(change),
            ..MailFacts::default()
        },
        state.clock.now(),
        None,
    )?;
    state.stores.outbox.queue_mail(&mail).await?;
    state.mail.wake();
    Ok(())
}
