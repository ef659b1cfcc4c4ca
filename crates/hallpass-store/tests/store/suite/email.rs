//! Emailed tokens and what they prove: issuing, reading, spending, codes, password resets and
//! confirmed addresses; and addresses unique among accounts.

use hallpass_core::{
    email::{EmailPurpose, EmailToken},
    password::PasswordHash,
    session::TokenHash,
    user::{Email, NewUser, UserId},
};
use hallpass_store::{
    ClaimedMail, EmailTokenRecord, NewEmailToken, NewMail, StoreError, Stores, UserQuery,
};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{
    T0,
    identities::{new_identity, passwordless},
    new_session, new_user, user,
};

/// How long the suite's tokens live.
pub(super) const TOKEN_LIFE: Duration = Duration::hours(1);

pub(super) fn email(address: &str) -> Email {
    Email::parse(address).unwrap()
}

/// A fresh link token's hash.
pub(super) fn link() -> TokenHash {
    EmailToken::from_random(*Uuid::new_v4().as_bytes().repeat(2).first_chunk().unwrap()).hash()
}

/// A code's hash (the store only compares them).
fn code(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

pub(super) fn mail(to: &str, at: OffsetDateTime) -> NewMail {
    let id = Uuid::new_v4();
    NewMail {
        id,
        to: email(to),
        subject: format!("subject {id}"),
        text: format!("text {id}"),
        html: format!("<p>html {id}</p>"),
        created_at: at,
        expires_at: None,
    }
}

fn new_token(
    user: UserId,
    purpose: EmailPurpose,
    to: &str,
    hash: TokenHash,
    code_hash: Option<TokenHash>,
) -> NewEmailToken {
    NewEmailToken {
        hash,
        code_hash,
        user,
        purpose,
        email: email(to),
        created_at: T0,
        expires_at: T0 + TOKEN_LIFE,
    }
}

/// Issues a token of `purpose` sent to `to` (with its mail), returning its link hash.
async fn issue(stores: &Stores, user: UserId, purpose: EmailPurpose, to: &str) -> TokenHash {
    let hash = link();
    let token = new_token(user, purpose, to, hash, None);
    stores
        .email
        .issue_email_token(&token, &mail(to, T0))
        .await
        .unwrap();
    hash
}

async fn live(
    stores: &Stores,
    hash: &TokenHash,
    purpose: EmailPurpose,
) -> Option<EmailTokenRecord> {
    stores.email.email_token(hash, purpose, T0).await.unwrap()
}

/// Every mail due at `now`, claimed for a minute.
pub(super) async fn claim_all(stores: &Stores, now: OffsetDateTime) -> Vec<ClaimedMail> {
    stores
        .email
        .claim_mail(now, now + Duration::minutes(1), 1000)
        .await
        .unwrap()
}

async fn password_of(stores: &Stores, id: UserId) -> PasswordHash {
    stores
        .users
        .user_by_id(id)
        .await
        .unwrap()
        .unwrap()
        .password_hash
}

fn new_password(n: u32) -> PasswordHash {
    PasswordHash::from_phc(format!("$argon2id$v=19$m=64,t=1,p=1$bmV3$new{n}"))
}

pub(crate) async fn email_tokens_are_issued_read_and_voided_by_a_newer_one(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let first = link();
    let token = new_token(
        alice,
        EmailPurpose::Verify,
        "alice@example.com",
        first,
        None,
    );
    let sent = mail("alice@example.com", T0);
    stores.email.issue_email_token(&token, &sent).await.unwrap();

    let read = live(stores, &first, EmailPurpose::Verify).await.unwrap();
    assert_eq!(read.user.id, alice);
    assert_eq!(read.user.username, "alice");
    assert_eq!(read.purpose, EmailPurpose::Verify);
    assert_eq!(read.email, email("alice@example.com"));
    assert_eq!(read.created_at, T0);
    assert!(
        live(stores, &first, EmailPurpose::Verify).await.is_some(),
        "reading spends nothing"
    );
    // The mail went into the outbox with the token, whole.
    let claimed = claim_all(stores, T0).await;
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].mail, sent);
    assert_eq!(claimed[0].attempts, 1);

    // Live until it expires, and only for its purpose and its exact hash.
    let at = |t| stores.email.email_token(&first, EmailPurpose::Verify, t);
    assert!(
        at(T0 + TOKEN_LIFE - Duration::seconds(1))
            .await
            .unwrap()
            .is_some()
    );
    assert!(at(T0 + TOKEN_LIFE).await.unwrap().is_none(), "expired");
    assert!(live(stores, &first, EmailPurpose::Reset).await.is_none());
    assert!(
        live(stores, &first, EmailPurpose::ChangeEmail)
            .await
            .is_none()
    );
    assert!(live(stores, &link(), EmailPurpose::Verify).await.is_none());

    // A newer token of the purpose voids the older; another purpose's, or another user's, not.
    let second = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    assert!(live(stores, &first, EmailPurpose::Verify).await.is_none());
    assert!(live(stores, &second, EmailPurpose::Verify).await.is_some());
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    let bob = user(stores, "bob").await;
    let bobs = issue(stores, bob, EmailPurpose::Verify, "bob@example.com").await;
    assert!(live(stores, &second, EmailPurpose::Verify).await.is_some());
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_some());
    assert!(live(stores, &bobs, EmailPurpose::Verify).await.is_some());

    // Deleting the user deletes their tokens.
    assert!(stores.users.delete_user(alice, T0).await.unwrap());
    assert!(live(stores, &second, EmailPurpose::Verify).await.is_none());
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_none());
}

pub(crate) async fn an_email_token_is_spent_once(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let hash = issue(stores, alice, EmailPurpose::Login, "alice@example.com").await;
    // Not for another purpose (and trying spends nothing).
    let wrong = stores
        .email
        .spend_email_token(&hash, EmailPurpose::Verify, T0)
        .await
        .unwrap();
    assert!(wrong.is_none());
    // Not once expired.
    let late = stores
        .email
        .spend_email_token(&hash, EmailPurpose::Login, T0 + TOKEN_LIFE)
        .await
        .unwrap();
    assert!(late.is_none());

    let spent = stores
        .email
        .spend_email_token(&hash, EmailPurpose::Login, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(spent.user.id, alice);
    assert_eq!(spent.purpose, EmailPurpose::Login);
    assert_eq!(spent.email, email("alice@example.com"));
    assert_eq!(spent.created_at, T0);
    let again = stores
        .email
        .spend_email_token(&hash, EmailPurpose::Login, T0)
        .await
        .unwrap();
    assert!(again.is_none(), "spent once");
    assert!(live(stores, &hash, EmailPurpose::Login).await.is_none());

    // Of many requests with one token at once, one wins.
    let hash = issue(stores, alice, EmailPurpose::Login, "alice@example.com").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let stores = stores.clone();
            tokio::spawn(async move {
                stores
                    .email
                    .spend_email_token(&hash, EmailPurpose::Login, T0)
                    .await
                    .unwrap()
                    .is_some()
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        winners += usize::from(task.await.unwrap());
    }
    assert_eq!(winners, 1);
}

pub(crate) async fn email_codes_allow_few_attempts(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let hash = link();
    let token = new_token(
        alice,
        EmailPurpose::Login,
        "alice@example.com",
        hash,
        Some(code(7)),
    );
    stores
        .email
        .issue_email_token(&token, &mail("alice@example.com", T0))
        .await
        .unwrap();
    let check = |purpose, code_hash: TokenHash, now| {
        let stores = stores.clone();
        async move {
            stores
                .email
                .check_email_code(alice, purpose, &code_hash, 3, now)
                .await
                .unwrap()
        }
    };
    // The right code answers the link's hash (and spends nothing).
    assert!(check(EmailPurpose::Login, code(7), T0).await == Some(hash));
    assert!(live(stores, &hash, EmailPurpose::Login).await.is_some());
    // Not for another purpose, nor once expired.
    assert!(check(EmailPurpose::Verify, code(7), T0).await.is_none());
    assert!(
        check(EmailPurpose::Login, code(7), T0 + TOKEN_LIFE)
            .await
            .is_none()
    );
    // Nor another user's token.
    let bob = user(stores, "bob").await;
    assert!(
        stores
            .email
            .check_email_code(bob, EmailPurpose::Login, &code(7), 3, T0)
            .await
            .unwrap()
            .is_none()
    );

    // Wrong codes count: two leave the token, and the right one still works.
    assert!(check(EmailPurpose::Login, code(1), T0).await.is_none());
    assert!(check(EmailPurpose::Login, code(2), T0).await.is_none());
    assert!(live(stores, &hash, EmailPurpose::Login).await.is_some());
    assert!(check(EmailPurpose::Login, code(7), T0).await == Some(hash));
    // The third wrong one deletes it: the right code, and the link, are dead.
    assert!(check(EmailPurpose::Login, code(3), T0).await.is_none());
    assert!(live(stores, &hash, EmailPurpose::Login).await.is_none());
    assert!(check(EmailPurpose::Login, code(7), T0).await.is_none());

    // A token whose mail carries no code takes none.
    let plain = issue(stores, alice, EmailPurpose::Login, "alice@example.com").await;
    assert!(check(EmailPurpose::Login, code(0), T0).await.is_none());
    assert!(live(stores, &plain, EmailPurpose::Login).await.is_some());

    // Concurrent wrong guesses are each counted: never more than the limit get through.
    let hash = link();
    let token = new_token(
        alice,
        EmailPurpose::Reset,
        "alice@example.com",
        hash,
        Some(code(9)),
    );
    stores
        .email
        .issue_email_token(&token, &mail("alice@example.com", T0))
        .await
        .unwrap();
    let guesses: Vec<_> = (10..20)
        .map(|n| tokio::spawn(check(EmailPurpose::Reset, code(n), T0)))
        .collect();
    for guess in guesses {
        assert!(guess.await.unwrap().is_none());
    }
    assert!(live(stores, &hash, EmailPurpose::Reset).await.is_none());
    assert!(check(EmailPurpose::Reset, code(9), T0).await.is_none());
}

pub(crate) async fn a_password_reset_spends_its_token_and_queues_a_notice(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    let bobs = issue(stores, bob, EmailPurpose::Reset, "bob@example.com").await;
    assert_eq!(claim_all(stores, T0).await.len(), 3, "the tokens' mails");

    // Another purpose's token, or an expired one, resets nothing.
    let notice = mail("alice@example.com", T0);
    let before = password_of(stores, alice).await;
    let refused = stores
        .email
        .reset_password(&verify, &new_password(1), &notice, T0)
        .await
        .unwrap();
    assert!(refused.is_none());
    let late = stores
        .email
        .reset_password(&reset, &new_password(1), &notice, T0 + TOKEN_LIFE)
        .await
        .unwrap();
    assert!(late.is_none());
    assert_eq!(password_of(stores, alice).await, before);
    assert!(claim_all(stores, T0).await.is_empty(), "no notice queued");

    let done = stores
        .email
        .reset_password(&reset, &new_password(2), &notice, T0)
        .await
        .unwrap();
    assert_eq!(done, Some(alice));
    assert_eq!(password_of(stores, alice).await, new_password(2));
    let queued = claim_all(stores, T0).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].mail, notice);
    // Spent: the link cannot set another password.
    let again = stores
        .email
        .reset_password(&reset, &new_password(3), &mail("alice@example.com", T0), T0)
        .await
        .unwrap();
    assert!(again.is_none());
    assert_eq!(password_of(stores, alice).await, new_password(2));
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_none());
    // Her other tokens, and other users' resets, are untouched.
    assert!(live(stores, &verify, EmailPurpose::Verify).await.is_some());
    assert!(live(stores, &bobs, EmailPurpose::Reset).await.is_some());
    assert_eq!(
        password_of(stores, bob).await,
        new_user("bob").password_hash
    );
}

pub(crate) async fn a_new_password_voids_reset_links(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    assert!(
        stores
            .users
            .set_password_hash(alice, &new_password(1))
            .await
            .unwrap()
    );
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_none());
    assert!(live(stores, &verify, EmailPurpose::Verify).await.is_some());
    let reused = stores
        .email
        .reset_password(&reset, &new_password(2), &mail("alice@example.com", T0), T0)
        .await
        .unwrap();
    assert!(reused.is_none());
    assert_eq!(password_of(stores, alice).await, new_password(1));
}

pub(crate) async fn a_verify_link_proves_the_address_it_was_sent_to(stores: &Stores) {
    let alice = user(stores, "alice").await;
    assert!(
        !stores
            .users
            .user_by_id(alice)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    // Sent to her address as typed elsewhere: the same address under the fold.
    let hash = issue(stores, alice, EmailPurpose::Verify, "Alice@EXAMPLE.com").await;
    // A token of another purpose proves nothing, and is not spent trying.
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    let wrong = stores
        .email
        .confirm_email(&reset, EmailPurpose::Verify, None, T0)
        .await
        .unwrap();
    assert!(wrong.is_none());
    let as_reset = stores
        .email
        .confirm_email(&reset, EmailPurpose::Reset, None, T0)
        .await
        .unwrap();
    assert!(as_reset.is_none());
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_some());

    let confirmed = stores
        .email
        .confirm_email(&hash, EmailPurpose::Verify, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(confirmed.id, alice);
    assert!(confirmed.email_verified);
    assert_eq!(confirmed.email, Some(email("alice@example.com")));
    assert!(
        stores
            .users
            .user_by_id(alice)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
    let again = stores
        .email
        .confirm_email(&hash, EmailPurpose::Verify, None, T0)
        .await
        .unwrap();
    assert!(again.is_none(), "spent");

    // A link sent to an address that is no longer the account's (it changed since) proves
    // nothing about the current one, but is spent all the same.
    let bob = user(stores, "bob").await;
    let stale = issue(stores, bob, EmailPurpose::Verify, "bob@old.example").await;
    let bob_now = stores
        .email
        .confirm_email(&stale, EmailPurpose::Verify, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob_now.id, bob);
    assert!(!bob_now.email_verified);
    assert_eq!(bob_now.email, Some(email("bob@example.com")));
    assert!(live(stores, &stale, EmailPurpose::Verify).await.is_none());
    // An expired link proves nothing.
    let late = issue(stores, bob, EmailPurpose::Verify, "bob@example.com").await;
    let expired = stores
        .email
        .confirm_email(&late, EmailPurpose::Verify, None, T0 + TOKEN_LIFE)
        .await
        .unwrap();
    assert!(expired.is_none());
    assert!(
        !stores
            .users
            .user_by_id(bob)
            .await
            .unwrap()
            .unwrap()
            .email_verified
    );
}

pub(crate) async fn a_change_of_address_takes_effect_with_its_link(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    let older = issue(
        stores,
        alice,
        EmailPurpose::ChangeEmail,
        "elder@example.org",
    )
    .await;
    let change = issue(stores, alice, EmailPurpose::ChangeEmail, "New@Example.org").await;
    assert!(
        live(stores, &older, EmailPurpose::ChangeEmail)
            .await
            .is_none(),
        "the newer change voids the older"
    );
    claim_all(stores, T0).await;

    let notice = mail("alice@example.com", T0);
    let changed = stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, Some(&notice), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.id, alice);
    assert_eq!(changed.email, Some(email("New@Example.org")));
    assert!(changed.email_verified);
    let stored = stores.users.user_by_id(alice).await.unwrap().unwrap();
    assert_eq!(stored.email, Some(email("New@Example.org")));
    assert!(stored.email_verified);
    // The notice went out (to the old address), in the same transaction.
    let queued = claim_all(stores, T0).await;
    assert_eq!(queued.len(), 1);
    assert_eq!(queued[0].mail, notice);
    // Spent, and a link to verify the old address is moot; a reset link is not.
    assert!(
        live(stores, &change, EmailPurpose::ChangeEmail)
            .await
            .is_none()
    );
    assert!(live(stores, &verify, EmailPurpose::Verify).await.is_none());
    assert!(live(stores, &reset, EmailPurpose::Reset).await.is_some());
    // The account is found by its new address, and the old one is free.
    let found = stores
        .users
        .user_by_email(&email("new@EXAMPLE.ORG"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, alice);
    assert!(
        stores
            .users
            .user_by_email(&email("alice@example.com"))
            .await
            .unwrap()
            .is_none()
    );
    let heir = NewUser {
        email: Some(email("alice@example.com")),
        ..new_user("heir")
    };
    stores.users.create_user(&heir).await.unwrap();

    // Changing only the case of one's own address is a change like any other.
    let recase = issue(stores, alice, EmailPurpose::ChangeEmail, "new@example.org").await;
    let recased = stores
        .email
        .confirm_email(&recase, EmailPurpose::ChangeEmail, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(recased.email, Some(email("new@example.org")));
}

pub(crate) async fn an_address_taken_meanwhile_refuses_the_change_and_spends_nothing(
    stores: &Stores,
) {
    let alice = user(stores, "alice").await;
    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    let change = issue(
        stores,
        alice,
        EmailPurpose::ChangeEmail,
        "shared@example.com",
    )
    .await;
    claim_all(stores, T0).await;
    // Someone else gets the address (in another case) before she follows the link.
    let carol = NewUser {
        email: Some(email("Shared@EXAMPLE.com")),
        ..new_user("carol")
    };
    stores.users.create_user(&carol).await.unwrap();

    let notice = mail("alice@example.com", T0);
    let refused = stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, Some(&notice), T0)
        .await;
    assert!(
        matches!(refused, Err(StoreError::EmailTaken)),
        "{refused:?}"
    );
    // Nothing changed: not her address, not the tokens, no notice.
    let stored = stores.users.user_by_id(alice).await.unwrap().unwrap();
    assert_eq!(stored.email, Some(email("alice@example.com")));
    assert!(!stored.email_verified);
    assert!(
        live(stores, &change, EmailPurpose::ChangeEmail)
            .await
            .is_some()
    );
    assert!(live(stores, &verify, EmailPurpose::Verify).await.is_some());
    assert!(claim_all(stores, T0).await.is_empty());

    // Once the address is free again, the same link works.
    assert!(stores.users.delete_user(carol.id, T0).await.unwrap());
    let changed = stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, Some(&notice), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(changed.email, Some(email("shared@example.com")));
}

pub(crate) async fn addresses_are_unique_under_the_ascii_fold(stores: &Stores) {
    let bob = NewUser {
        email: Some(email("bob@example.com")),
        email_verified: true,
        ..new_user("bob")
    };
    let created = stores.users.create_user(&bob).await.unwrap();
    assert!(created.email_verified, "written as given");

    let twin = NewUser {
        email: Some(email("Bob@Example.COM")),
        ..new_user("robert")
    };
    let taken = stores.users.create_user(&twin).await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    assert!(stores.users.user_by_id(twin.id).await.unwrap().is_none());
    // Name and address both taken: the name is what the caller hears about.
    let both = NewUser {
        email: Some(email("BOB@example.com")),
        ..new_user("BOB")
    };
    let taken = stores.users.create_user(&both).await;
    assert!(matches!(taken, Err(StoreError::UsernameTaken)), "{taken:?}");

    // The same rules for a first social login, which leaves no identity behind.
    let social = NewUser {
        email: Some(email("bob@EXAMPLE.com")),
        ..passwordless("bobby")
    };
    let identity = new_identity(social.id, "google", "b1", T0);
    let taken = stores
        .identities
        .create_user_with_identity(&social, &identity)
        .await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
    assert!(
        stores
            .identities
            .user_by_identity(&identity.provider, &identity.subject)
            .await
            .unwrap()
            .is_none()
    );
    let social_both = NewUser {
        email: Some(email("bob@EXAMPLE.com")),
        ..passwordless("Bob")
    };
    let identity = new_identity(social_both.id, "google", "b2", T0);
    let taken = stores
        .identities
        .create_user_with_identity(&social_both, &identity)
        .await;
    assert!(matches!(taken, Err(StoreError::UsernameTaken)), "{taken:?}");
    // A linked identity still wins over both.
    let first = passwordless("first");
    let identity = new_identity(first.id, "google", "b3", T0);
    stores
        .identities
        .create_user_with_identity(&first, &identity)
        .await
        .unwrap();
    let again = NewUser {
        email: first.email.clone(),
        ..passwordless("First")
    };
    let identity = new_identity(again.id, "google", "b3", T0);
    let taken = stores
        .identities
        .create_user_with_identity(&again, &identity)
        .await;
    assert!(matches!(taken, Err(StoreError::IdentityTaken)), "{taken:?}");

    // Found in any case; only ASCII letters fold.
    for typed in ["bob@example.com", "BOB@EXAMPLE.COM", "Bob@Example.Com"] {
        let found = stores.users.user_by_email(&email(typed)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(bob.id), "{typed}");
    }
    assert!(
        stores
            .users
            .user_by_email(&email("bob@example.co"))
            .await
            .unwrap()
            .is_none()
    );
    for (name, address) in [
        ("accent-upper", "bob@ÉXAMPLE.com"),
        ("accent", "bob@éxample.com"),
    ] {
        let user = NewUser {
            email: Some(email(address)),
            ..new_user(name)
        };
        stores.users.create_user(&user).await.unwrap();
        let found = stores.users.user_by_email(&email(address)).await.unwrap();
        assert_eq!(found.map(|u| u.id), Some(user.id), "{address}");
    }

    // Any number of accounts may have no address.
    for name in ["nomail-1", "nomail-2"] {
        let user = NewUser {
            email: None,
            ..new_user(name)
        };
        stores.users.create_user(&user).await.unwrap();
    }
    let everyone = stores
        .users
        .list_users(&UserQuery {
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(everyone.len(), 6);
}

pub(crate) async fn session_lookups_see_resets_and_confirmed_addresses(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let (session, token) = new_session(alice, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    let lookup = || async {
        stores
            .sessions
            .session_by_token_hash(&token.hash())
            .await
            .unwrap()
            .unwrap()
            .1
    };
    assert!(!lookup().await.email_verified, "and cached, behind a cache");

    let reset = issue(stores, alice, EmailPurpose::Reset, "alice@example.com").await;
    stores
        .email
        .reset_password(&reset, &new_password(1), &mail("alice@example.com", T0), T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup().await.password_hash, new_password(1));

    let verify = issue(stores, alice, EmailPurpose::Verify, "alice@example.com").await;
    stores
        .email
        .confirm_email(&verify, EmailPurpose::Verify, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(lookup().await.email_verified);

    let change = issue(
        stores,
        alice,
        EmailPurpose::ChangeEmail,
        "alice@new.example",
    )
    .await;
    stores
        .email
        .confirm_email(&change, EmailPurpose::ChangeEmail, None, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(lookup().await.email, Some(email("alice@new.example")));
}
