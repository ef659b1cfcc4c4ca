//! What a client can do with raw HTTP alone (issue 12): invent methods and paths, choose its
//! request id, and be refused before its body was read, on a kept-alive connection.

use std::time::Duration;

use reqwest::{Method, StatusCode};
use tokio::{io::AsyncWriteExt, net::TcpStream};

use crate::helpers::{TestApp, read_response, spawn_app};

/// The series of one metric family in a scrape.
fn series<'a>(text: &'a str, family: &str) -> Vec<&'a str> {
    text.lines().filter(|l| l.starts_with(family)).collect()
}

#[tokio::test]
async fn invented_methods_and_paths_add_no_metric_series() {
    let app = spawn_app().await;
    let app = &app;
    let invent = |round: usize| async move {
        for i in 0..20 {
            let method = Method::from_bytes(format!("X{round}M{i}").as_bytes()).unwrap();
            for path in [format!("/nope/{round}/{i}"), "/v1/me".to_owned()] {
                app.client
                    .request(method.clone(), app.url(&path))
                    .send()
                    .await
                    .unwrap();
            }
        }
    };
    invent(0).await;
    // (The first scrape adds its own series.)
    app.metrics().await;
    let before = app.metrics().await;
    invent(1).await;
    let after = app.metrics().await;
    for family in [
        "hallpass_http_requests_total",
        "hallpass_http_request_duration_seconds_count",
    ] {
        assert_eq!(
            series(&before, family).len(),
            series(&after, family).len(),
            "40 more invented methods and paths grew {family}:\n{after}"
        );
    }
    assert!(!after.contains("X1M"), "{after}");
    assert!(!after.contains("/nope"), "{after}");
    assert!(
        after.contains(r#"route="unmatched",method="other""#),
        "{after}"
    );
    assert!(
        after.contains(r#"route="/v1/me",method="other""#),
        "{after}"
    );
}

async fn request_id(app: &TestApp, sent: Option<&str>) -> String {
    let mut request = app.client.get(app.url("/healthz"));
    if let Some(id) = sent {
        request = request.header("x-request-id", id);
    }
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let ids: Vec<_> = response.headers().get_all("x-request-id").iter().collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    ids[0].to_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_request_id_is_kept_only_in_the_strict_shape() {
    let app = spawn_app().await;
    let minted = request_id(&app, None).await;
    assert!(uuid::Uuid::parse_str(&minted).is_ok(), "{minted}");
    for kept in [
        "0b9d4f9e-6a43-4b52-9a57-2f1c1c1a5e10",
        "edge-7f3a",
        &"a".repeat(64),
    ] {
        assert_eq!(request_id(&app, Some(kept)).await, kept);
    }
    for forged in [
        "abc level=error msg=\"admin logged in\"",
        "{\"user\":\"admin\"}",
        "id with spaces",
        "under_score",
        &"a".repeat(65),
    ] {
        let answered = request_id(&app, Some(forged)).await;
        assert!(
            uuid::Uuid::parse_str(&answered).is_ok(),
            "{forged:?} came back as {answered:?}"
        );
    }
    // Two ids: neither is trusted.
    let response = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "one")
        .header("x-request-id", "two")
        .send()
        .await
        .unwrap();
    let id = response.headers()["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok(), "{id}");
}

fn post(path: &str, content_type: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: hallpass.test\r\nContent-Type: {content_type}\r\n\
         Content-Length: {}\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_refusal_before_the_body_is_read_says_connection_close() {
    let app = spawn_app().await;
    // Each is refused without its body being read to the end: unauthenticated, wrong media type,
    // too large (refused once past the limit, with the rest still coming), unknown route.
    let refusals = [
        (post("/v1/logout", "application/json", "{}"), 401),
        (post("/v1/login", "text/plain", "hello"), 415),
        (
            format!(
                "POST /v1/login HTTP/1.1\r\nHost: hallpass.test\r\nContent-Type: application/json\r\n\
                 Content-Length: 100000\r\n\r\n{{\"username\":\"{}",
                "a".repeat(70_000)
            ),
            413,
        ),
        (post("/nope", "application/json", "{}"), 404),
    ];
    for (request, status) in refusals {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let (got, head, _) = read_response(&mut stream, Duration::from_secs(2)).await;
        assert_eq!(got, status, "{request}");
        assert!(
            head.lines().any(|l| l == "connection: close"),
            "{request}\n{head}"
        );
    }
}

#[tokio::test]
async fn an_answer_after_the_body_was_read_keeps_the_connection() {
    let app = spawn_app().await;
    app.signup("alice").await;
    let mut stream = TcpStream::connect(app.addr).await.unwrap();
    let body = r#"{"username":"alice","password":"wrong wrong wrong"}"#;
    for _ in 0..3 {
        stream
            .write_all(post("/v1/login", "application/json", body).as_bytes())
            .await
            .unwrap();
        let (status, head, _) = read_response(&mut stream, Duration::from_secs(2)).await;
        assert_eq!(status, 401);
        assert!(!head.contains("connection: close"), "{head}");
    }
    // A malformed body is read to its end before it is refused: the connection stays usable.
    stream
        .write_all(post("/v1/login", "application/json", "{not json").as_bytes())
        .await
        .unwrap();
    let (status, head, _) = read_response(&mut stream, Duration::from_secs(2)).await;
    assert_eq!(status, 400);
    assert!(!head.contains("connection: close"), "{head}");
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: hallpass.test\r\n\r\n")
        .await
        .unwrap();
    assert_eq!(
        read_response(&mut stream, Duration::from_secs(2)).await.0,
        200
    );
}
