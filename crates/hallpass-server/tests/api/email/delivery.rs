//! The outbox: mail promised while the SMTP server is down arrives once it is back; a refusal
//! is given up on visibly; a node killed mid-delivery loses nothing; two nodes draining one
//! outbox send each mail once; with no SMTP server, mail lands in the mail folder.

use std::{
    collections::HashSet,
    process::{Command, Stdio},
    time::{Duration, Instant},
};

use reqwest::StatusCode;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use super::{signup_with_email, verified_user};
use crate::helpers::{
    Backend, PASSWORD, PUBLIC_URL, SmtpSink, eventually_within, postgres_available, spawn_app,
    spawn_app_with, spawn_app_with_mail, start,
};

#[tokio::test]
async fn mail_promised_during_an_smtp_outage_arrives_once_when_it_is_back() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    verified_user(&app, &sink, "nina", "nina@example.com").await;
    let port = sink.port;
    sink.stop();

    let started = Instant::now();
    let response = app
        .post_json("/v1/password/forgot", json!({ "login": "nina" }))
        .await;
    assert_eq!(response.status(), StatusCode::ACCEPTED);
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "the API does not wait on SMTP"
    );
    // The worker tried, failed, and scheduled a retry on the injected clock.
    let store = app.state.stores.outbox.clone();
    eventually_within("a failed attempt", Duration::from_secs(5), || async {
        app.metrics()
            .await
            .contains("hallpass_mail_deliveries_total{state=\"retry\"} 1")
    })
    .await;
    assert_eq!(store.outbox_counts().await.unwrap().pending, 1);

    let sink = SmtpSink::start_on(port).unwrap();
    // Not before the backoff (30 s on the injected clock) is over...
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sink.received().is_empty());
    app.advance(time::Duration::seconds(31));
    let mails = sink.wait_for("nina@example.com", 1).await;
    assert_eq!(mails[0].header("subject"), "Reset your password");
    // ...and once: later polls find nothing more to send.
    app.advance(time::Duration::hours(2));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sink.received().len(), 1);
    let counts = store.outbox_counts().await.unwrap();
    assert_eq!((counts.pending, counts.failed), (0, 0), "{counts:?}");
}

#[tokio::test]
async fn a_refused_mail_is_given_up_on_and_shows_in_metrics_audit_and_console() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let app = spawn_app_with_mail(Backend::Sqlite, &sink, |_| {}).await;
    signup_with_email(&app, "oscar", "reject-oscar@example.com").await;
    eventually_within("the refusal", Duration::from_secs(5), || async {
        app.state
            .stores
            .outbox
            .outbox_counts()
            .await
            .unwrap()
            .failed
            == 1
    })
    .await;
    assert!(
        app.metrics()
            .await
            .contains("hallpass_mail_deliveries_total{state=\"failed\"} 1")
    );
    assert!(
        app.metrics()
            .await
            .contains("hallpass_outbox_mails{state=\"failed\"} 1")
    );
    let admin = app.admin("root").await;
    let audit: serde_json::Value = app
        .get_with("/v1/admin/audit?kind=mail_failed", &admin.cookie)
        .await
        .json()
        .await
        .unwrap();
    let detail = audit["events"][0]["detail"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        detail.contains("reject-oscar@example.com") && detail.contains("550"),
        "{audit}"
    );
    let console = app
        .page("/admin/audit?kind=mail_failed", Some(&admin))
        .await
        .text()
        .await
        .unwrap();
    assert!(console.contains("reject-oscar@example.com"));
}

/// An SMTP server that takes a whole mail and never answers its end: the sending node is stuck
/// "while delivering". Reports each received mail on the channel.
async fn stalling_smtp() -> (u16, tokio::sync::mpsc::UnboundedReceiver<()>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let tx = tx.clone();
            tokio::spawn(async move {
                let (read, mut write) = stream.into_split();
                let mut lines = BufReader::new(read).lines();
                write.write_all(b"220 stall ESMTP\r\n").await.ok();
                let mut in_data = false;
                while let Ok(Some(line)) = lines.next_line().await {
                    if in_data {
                        if line == "." {
                            let _ = tx.send(());
                            // Never "250": hold the connection until the peer goes away.
                            in_data = false;
                        }
                        continue;
                    }
                    let verb = line
                        .split_whitespace()
                        .next()
                        .unwrap_or("")
                        .to_ascii_uppercase();
                    let reply: &[u8] = match verb.as_str() {
                        "EHLO" | "HELO" => b"250 stall\r\n",
                        "DATA" => {
                            in_data = true;
                            b"354 go on\r\n"
                        }
                        "QUIT" => b"221 bye\r\n",
                        _ => b"250 OK\r\n",
                    };
                    write.write_all(reply).await.ok();
                }
            });
        }
    });
    (port, rx)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[tokio::test]
async fn a_node_killed_while_delivering_loses_nothing_and_the_mail_goes_out_once() {
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let (stall_port, mut stalled) = stalling_smtp().await;
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hallpass.db").display());
    let port = free_port();
    // The real binary, so it can be SIGKILLed mid-conversation.
    let mut node = Command::new(env!("CARGO_BIN_EXE_hallpass"))
        .arg("serve")
        .env("HALLPASS_DATABASE_URL", &db)
        .env("HALLPASS_LISTEN", format!("127.0.0.1:{port}"))
        .env("HALLPASS_PUBLIC_URL", PUBLIC_URL)
        .env("HALLPASS_ARGON2_M_COST", "256")
        .env("HALLPASS_ARGON2_T_COST", "1")
        .env(
            "HALLPASS_EMAIL_SMTP_URL",
            format!("smtp://127.0.0.1:{stall_port}"),
        )
        .env("HALLPASS_EMAIL_FROM", "no-reply@hallpass.test")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let client = reqwest::Client::new();
    let base = format!("http://127.0.0.1:{port}");
    eventually_within("the node to start", Duration::from_secs(20), || async {
        client.get(format!("{base}/healthz")).send().await.is_ok()
    })
    .await;
    let response = client
        .post(format!("{base}/v1/signup"))
        .json(&json!({ "username": "pia", "password": PASSWORD, "email": "pia@example.com" }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    tokio::time::timeout(Duration::from_secs(10), stalled.recv())
        .await
        .expect("the node sent the whole mail")
        .unwrap();
    node.kill().unwrap(); // SIGKILL, mid-delivery: the mail is sent but not acknowledged
    node.wait().unwrap();

    // Another node on the same database and secret: the dead node's claim holds until its
    // lease (4 × smtp_timeout = 2 min) lapses, then the mail goes out, once.
    let mut settings = crate::helpers::test_settings(&dir);
    settings.email.smtp_url = Some(sink.url());
    let clock = std::sync::Arc::new(hallpass_core::clock::ManualClock::new(
        time::OffsetDateTime::now_utc(),
    ));
    let survivor = start(settings, clock, dir).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert!(sink.received().is_empty(), "not while the claim holds");
    survivor.advance(time::Duration::minutes(3));
    let mails = sink.wait_for("pia@example.com", 1).await;
    assert_eq!(mails[0].header("subject"), "Confirm your email address");
    survivor.advance(time::Duration::minutes(10));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(sink.received().len(), 1);
}

#[tokio::test]
async fn two_nodes_draining_one_outbox_send_each_mail_once() {
    if !postgres_available() {
        return;
    }
    let Some(sink) = SmtpSink::start() else {
        return;
    };
    let url = sink.url();
    let one = spawn_app_with(Backend::Postgres, move |s| s.email.smtp_url = Some(url)).await;
    let two = one.another_node().await;
    // Each node queues half; both drain the whole outbox.
    for i in 0..40 {
        let node = if i % 2 == 0 { &one } else { &two };
        signup_with_email(node, &format!("user{i}"), &format!("user{i}@example.com")).await;
    }
    eventually_within("40 mails", Duration::from_secs(15), || async {
        sink.received().len() >= 40
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mails = sink.received();
    let ids: HashSet<&str> = mails.iter().map(|m| m.header("message-id")).collect();
    assert_eq!((mails.len(), ids.len()), (40, 40), "every mail once");
}

#[tokio::test]
async fn with_no_smtp_server_mail_lands_in_the_mail_folder() {
    let app = spawn_app().await;
    signup_with_email(&app, "quinn", "quinn@example.com").await;
    let folder = app.dir.path().join("mail");
    let mut found = None;
    eventually_within("a .eml file", Duration::from_secs(5), || {
        found = std::fs::read_dir(&folder).ok().and_then(|entries| {
            entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|x| x == "eml"))
        });
        let done = found.is_some();
        async move { done }
    })
    .await;
    let eml = std::fs::read_to_string(found.unwrap()).unwrap();
    assert!(eml.contains("To: quinn@example.com"), "{eml}");
    assert!(eml.contains("multipart/alternative"));
    // Quoted-printable may fold the link; the token's prefix survives on one line.
    assert!(
        eml.contains("/verify?token=3Dhp_et_") || eml.contains("/verify?token=hp_et_"),
        "{eml}"
    );
}
