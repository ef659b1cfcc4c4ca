//! The callback: what a login must bring back, and everything it must not.

use super::*;

#[tokio::test]
async fn a_first_login_creates_the_account_and_later_ones_find_it() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "?next=/demo/board", "alice").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert_eq!(done.headers()[header::LOCATION], "/demo/board");
    let session = session_of(&done).expect("a session cookie");
    let first = me(&app, &session).await;
    assert_eq!(first["user"]["username"], "alice");
    assert_eq!(first["user"]["email"], "alice@example.test");
    assert_eq!(first["session"]["kind"], "cookie");

    let again = start(&app, &provider, "", "alice").await;
    let done = finish(&app, Some(&again.cookie), &again.callback).await;
    assert_eq!(done.headers()[header::LOCATION], "/account");
    let second = me(&app, &session_of(&done).unwrap()).await;
    assert_eq!(
        second["user"]["id"], first["user"]["id"],
        "the same account"
    );
    // No password was set: the account cannot log in with one.
    let attempt = app.try_login("alice", "").await;
    assert_eq!(attempt.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_callback_without_this_browsers_transaction_or_state_is_refused() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "", "alice").await;
    // Another browser (no pending cookie): login CSRF / fixation across users.
    let stranger = finish(&app, None, &started.callback).await;
    assert_eq!(stranger.status(), StatusCode::BAD_REQUEST);
    let csp = stranger.headers()[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'"),
        "error pages carry the page headers: {csp}"
    );
    assert!(
        !stranger
            .headers()
            .contains_key(header::ACCESS_CONTROL_ALLOW_CREDENTIALS)
    );
    assert!(session_of(&stranger).is_none());
    // Missing and wrong state.
    let without_state: String = started
        .callback
        .split('&')
        .filter(|p| !p.starts_with("state=") && !p.contains("?state="))
        .collect::<Vec<_>>()
        .join("&");
    let wrong_state = started.callback.replace("state=", "state=x");
    for callback in [without_state.as_str(), wrong_state.as_str()] {
        let response = finish(&app, Some(&started.cookie), callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{callback}");
        assert!(session_of(&response).is_none());
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("state does not match")
        );
    }
    // A tampered transaction cookie.
    let forged = format!("{}x", started.cookie);
    let response = finish(&app, Some(&forged), &started.callback).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(users(&app).await, 0, "nothing was created");
}

#[tokio::test]
async fn a_replayed_code_and_another_logins_verifier_are_refused() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let first = start(&app, &provider, "", "alice").await;
    let done = finish(&app, Some(&first.cookie), &first.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let replayed = finish(&app, Some(&first.cookie), &first.callback).await;
    assert_eq!(
        replayed.status(),
        StatusCode::BAD_REQUEST,
        "the transaction is spent"
    );
    assert!(replayed.text().await.unwrap().contains("completed already"));

    // The code of login A with the transaction (state, verifier) of login B: PKCE mismatch.
    let a = start(&app, &provider, "", "bob").await;
    let b = start(&app, &provider, "", "bob").await;
    let code_of_a = param(&a.callback, "code");
    let mixed = b.callback.replace(&param(&b.callback, "code"), &code_of_a);
    let response = finish(&app, Some(&b.cookie), &mixed).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(session_of(&response).is_none());
    assert!(
        response.text().await.unwrap().contains("refused the code"),
        "PKCE"
    );
}

#[tokio::test]
async fn id_tokens_with_the_wrong_nonce_audience_issuer_expiry_or_algorithm_are_refused() {
    if !oidc_available() {
        return;
    }
    // The provider advertises HS256: only hallpass's own list of algorithms refuses an ID token
    // MAC'd with the client secret.
    let (app, provider) = setup_with(true, |_| {}).await;
    for tamper in [
        json!({ "nonce": "not-the-one" }),
        json!({ "aud": "someone-else" }),
        json!({ "aud": [provider.client_id.clone(), "someone-else"] }),
        json!({ "iss": "http://127.0.0.1:1" }),
        json!({ "exp": 1_000_000 }),
        json!({ "alg": "none" }),
        json!({ "alg": "HS256" }),
    ] {
        provider.tamper(tamper.clone()).await;
        let started = start(&app, &provider, "", "mallory").await;
        let response = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{tamper}");
        assert!(session_of(&response).is_none(), "{tamper}");
        let page = response.text().await.unwrap();
        assert!(page.contains("ID token is not valid"), "{tamper}: {page}");
    }
    provider.tamper(json!({})).await;
    assert_eq!(users(&app).await, 0);
}

#[tokio::test]
async fn a_response_naming_another_issuer_or_none_is_refused() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let started = start(&app, &provider, "", "alice").await;
    let iss = param(&started.callback, "iss");
    let other = started.callback.replace(&iss, "http%3A%2F%2F127.0.0.1%3A1");
    let response = finish(&app, Some(&started.cookie), &other).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "mix-up");
    assert!(response.text().await.unwrap().contains("another issuer"));
    // The provider promises iss (RFC 9207), so a response without it is refused too. (A new
    // login: the refused callback spent the first one.)
    let started = start(&app, &provider, "", "alice").await;
    let iss = param(&started.callback, "iss");
    let without = started.callback.replace(&format!("&iss={iss}"), "");
    assert!(!without.contains("iss="), "{without}");
    let response = finish(&app, Some(&started.cookie), &without).await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST, "no iss");
    assert!(
        response
            .text()
            .await
            .unwrap()
            .contains("does not name its issuer")
    );
    assert_eq!(users(&app).await, 0);
}

#[tokio::test]
async fn next_only_ever_leads_to_a_path_on_hallpass() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    for evil in [
        "https://evil.test",
        "//evil.test",
        "/%2F%2Fevil.test",
        "/\\evil.test",
        "https:evil.test",
        "javascript:alert(1)",
    ] {
        let query = format!("?next={}", urlencode(evil));
        let started = start(&app, &provider, &query, "alice").await;
        let done = finish(&app, Some(&started.cookie), &started.callback).await;
        assert_eq!(done.headers()[header::LOCATION], "/account", "{evil}");
    }
}
