//! Who a provider's verified identity is at hallpass: the linked account, an account linked by
//! a verified email (when the provider's settings allow it), or a new account. Also linking to
//! and unlinking from a logged-in account.

use hallpass_core::{
    audit::AuditKind,
    identity::{NewIdentity, ProviderName, Subject},
    password::PasswordHash,
    user::{Email, NewUser, User, UserId, Username},
};
use hallpass_store::{StoreError, UnlinkOutcome};
use uuid::Uuid;

use crate::{
    infra::social::{SocialError, identity::VerifiedIdentity, provider::Provider},
    operation::{Client, OpError},
    state::AppState,
};

/// New accounts try the derived username, then it with `-2` … `-9`, then a random suffix.
const NAME_ATTEMPTS: u32 = 10;

/// The account a verified identity logs in to, creating or linking it as needed. `link_to`
/// is the logged-in user who asked to link this provider.
pub(crate) async fn account_for(
    state: &AppState,
    provider: &Provider,
    identity: &VerifiedIdentity,
    link_to: Option<UserId>,
    client: &Client,
) -> Result<User, OpError> {
    let claim = Claim {
        provider: ProviderName::parse(&provider.name)?,
        subject: Subject::parse(&identity.subject)?,
        email: identity.email.as_deref().and_then(|e| Email::parse(e).ok()),
        at: state.clock.now(),
    };
    let identities = &state.stores.identities;

    if let Some(user) = link_to {
        let already = identities.identities_of_user(user).await?;
        if already.iter().any(|i| i.provider.as_str() == provider.name) {
            return Err(SocialError::AlreadyLinkedHere.into());
        }
        return match identities.link_identity(&claim.for_user(user)).await {
            Ok(_) => {
                audit_link(
                    state,
                    client,
                    user,
                    &provider.name,
                    "linked from the account page",
                )
                .await?;
                existing(state, user).await
            }
            Err(StoreError::IdentityTaken) => Err(SocialError::AlreadyLinked.into()),
            Err(other) => Err(other.into()),
        };
    }
    if let Some((_, user)) = identities
        .user_by_identity(&claim.provider, &claim.subject)
        .await?
    {
        return Ok(user);
    }
    if provider.link_verified_email
        && identity.email_verified
        && let Some(email) = &claim.email
        && let Some(user) = user_with_email(state, email).await?
    {
        identities.link_identity(&claim.for_user(user.id)).await?;
        audit_link(
            state,
            client,
            user.id,
            &provider.name,
            "linked by verified email",
        )
        .await?;
        return Ok(user);
    }
    create(state, provider, identity, &claim, client).await
}

/// Who the provider says this is, ready to be linked to an account.
struct Claim {
    provider: ProviderName,
    subject: Subject,
    /// The address as the provider reported it, verified or not (kept with the identity).
    email: Option<Email>,
    at: time::OffsetDateTime,
}

impl Claim {
    fn for_user(&self, user: UserId) -> NewIdentity {
        NewIdentity {
            user,
            provider: self.provider.clone(),
            subject: self.subject.clone(),
            email: self.email.clone(),
            created_at: self.at,
        }
    }
}

/// The account a verified email may be linked to: the one with this address (ASCII letters
/// compared case-insensitively), if that address is proven — by a provider that verified it, or
/// by the link hallpass mailed to it. An address typed at signup and never confirmed may be
/// anyone's: linking to it would let whoever signed up first with someone's address receive
/// their provider logins (pre-account takeover); such accounts link from `/account` instead.
async fn user_with_email(state: &AppState, email: &Email) -> Result<Option<User>, OpError> {
    // Two are enough to tell "exactly one" from "more than one".
    let mut found = state
        .stores
        .identities
        .users_with_email(email, 2)
        .await?
        .into_iter();
    // Two accounts with one address: linking to either would be a guess.
    match (found.next(), found.next()) {
        (Some(user), None) if !user.password_hash.is_usable() || user.email_verified => {
            Ok(Some(user))
        }
        _ => Ok(None),
    }
}

async fn create(
    state: &AppState,
    provider: &Provider,
    identity: &VerifiedIdentity,
    claim: &Claim,
    client: &Client,
) -> Result<User, OpError> {
    // An address the provider did not verify is not the account's: keep it off the account.
    let mut email = claim.email.clone().filter(|_| identity.email_verified);
    let base = username_base(identity, &provider.name);
    for attempt in 1..=NAME_ATTEMPTS {
        let candidate = match attempt {
            1 => base.clone(),
            n if n < NAME_ATTEMPTS => format!("{base}-{n}"),
            _ => format!("{base}-{}", &Uuid::new_v4().simple().to_string()[..8]),
        };
        let Ok(username) = Username::parse(&candidate) else {
            continue;
        };
        let user = NewUser {
            id: UserId(Uuid::new_v4()),
            username,
            email_verified: email.is_some(),
            email: email.clone(),
            roles: Vec::new(),
            // Until they set one, the provider is their only way in.
            password_hash: PasswordHash::unusable(),
            created_at: state.clock.now(),
        };
        match state
            .stores
            .identities
            .create_user_with_identity(&user, &claim.for_user(user.id))
            .await
        {
            Ok(created) => {
                let mut event = crate::audit::event(state, AuditKind::Signup, client);
                event.actor = Some(created.id);
                event.subject = Some(created.id);
                event.detail = Some(format!("via {}", provider.name));
                crate::audit::record(state, event).await?;
                audit_link(state, client, created.id, &provider.name, "new account").await?;
                return Ok(created);
            }
            Err(StoreError::UsernameTaken) => {}
            // Another account holds the address (unproven there, or it would have been linked):
            // the new account starts without one; the identity keeps what the provider said.
            Err(StoreError::EmailTaken) => email = None,
            // Linked meanwhile by a concurrent first login: that account it is.
            Err(StoreError::IdentityTaken) => {
                if let Some((_, user)) = state
                    .stores
                    .identities
                    .user_by_identity(&claim.provider, &claim.subject)
                    .await?
                {
                    return Ok(user);
                }
            }
            Err(other) => return Err(other.into()),
        }
    }
    Err(OpError::Internal(anyhow::anyhow!(
        "no free username for a new account from {}",
        provider.name
    )))
}

/// A username from what the provider says: the preferred username, else the email's local
/// part, else `provider-subject`; reduced to the characters usernames allow.
fn username_base(identity: &VerifiedIdentity, provider: &str) -> String {
    let raw = identity
        .preferred_username
        .clone()
        .or_else(|| {
            identity
                .email
                .as_deref()
                .and_then(|e| e.split('@').next())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| format!("{provider}-{}", identity.subject));
    let mut name: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .take(48)
        .collect();
    while name.len() < 3 {
        name.push('_');
    }
    name
}

async fn existing(state: &AppState, id: UserId) -> Result<User, OpError> {
    state
        .stores
        .users
        .user_by_id(id)
        .await?
        .ok_or(OpError::Unauthenticated)
}

async fn audit_link(
    state: &AppState,
    client: &Client,
    user: UserId,
    provider: &str,
    how: &str,
) -> Result<(), OpError> {
    let mut event = crate::audit::event(state, AuditKind::IdentityLinked, client);
    event.actor = Some(user);
    event.subject = Some(user);
    event.detail = Some(format!("{provider}: {how}"));
    Ok(crate::audit::record(state, event).await?)
}

/// Unlinks `provider` from the caller's account, never their last way to log in.
pub(crate) async fn unlink(
    state: &AppState,
    user: UserId,
    provider: &str,
    client: &Client,
) -> Result<(), OpError> {
    let name = ProviderName::parse(provider).map_err(|_| OpError::NotFound)?;
    match state.stores.identities.unlink_identity(user, &name).await? {
        UnlinkOutcome::Unlinked => {
            let mut event = crate::audit::event(state, AuditKind::IdentityUnlinked, client);
            event.actor = Some(user);
            event.subject = Some(user);
            event.detail = Some(provider.to_owned());
            Ok(crate::audit::record(state, event).await?)
        }
        UnlinkOutcome::NotLinked => Err(OpError::NotFound),
        UnlinkOutcome::LastWayToLogIn => Err(SocialError::LastWayToLogIn.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn identity(preferred: Option<&str>, email: Option<&str>) -> VerifiedIdentity {
        VerifiedIdentity {
            subject: "12345".to_owned(),
            email: email.map(str::to_owned),
            email_verified: true,
            preferred_username: preferred.map(str::to_owned),
        }
    }

    #[test]
    fn usernames_are_derived_from_what_the_provider_says() {
        assert_eq!(
            username_base(&identity(Some("alice"), None), "corp"),
            "alice"
        );
        assert_eq!(
            username_base(&identity(None, Some("bob.smith@example.com")), "corp"),
            "bob.smith"
        );
        assert_eq!(username_base(&identity(None, None), "kakao"), "kakao-12345");
        assert_eq!(
            username_base(&identity(Some("김철수"), None), "kakao"),
            "---"
        );
        assert_eq!(username_base(&identity(Some("a"), None), "x"), "a__");
    }
}
