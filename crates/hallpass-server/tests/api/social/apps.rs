//! Where providers show and what a login gives: the login page and the providers list, and
//! token mode for single-page apps.

use super::*;

#[tokio::test]
async fn the_login_page_offers_the_configured_providers() {
    if !oidc_available() {
        return;
    }
    let (app, _provider) = setup(|p| p.display_name = Some("Corp SSO".to_owned())).await;
    let html = app.page("/login", None).await.text().await.unwrap();
    assert!(
        html.contains("/v1/oauth/corp/authorize") && html.contains("Corp SSO"),
        "{html}"
    );
    // And to apps, as JSON an allowed origin may read.
    let listed = app
        .client
        .get(app.url("/v1/oauth/providers"))
        .header(header::ORIGIN, APP)
        .send()
        .await
        .unwrap();
    assert_eq!(listed.headers()[header::ACCESS_CONTROL_ALLOW_ORIGIN], APP);
    let listed: Value = listed.json().await.unwrap();
    assert_eq!(
        listed,
        json!({ "providers": [{ "name": "corp", "display_name": "Corp SSO" }] })
    );
}

#[tokio::test]
async fn a_single_page_app_signs_in_with_tokens_and_no_token_in_any_url() {
    if !oidc_available() {
        return;
    }
    let (app, provider) = setup(|_| {}).await;
    let return_to = format!("{APP}/signed-in?x=1");
    let query = format!("?mode=token&return_to={}", urlencode(&return_to));
    let started = start(&app, &provider, &query, "erin").await;
    let done = finish(&app, Some(&started.cookie), &started.callback).await;
    assert_eq!(done.status(), StatusCode::SEE_OTHER);
    let location = done.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(location, return_to, "back to the app, with nothing added");
    assert!(session_of(&done).is_none(), "no page session in token mode");
    let refresh = done
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|c| c.starts_with("hallpass_refresh=") && !c.starts_with("hallpass_refresh=;"))
        .expect("the refresh cookie");
    assert!(
        refresh.contains("HttpOnly") && refresh.contains("Path=/v1/token"),
        "{refresh}"
    );
    // The browser sends back the refresh cookie and its companion.
    let refresh = crate::helpers::cookie_header(&done);

    // The app signs in by refreshing through the cookie, as the SDK's restore() does.
    let tokens: Value = app
        .client
        .post(app.url("/v1/token"))
        .header(header::COOKIE, &refresh)
        .header(header::ORIGIN, APP)
        .json(&json!({ "grant_type": "refresh_token", "refresh_token_delivery": "cookie" }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access = tokens["access_token"].as_str().expect("an access token");
    let me: Value = app
        .bearer(reqwest::Method::GET, "/v1/me", access)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["username"], "erin");
    assert_eq!(me["session"]["kind"], "token");

    // Only an allowed origin may be returned to, and token mode needs one.
    for query in [
        format!("?mode=token&return_to={}", urlencode("https://evil.test/")),
        format!(
            "?mode=token&return_to={}",
            urlencode("http://app.hallpass.test.evil.test/")
        ),
        format!(
            "?mode=token&return_to={}",
            urlencode("http://user@app.hallpass.test/")
        ),
        "?mode=token".to_owned(),
        "?mode=magic".to_owned(),
    ] {
        let response = app
            .client
            .get(app.url(&format!("/v1/oauth/corp/authorize{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{query}");
        assert!(
            !response.headers().contains_key(header::SET_COOKIE),
            "{query}"
        );
    }
}
