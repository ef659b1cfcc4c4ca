//! Migration 0009 on a database that already has accounts sharing an address: the oldest keeps
//! it, the others lose theirs, and the migration does not fail.

use std::str::FromStr;

use hallpass_core::{
    clock::to_micros,
    user::{Email, NewUser, UserId},
};
use hallpass_store::{StoreError, StoreOptions, Stores, postgres::PostgresStore};
use sqlx::sqlite::{SqliteConnectOptions, SqlitePool};
use time::Duration;
use uuid::Uuid;

use crate::{
    harness,
    suite::{T0, new_user},
};

/// The last migration before addresses were unique.
const BEFORE_UNIQUE_EMAILS: i64 = 8;

const INSERT_USER: &str = "INSERT INTO users (id, username, username_key, email, roles, disabled, password_hash, created_at)
                           VALUES ($1, $2, $3, $4, '', FALSE, 'x', $5)";

/// `(id, username, email, age)`; the same id order on both backends (bytewise).
fn accounts() -> Vec<(Uuid, &'static str, Option<&'static str>, Duration)> {
    vec![
        // The oldest with the address (tied on created_at with `tied`, and first by id).
        (
            Uuid::from_u128(1),
            "ann",
            Some("Ann@Example.com"),
            Duration::days(3),
        ),
        (
            Uuid::from_u128(2),
            "tied",
            Some("ANN@EXAMPLE.COM"),
            Duration::days(3),
        ),
        (
            Uuid::from_u128(3),
            "younger",
            Some("ann@example.com"),
            Duration::days(2),
        ),
        // Listed before the oldest, created after it.
        (
            Uuid::from_u128(0),
            "youngest",
            Some("ann@example.COM"),
            Duration::days(1),
        ),
        // Not the same address: only ASCII letters fold.
        (
            Uuid::from_u128(4),
            "accented",
            Some("ann@éxample.com"),
            Duration::days(1),
        ),
        (
            Uuid::from_u128(5),
            "other",
            Some("other@example.com"),
            Duration::days(1),
        ),
        (Uuid::from_u128(6), "nomail", None, Duration::days(1)),
        (Uuid::from_u128(7), "nomail2", None, Duration::days(1)),
    ]
}

async fn email_of(stores: &Stores, id: Uuid) -> Option<String> {
    let user = stores.users.user_by_id(UserId(id)).await.unwrap().unwrap();
    assert!(!user.email_verified, "no address was proven before");
    user.email.map(|e| e.as_str().to_owned())
}

async fn check(stores: &Stores) {
    let kept = [
        (1, Some("Ann@Example.com")),
        (2, None),
        (3, None),
        (0, None),
        (4, Some("ann@éxample.com")),
        (5, Some("other@example.com")),
        (6, None),
        (7, None),
    ];
    for (n, email) in kept {
        assert_eq!(
            email_of(stores, Uuid::from_u128(n)).await.as_deref(),
            email,
            "account {n}"
        );
    }
    let found = stores
        .users
        .user_by_email(&Email::parse("ann@example.com").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(found.id, UserId(Uuid::from_u128(1)));
    // And the address is unique from now on.
    let again = NewUser {
        email: Some(Email::parse("aNN@example.com").unwrap()),
        ..new_user("newcomer")
    };
    let taken = stores.users.create_user(&again).await;
    assert!(matches!(taken, Err(StoreError::EmailTaken)), "{taken:?}");
}

#[tokio::test]
async fn sqlite_keeps_the_oldest_of_shared_addresses() {
    let (_dir, url) = harness::sqlite_file();
    let options = SqliteConnectOptions::from_str(&url)
        .unwrap()
        .create_if_missing(true);
    let pool = SqlitePool::connect_with(options).await.unwrap();
    sqlx::migrate!("./migrations/sqlite")
        .run_to(BEFORE_UNIQUE_EMAILS, &pool)
        .await
        .unwrap();
    for (id, name, email, age) in accounts() {
        sqlx::query(INSERT_USER)
            .bind(id)
            .bind(name)
            .bind(name)
            .bind(email)
            .bind(to_micros(T0 - age))
            .execute(&pool)
            .await
            .unwrap();
    }
    pool.close().await;
    let stores = Stores::open(&url, &StoreOptions::default()).await.unwrap();
    check(&stores).await;
}

#[tokio::test]
async fn postgres_keeps_the_oldest_of_shared_addresses() {
    let Some(pool) = harness::postgres_schema().await else {
        return;
    };
    sqlx::migrate!("./migrations/postgres")
        .run_to(BEFORE_UNIQUE_EMAILS, &pool)
        .await
        .unwrap();
    for (id, name, email, age) in accounts() {
        sqlx::query(INSERT_USER)
            .bind(id)
            .bind(name)
            .bind(name)
            .bind(email)
            .bind(to_micros(T0 - age))
            .execute(&pool)
            .await
            .unwrap();
    }
    let store = PostgresStore::from_pool(pool);
    store.migrate().await.unwrap();
    check(&Stores::from_backend(store)).await;
}
