//! Second factors: enrolling and confirming, TOTP steps used once, recovery codes, and the
//! challenges between a login's two steps.

use hallpass_core::{
    factor::{
        FactorId, FactorKind,
        amr::{Amr, Method},
    },
    session::{SessionKind, TokenHash},
    user::UserId,
};
use hallpass_store::{MfaChallenge, NewFactor, NewMfaChallenge, Stores};
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use super::{T0, user};

fn totp(user: UserId, name: &str, at: OffsetDateTime) -> NewFactor {
    NewFactor {
        id: FactorId(Uuid::new_v4()),
        user,
        kind: FactorKind::Totp,
        name: name.to_owned(),
        secret: Some(vec![7; 48]),
        credential: None,
        credential_id: None,
        created_at: at,
    }
}

fn hash(n: u8) -> TokenHash {
    TokenHash([n; 32])
}

fn codes(from: u8) -> Vec<TokenHash> {
    (from..from + 10).map(hash).collect()
}

/// Enrolls and confirms a TOTP factor (with recovery codes 1..=10) at step 100.
async fn confirmed_totp(stores: &Stores, user: UserId) -> FactorId {
    let factor = totp(user, "Phone", T0);
    stores.factors.add_factor(&factor).await.unwrap();
    assert!(
        stores
            .factors
            .confirm_factor(user, factor.id, Some(100), Some(&codes(1)), T0)
            .await
            .unwrap()
    );
    factor.id
}

/// Runs `attempt` eight times at once; how many returned true.
async fn winners<F, Fut>(stores: &Stores, attempt: F) -> usize
where
    F: Fn(Stores) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let tries: Vec<_> = (0..8)
        .map(|_| tokio::spawn(attempt(stores.clone())))
        .collect();
    let mut won = 0;
    for t in tries {
        won += usize::from(t.await.unwrap());
    }
    won
}

/// Stores a challenge for `user` with token hash `hash(token)`, made at `at`.
async fn challenged(stores: &Stores, user: UserId, token: u8, at: OffsetDateTime) {
    stores
        .factors
        .create_mfa_challenge(&challenge(user, token, at))
        .await
        .unwrap();
}

fn challenge(user: UserId, token: u8, at: OffsetDateTime) -> NewMfaChallenge {
    NewMfaChallenge {
        hash: hash(token),
        user,
        kind: SessionKind::Token,
        amr: Amr::one(Method::Pwd),
        created_at: at,
        expires_at: at + Duration::minutes(5),
    }
}

pub(crate) async fn a_factor_counts_once_confirmed(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let first = totp(alice, "Phone", T0);
    stores.factors.add_factor(&first).await.unwrap();
    assert!(!stores.factors.has_factor(alice).await.unwrap());
    // An abandoned enrollment is replaced by the next one.
    let second = totp(alice, "New phone", T0 + Duration::minutes(1));
    stores.factors.add_factor(&second).await.unwrap();
    let listed = stores.factors.factors(alice).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, second.id);
    assert_eq!(listed[0].name, "New phone");
    assert_eq!(listed[0].secret.as_deref(), Some(&[7; 48][..]));
    assert_eq!(listed[0].confirmed_at, None);
    // Only its owner confirms it, and only once.
    for (who, id) in [(bob, second.id), (alice, first.id)] {
        assert!(
            !stores
                .factors
                .confirm_factor(who, id, Some(5), None, T0)
                .await
                .unwrap()
        );
    }
    let at = T0 + Duration::minutes(2);
    assert!(
        stores
            .factors
            .confirm_factor(alice, second.id, Some(5), Some(&codes(1)), at)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .factors
            .confirm_factor(alice, second.id, Some(6), None, at)
            .await
            .unwrap()
    );
    assert!(stores.factors.has_factor(alice).await.unwrap());
    assert!(!stores.factors.has_factor(bob).await.unwrap());
    let confirmed = &stores.factors.factors(alice).await.unwrap()[0];
    assert_eq!(confirmed.confirmed_at, Some(at));
    assert_eq!(confirmed.last_used_at, Some(at));
    assert_eq!(confirmed.last_step, Some(5));
    assert_eq!(stores.factors.recovery_codes_left(alice).await.unwrap(), 10);
    // A confirmed factor is not replaced by a new enrollment.
    stores
        .factors
        .add_factor(&totp(alice, "Tablet", at))
        .await
        .unwrap();
    assert_eq!(stores.factors.factors(alice).await.unwrap().len(), 2);
}

pub(crate) async fn a_totp_step_is_accepted_once_and_never_an_older_one(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let id = confirmed_totp(stores, alice).await;
    let at = T0 + Duration::minutes(1);
    // The enrollment code's step is spent already.
    assert!(!stores.factors.use_totp_step(id, 100, at).await.unwrap());
    assert!(stores.factors.use_totp_step(id, 101, at).await.unwrap());
    assert!(
        !stores.factors.use_totp_step(id, 101, at).await.unwrap(),
        "replay"
    );
    assert!(
        !stores.factors.use_totp_step(id, 99, at).await.unwrap(),
        "older"
    );
    assert!(stores.factors.use_totp_step(id, 103, at).await.unwrap());
    let factor = &stores.factors.factors(alice).await.unwrap()[0];
    assert_eq!(factor.last_step, Some(103));
    assert_eq!(factor.last_used_at, Some(at));
    // An unconfirmed factor accepts nothing.
    let pending = totp(alice, "Pending", T0);
    stores.factors.add_factor(&pending).await.unwrap();
    assert!(
        !stores
            .factors
            .use_totp_step(pending.id, 200, at)
            .await
            .unwrap()
    );
}

pub(crate) async fn concurrent_uses_of_one_code_accept_it_once(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let id = confirmed_totp(stores, alice).await;
    let accepted = winners(stores, move |stores| async move {
        stores.factors.use_totp_step(id, 150, T0).await.unwrap()
    })
    .await;
    assert_eq!(accepted, 1);
}

pub(crate) async fn recovery_codes_are_single_use_and_replaced_as_a_set(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let bob = user(stores, "bob").await;
    let factor = confirmed_totp(stores, alice).await;
    let at = T0 + Duration::minutes(1);
    assert!(
        !stores
            .factors
            .use_recovery_code(bob, &hash(1), at)
            .await
            .unwrap()
    );
    assert!(
        stores
            .factors
            .use_recovery_code(alice, &hash(1), at)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .factors
            .use_recovery_code(alice, &hash(1), at)
            .await
            .unwrap()
    );
    assert!(
        !stores
            .factors
            .use_recovery_code(alice, &hash(99), at)
            .await
            .unwrap()
    );
    assert_eq!(stores.factors.recovery_codes_left(alice).await.unwrap(), 9);
    // A new set voids the old one, used or not.
    stores
        .factors
        .replace_recovery_codes(alice, &codes(21), at)
        .await
        .unwrap();
    assert_eq!(stores.factors.recovery_codes_left(alice).await.unwrap(), 10);
    assert!(
        !stores
            .factors
            .use_recovery_code(alice, &hash(2), at)
            .await
            .unwrap()
    );
    assert!(
        stores
            .factors
            .use_recovery_code(alice, &hash(21), at)
            .await
            .unwrap()
    );
    // Deleting the last confirmed factor takes the codes with it; a stranger deletes nothing.
    assert!(!stores.factors.delete_factor(bob, factor).await.unwrap());
    assert!(stores.factors.delete_factor(alice, factor).await.unwrap());
    assert!(!stores.factors.delete_factor(alice, factor).await.unwrap());
    assert!(!stores.factors.has_factor(alice).await.unwrap());
    assert_eq!(stores.factors.recovery_codes_left(alice).await.unwrap(), 0);
}

pub(crate) async fn deleting_one_of_two_factors_keeps_the_codes(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let first = confirmed_totp(stores, alice).await;
    let second = totp(alice, "Tablet", T0);
    stores.factors.add_factor(&second).await.unwrap();
    stores
        .factors
        .confirm_factor(alice, second.id, Some(7), None, T0)
        .await
        .unwrap();
    assert!(stores.factors.delete_factor(alice, first).await.unwrap());
    assert!(stores.factors.has_factor(alice).await.unwrap());
    assert_eq!(stores.factors.recovery_codes_left(alice).await.unwrap(), 10);
    // Deleting the user takes everything.
    stores.users.delete_user(alice, T0).await.unwrap();
    assert!(stores.factors.factors(alice).await.unwrap().is_empty());
    assert_eq!(stores.factors.recovery_codes_left(alice).await.unwrap(), 0);
}

pub(crate) async fn a_login_challenge_is_spent_once_and_voided_by_wrong_codes(stores: &Stores) {
    let alice = user(stores, "alice").await;
    challenged(stores, alice, 1, T0).await;
    let live = stores
        .factors
        .mfa_challenge(&hash(1), T0 + Duration::minutes(1))
        .await
        .unwrap();
    let expected = MfaChallenge {
        user: alice,
        kind: SessionKind::Token,
        amr: Amr::one(Method::Pwd),
        attempts: 0,
    };
    assert_eq!(live, Some(expected.clone()));
    assert_eq!(
        stores
            .factors
            .mfa_challenge(&hash(1), T0 + Duration::minutes(5))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        stores.factors.mfa_challenge(&hash(2), T0).await.unwrap(),
        None
    );
    // Two wrong codes of three allowed: still live, and they show.
    assert!(stores.factors.count_mfa_attempt(&hash(1), 3).await.unwrap());
    assert!(stores.factors.count_mfa_attempt(&hash(1), 3).await.unwrap());
    let spent = stores
        .factors
        .spend_mfa_challenge(&hash(1), T0)
        .await
        .unwrap();
    assert_eq!(
        spent,
        Some(MfaChallenge {
            attempts: 2,
            ..expected
        })
    );
    assert_eq!(
        stores
            .factors
            .spend_mfa_challenge(&hash(1), T0)
            .await
            .unwrap(),
        None
    );

    // The third wrong code voids it.
    challenged(stores, alice, 3, T0).await;
    for live in [true, true, false] {
        assert_eq!(
            stores.factors.count_mfa_attempt(&hash(3), 3).await.unwrap(),
            live
        );
    }
    assert_eq!(
        stores
            .factors
            .spend_mfa_challenge(&hash(3), T0)
            .await
            .unwrap(),
        None
    );
    // An expired one cannot be spent, and is purged.
    challenged(stores, alice, 4, T0).await;
    let later = T0 + Duration::minutes(6);
    assert_eq!(
        stores
            .factors
            .spend_mfa_challenge(&hash(4), later)
            .await
            .unwrap(),
        None
    );
    assert_eq!(stores.factors.purge_mfa_challenges(later).await.unwrap(), 1);
}

pub(crate) async fn concurrent_completions_spend_a_challenge_once(stores: &Stores) {
    let alice = user(stores, "alice").await;
    challenged(stores, alice, 5, T0).await;
    let won = winners(stores, |stores| async move {
        stores
            .factors
            .spend_mfa_challenge(&hash(5), T0)
            .await
            .unwrap()
            .is_some()
    })
    .await;
    assert_eq!(won, 1);
}

pub(crate) async fn a_factor_requirement_starts_once(stores: &Stores) {
    let alice = user(stores, "alice").await;
    let first = stores
        .factors
        .factor_required_since(alice, T0)
        .await
        .unwrap();
    assert_eq!(first, T0);
    let later = stores
        .factors
        .factor_required_since(alice, T0 + Duration::days(3))
        .await
        .unwrap();
    assert_eq!(later, T0, "the first time stays");
}
