//! Accounts: linking by a verified email, linking and unlinking from `/account`, the last way
//! in, a first password.

use super::*;

#[tokio::test]
async fn a_verified_email_links_only_to_an_account_a_provider_made() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|p| p.link_verified_email = true).await;
    // An account another provider made, with the address that provider verified.
    let made = hallpass_core::user::NewUser {
        id: hallpass_core::user::UserId(uuid::Uuid::new_v4()),
        username: hallpass_core::user::Username::parse("carol").unwrap(),
        email: Some(hallpass_core::user::Email::parse("carol@example.test").unwrap()),
        email_verified: true,
        roles: Vec::new(),
        password_hash: hallpass_core::password::PasswordHash::unusable(),
        created_at: time::OffsetDateTime::now_utc(),
    };
    let identity = hallpass_core::identity::NewIdentity {
        user: made.id,
        provider: hallpass_core::identity::ProviderName::parse("other").unwrap(),
        subject: hallpass_core::identity::Subject::parse("carol-elsewhere").unwrap(),
        email: made.email.clone(),
        created_at: made.created_at,
    };
    app.state
        .stores
        .identities
        .create_user_with_identity(&made, &identity)
        .await
        .unwrap();
    let started = start(&app, &provider, "", "carol").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let linked = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(
        linked["user"]["id"],
        made.id.0.to_string(),
        "linked by verified email"
    );

    // A password account never is: hallpass did not verify the address typed at signup, and
    // whoever typed it first would receive the provider's logins (pre-account takeover).
    let squatter = app
        .post_json(
            "/v1/signup",
            json!({ "username": "dave", "password": PASSWORD, "email": "dave@example.test" }),
        )
        .await;
    assert_eq!(squatter.status(), StatusCode::CREATED);
    let started = start(&app, &provider, "", "dave").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let separate = me(&app, &session_of(&done).unwrap()).await;
    assert_ne!(separate["user"]["username"], "dave");

    // An address the provider did not verify is neither linked nor kept on the new account.
    let started = start(&app, &provider, "", "unverified-erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    let erin = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(erin["user"]["email"], Value::Null);
}

#[tokio::test]
async fn a_logged_in_user_links_and_unlinks_but_never_the_last_way_in() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    app.signup("alice").await;
    let alice = app.login("alice").await;
    let account = app
        .page("/account", Some(&alice))
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("data-testid=\"link-corp\""), "{account}");

    // Linking needs a session.
    let stranger = app
        .client
        .get(app.url("/v1/oauth/corp/authorize?link=1"))
        .send()
        .await
        .unwrap();
    assert_eq!(stranger.headers()[header::LOCATION], "/login");

    let started = start_as(
        &app,
        &provider,
        "?link=1&next=/account",
        "alice-at-corp",
        Some(&alice.cookie),
    )
    .await;
    let both = format!("{}; {}", alice.cookie, started.cookie);
    let done = finish(&app, Some(&both), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/account");
    assert!(
        session_of(&done).is_none(),
        "the linking session stays as it is"
    );
    assert_eq!(app.me(&alice).await, StatusCode::OK);
    let account = app
        .page("/account", Some(&alice))
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("data-testid=\"unlink-corp\""), "{account}");

    // Logging in with the provider now reaches Alice's account.
    let via = start(&app, &provider, "", "alice-at-corp").await;
    let done = finish(&app, Some(&via.cookie), &via.callback).await;
    let me_via = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(me_via["user"]["username"], "alice");

    // The same provider account cannot be linked to a second user.
    app.signup("bob").await;
    let bob = app.login("bob").await;
    let again = start_as(
        &app,
        &provider,
        "?link=1",
        "alice-at-corp",
        Some(&bob.cookie),
    )
    .await;
    let both = format!("{}; {}", bob.cookie, again.cookie);
    let refused = finish(&app, Some(&both), &again.callback).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);

    // Alice has a password: she may unlink.
    let unlinked = app
        .post_form(
            "/account/identities/corp/unlink",
            &alice,
            &[("csrf_token", &alice.csrf)],
        )
        .await;
    assert_eq!(unlinked.status(), StatusCode::OK);
    assert!(unlinked.text().await.unwrap().contains("no longer linked"));

    // An account made by the provider has no password: its only way in stays.
    let carol = start(&app, &provider, "", "carol").await;
    let done = finish(&app, Some(&carol.cookie), &carol.callback).await;
    let session = session_of(&done).unwrap();
    let page = app
        .get_with("/account", &session)
        .await
        .text()
        .await
        .unwrap();
    let csrf = crate::pages::hidden_token(&page);
    let unlink = [("csrf_token", csrf.as_str())];
    let refused = post_page(&app, &session, "/account/identities/corp/unlink", &unlink).await;
    assert_eq!(refused.status(), StatusCode::CONFLICT);
    assert!(refused.text().await.unwrap().contains("only way to log in"));
    assert_eq!(me(&app, &session).await["user"]["username"], "carol");

    // Carol sets a first password (there is no current one to give), then may unlink.
    assert!(page.contains("Set a password") && !page.contains("id=\"current_password\""));
    let fields = [("new_password", PASSWORD), ("csrf_token", csrf.as_str())];
    let set = post_page(&app, &session, "/account/password", &fields).await;
    assert_eq!(set.status(), StatusCode::OK);
    assert_eq!(
        app.try_login("carol", PASSWORD).await.status(),
        StatusCode::OK
    );
    let unlinked = post_page(&app, &session, "/account/identities/corp/unlink", &unlink).await;
    assert_eq!(unlinked.status(), StatusCode::OK);
}

/// An account as another provider made it (no password), with this address.
fn provider_made(username: &str, email: &str, age: time::Duration) -> hallpass_core::user::NewUser {
    hallpass_core::user::NewUser {
        id: hallpass_core::user::UserId(uuid::Uuid::new_v4()),
        username: hallpass_core::user::Username::parse(username).unwrap(),
        email: Some(hallpass_core::user::Email::parse(email).unwrap()),
        email_verified: true,
        roles: Vec::new(),
        password_hash: hallpass_core::password::PasswordHash::unusable(),
        created_at: time::OffsetDateTime::now_utc() - age,
    }
}

#[tokio::test]
async fn a_verified_email_links_to_its_exact_address_among_many_that_contain_it() {
    if !oidc_available() {
        return;
    }
    let provider = TestProvider::start(&redirect_uri()).await;
    for backend in backends() {
        let app = app_for(&provider, backend, |p| p.link_verified_email = true).await;
        // Sixty older accounts whose addresses contain alice's, made first so that any search
        // ordered by age finds them before hers.
        for i in 0..60 {
            let email = match i % 3 {
                0 => format!("x{i}alice@example.test"),
                1 => format!("alice@example.test.evil{i}"),
                _ => format!("{i}.alice@example.test"),
            };
            let decoy = provider_made(&format!("decoy-{i}"), &email, time::Duration::days(2));
            let identity = hallpass_core::identity::NewIdentity {
                user: decoy.id,
                provider: hallpass_core::identity::ProviderName::parse("other").unwrap(),
                subject: hallpass_core::identity::Subject::parse(&format!("decoy-{i}")).unwrap(),
                email: decoy.email.clone(),
                created_at: decoy.created_at,
            };
            app.state
                .stores
                .identities
                .create_user_with_identity(&decoy, &identity)
                .await
                .unwrap();
        }
        // Hers, in another case: addresses compare with ASCII case folded.
        let real = provider_made(
            "alice-elsewhere",
            "Alice@Example.TEST",
            time::Duration::days(1),
        );
        let identity = hallpass_core::identity::NewIdentity {
            user: real.id,
            provider: hallpass_core::identity::ProviderName::parse("other").unwrap(),
            subject: hallpass_core::identity::Subject::parse("alice-elsewhere").unwrap(),
            email: real.email.clone(),
            created_at: real.created_at,
        };
        app.state
            .stores
            .identities
            .create_user_with_identity(&real, &identity)
            .await
            .unwrap();

        let started = start(&app, &provider, "", "alice").await;
        let done = finish(&app, Some(&started.cookie), &started.callback).await;
        let linked = me(&app, &session_of(&done).unwrap()).await;
        assert_eq!(
            linked["user"]["id"],
            real.id.0.to_string(),
            "{backend:?}: linked to the exact address, not a new account"
        );
        assert_eq!(users(&app).await, 61, "{backend:?}: no duplicate account");
    }
}
