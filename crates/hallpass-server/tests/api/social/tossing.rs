//! Cookie tossing under https: a sibling subdomain can plant `__Secure-` cookies, never
//! `__Host-` ones. The transaction cookie is `__Host-hallpass_oauth` (`Path=/`), so a planted
//! transaction (the attacker's own, carried into the victim's callback: login CSRF) is not read,
//! and a token-mode login's refresh cookie comes with its `__Host-` companion.

use super::*;
use crate::helpers::{cookie_header, has_attribute, set_cookie_named, set_cookies};

const HTTPS_URL: &str = "https://hallpass.test";
const HTTPS_APP: &str = "https://app.hallpass.test";

/// An https hallpass with the test provider as `corp`.
async fn setup_https() -> (TestApp, TestProvider) {
    let provider = TestProvider::start(&format!("{HTTPS_URL}/v1/oauth/corp/callback")).await;
    let settings = provider_settings(&provider);
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.public_url = HTTPS_URL.to_owned();
        s.providers.insert("corp".to_owned(), settings);
        s.allowed_origins = vec![HTTPS_APP.to_owned()];
    })
    .await;
    (app, provider)
}

fn sets_a_session(response: &reqwest::Response) -> bool {
    set_cookie_named(response, "__Host-hallpass_session").is_some_and(|c| !c.contains("Max-Age=0"))
}

#[tokio::test]
async fn under_https_a_planted_transaction_cookie_signs_nobody_in() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup_https().await;
    let authorize = app
        .client
        .get(app.url("/v1/oauth/corp/authorize"))
        .send()
        .await
        .unwrap();
    let cookie = set_cookie_named(&authorize, "__Host-hallpass_oauth").expect("a __Host- cookie");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(has_attribute(&cookie, flag), "{flag}: {cookie}");
    }
    assert!(!cookie.contains("Domain"), "{cookie}");

    // Mallory starts a login in her own browser, and her sibling site plants her transaction
    // into the victim's under the name it can set; the victim's browser then opens her callback.
    let mallory = start(&app, &provider, "", "mallory").await;
    let sealed = mallory.cookie.trim_start_matches("__Host-hallpass_oauth=");
    for planted in [
        format!("__Secure-hallpass_oauth={sealed}"),
        format!("hallpass_oauth={sealed}"),
    ] {
        let response = finish(&app, Some(&planted), &mallory.callback).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{planted}");
        assert!(!sets_a_session(&response), "{planted}");
    }
    assert_eq!(users(&app).await, 0, "nobody was signed in or created");

    // The planted copies spent nothing: in her own browser, the login completes.
    let done = finish(&app, Some(&mallory.cookie), &mallory.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    assert!(sets_a_session(&done));
}

#[tokio::test]
async fn under_https_a_single_page_app_signs_in_with_a_bound_refresh_cookie() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup_https().await;
    let query = format!(
        "?mode=token&return_to={}",
        urlencode(&format!("{HTTPS_APP}/"))
    );
    let started = start(&app, &provider, &query, "erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let refresh = set_cookie_named(&done, "__Secure-hallpass_refresh").expect("refresh cookie");
    let companion =
        set_cookie_named(&done, "__Host-hallpass_refresh_binding").expect("its companion");
    assert!(has_attribute(&refresh, "Path=/v1/token") && has_attribute(&refresh, "Secure"));
    assert!(has_attribute(&companion, "Path=/") && has_attribute(&companion, "Secure"));
    assert!(set_cookies(&done).iter().all(|c| !c.contains("Domain")));

    let refresh = |cookie: String| {
        app.client
            .post(app.url("/v1/token"))
            .header(header::COOKIE, cookie)
            .header(header::ORIGIN, HTTPS_APP)
            .json(&json!({ "grant_type": "refresh_token", "refresh_token_delivery": "cookie" }))
            .send()
    };
    let jar = cookie_header(&done);
    let tokens: Value = refresh(jar.clone()).await.unwrap().json().await.unwrap();
    let access = tokens["access_token"].as_str().expect("an access token");
    let me: Value = app
        .bearer(reqwest::Method::GET, "/v1/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "erin");

    // The refresh cookie alone, as a sibling could plant it, signs nobody in.
    let alone = jar
        .split("; ")
        .find(|p| p.starts_with("__Secure-hallpass_refresh="))
        .unwrap()
        .to_owned();
    let refused = refresh(alone).await.unwrap();
    crate::helpers::oauth_error(refused, StatusCode::BAD_REQUEST, "invalid_grant").await;
}
