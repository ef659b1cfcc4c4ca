//! Emailed tokens: issuing, reading, spending, codes and password resets. What a token proves
//! about an address is in `addresses.rs`.

use hallpass_core::{
    email::{EmailPurpose, EmailToken},
    password::PasswordHash,
    session::TokenHash,
    user::{Email, UserId},
};
use hallpass_store::{ClaimedMail, EmailTokenRecord, NewEmailToken, NewMail, Stores};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{T0, new_user, user};

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
pub(super) async fn issue(
    stores: &Stores,
    user: UserId,
    purpose: EmailPurpose,
    to: &str,
) -> TokenHash {
    let hash = link();
    let token = new_token(user, purpose, to, hash, None);
    stores
        .email
        .issue_email_token(&token, &mail(to, T0))
        .await
        .unwrap();
    hash
}

pub(super) async fn live(
    stores: &Stores,
    hash: &TokenHash,
    purpose: EmailPurpose,
) -> Option<EmailTokenRecord> {
    stores.email.email_token(hash, purpose, T0).await.unwrap()
}

/// Every mail due at `now`, claimed for a minute.
pub(super) async fn claim_all(stores: &Stores, now: OffsetDateTime) -> Vec<ClaimedMail> {
    stores
        .outbox
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

pub(super) fn new_password(n: u32) -> PasswordHash {
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
