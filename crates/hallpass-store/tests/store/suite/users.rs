//! Accounts.

use hallpass_core::{
    password::PasswordHash,
    user::{Role, UserId, Username},
};
use hallpass_store::{StoreError, Stores, UserQuery, UserUpdate};
use uuid::Uuid;

use super::{T0, new_session, new_user, user};

pub(crate) async fn users_round_trip(stores: &Stores) {
    let new = new_user("Alice");
    let created = stores.users.create_user(&new).await.unwrap();
    assert_eq!(created.id, new.id);
    assert_eq!(created.username, "Alice");
    assert_eq!(created.email, new.email);
    assert_eq!(created.password_hash, new.password_hash);
    assert_eq!(created.created_at, T0);
    assert!(!created.disabled);
    assert!(created.roles.is_empty());

    let by_name = stores
        .users
        .user_by_username(&Username::parse("aLiCe").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, new.id);
    assert!(
        stores
            .users
            .user_by_id(UserId(Uuid::new_v4()))
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        stores
            .users
            .user_by_username(&Username::parse("bob").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn usernames_are_unique_case_insensitively(stores: &Stores) {
    user(stores, "Alice").await;
    let err = stores
        .users
        .create_user(&new_user("ALICE"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UsernameTaken), "{err:?}");
    assert_eq!(
        stores
            .users
            .list_users(&UserQuery {
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap()
            .len(),
        1
    );
}

pub(crate) async fn users_are_listed_searched_and_paged(stores: &Stores) {
    for name in ["carol", "Dave", "erin", "davina"] {
        user(stores, name).await;
    }
    let all = stores
        .users
        .list_users(&UserQuery {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.len(), 4);
    let search = UserQuery {
        search: Some("DAV".to_owned()),
        limit: 10,
        offset: 0,
    };
    let mut found: Vec<_> = stores
        .users
        .list_users(&search)
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    found.sort();
    assert_eq!(found, ["Dave", "davina"]);
    let by_email = UserQuery {
        search: Some("erin@example".to_owned()),
        limit: 10,
        offset: 0,
    };
    assert_eq!(stores.users.list_users(&by_email).await.unwrap().len(), 1);
    let page = UserQuery {
        search: None,
        limit: 2,
        offset: 3,
    };
    assert_eq!(stores.users.list_users(&page).await.unwrap().len(), 1);
}

pub(crate) async fn users_are_updated(stores: &Stores) {
    let id = user(stores, "frank").await;
    // Another administrator, so that disabling frank below leaves one (`LastAdministrator`).
    let peer = user(stores, "frank-peer").await;
    let admin = UserUpdate {
        roles: Some(vec![Role::admin()]),
        disabled: None,
    };
    stores.users.update_user(peer, &admin, T0).await.unwrap();
    let update = UserUpdate {
        roles: Some(vec![Role::admin()]),
        disabled: None,
    };
    let updated = stores
        .users
        .update_user(id, &update, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.roles, vec![Role::admin()]);
    assert!(!updated.disabled);
    let update = UserUpdate {
        roles: None,
        disabled: Some(true),
    };
    let updated = stores
        .users
        .update_user(id, &update, T0)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        updated.roles,
        vec![Role::admin()],
        "roles untouched when not given"
    );
    assert!(updated.disabled);
    let update = UserUpdate {
        roles: Some(vec![]),
        disabled: Some(false),
    };
    let updated = stores
        .users
        .update_user(id, &update, T0)
        .await
        .unwrap()
        .unwrap();
    assert!(updated.roles.is_empty() && !updated.disabled);
    assert!(
        stores
            .users
            .update_user(UserId(Uuid::new_v4()), &update, T0)
            .await
            .unwrap()
            .is_none()
    );
}

pub(crate) async fn password_hashes_are_replaced(stores: &Stores) {
    let id = user(stores, "grace").await;
    let hash = PasswordHash::from_phc("$argon2id$v=19$m=128,t=2,p=1$bmV3c2FsdA$new".to_owned());
    assert!(stores.users.set_password_hash(id, &hash).await.unwrap());
    assert_eq!(
        stores
            .users
            .user_by_id(id)
            .await
            .unwrap()
            .unwrap()
            .password_hash,
        hash
    );
    assert!(
        !stores
            .users
            .set_password_hash(UserId(Uuid::new_v4()), &hash)
            .await
            .unwrap()
    );
}

pub(crate) async fn deleting_a_user_deletes_their_sessions(stores: &Stores) {
    let id = user(stores, "heidi").await;
    let (session, token) = new_session(id, T0);
    stores
        .sessions
        .create_session(&session, None, T0)
        .await
        .unwrap();
    assert!(stores.users.delete_user(id, T0).await.unwrap());
    assert!(stores.users.user_by_id(id).await.unwrap().is_none());
    assert!(
        stores
            .sessions
            .session_by_token_hash(&token.hash())
            .await
            .unwrap()
            .is_none()
    );
    assert!(!stores.users.delete_user(id, T0).await.unwrap());
}
