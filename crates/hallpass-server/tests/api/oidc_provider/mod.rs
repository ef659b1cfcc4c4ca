//! A real OpenID provider for the social-login tests: `tests/oidc-provider/provider.mjs` (npm
//! `oidc-provider`) run by node on an ephemeral port, and a headless browser for its development
//! login and consent pages.
//!
//! The tests that use it run only with `HALLPASS_TEST_OIDC=1` (which needs node and
//! `npm ci` in `crates/hallpass-server/tests/oidc-provider`); otherwise they skip.

use std::{
    collections::HashMap,
    path::Path,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use reqwest::{StatusCode, header};
use serde_json::{Value, json};
use sha2::Digest;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};
use url::Url;

/// The folder with `provider.mjs`, its `package.json` and lockfile.
mod self_test;

const PROVIDER_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/oidc-provider");
/// How long node may take to print `READY` (the machine may be busy compiling).
const READY_TIMEOUT: Duration = Duration::from_secs(30);
/// A bound on every HTTP request to the provider.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Whether the OIDC tests run: only with `HALLPASS_TEST_OIDC=1` (CI sets it; unlike the database
/// backends, `HALLPASS_TEST_REQUIRE_BACKENDS=1` does not demand it). Asked for but not installed
/// fails.
pub(crate) fn oidc_available() -> bool {
    if std::env::var("HALLPASS_TEST_OIDC").as_deref() != Ok("1") {
        eprintln!(
            "skipping: HALLPASS_TEST_OIDC is not 1 (it needs node and `npm ci` in \
             crates/hallpass-server/tests/oidc-provider)"
        );
        return false;
    }
    let module = Path::new(PROVIDER_DIR).join("node_modules/oidc-provider");
    assert!(
        module.is_dir(),
        "HALLPASS_TEST_OIDC=1 but {} is missing: run npm ci in crates/hallpass-server/tests/oidc-provider",
        module.display()
    );
    true
}

/// A running test provider: its issuer and two confidential clients registered for one redirect
/// URI. The node process dies with this value (and, should the test process itself die, when its
/// stdin pipe closes).
pub(crate) struct TestProvider {
    /// `http://127.0.0.1:<port>`, without a trailing slash (exactly the discovery `issuer`).
    pub(crate) issuer: String,
    /// A client that authenticates at the token endpoint with HTTP Basic (`client_secret_basic`).
    pub(crate) client_id: String,
    pub(crate) client_secret: String,
    /// A second client that sends its secret in the form body (`client_secret_post`, as Kakao
    /// wants); a distinct `aud`.
    pub(crate) post_client_id: String,
    pub(crate) post_client_secret: String,
    /// The one redirect URI both clients may use.
    pub(crate) redirect_uri: String,
    http: reqwest::Client,
    /// Holds node's stdin pipe open; killed on drop.
    _child: Child,
}

impl TestProvider {
    /// Starts `node provider.mjs` on a free port with both clients allowed `redirect_uri`, and
    /// waits (bounded) for it to serve.
    pub(crate) async fn start(redirect_uri: &str) -> TestProvider {
        Self::start_with(redirect_uri, false).await
    }

    /// As [`TestProvider::start`]; with `advertise_hs256` the discovery document lists HS256
    /// among the ID-token algorithms (a relying party that trusts that list would accept an ID
    /// token MAC'd with its client secret).
    pub(crate) async fn start_with(redirect_uri: &str, advertise_hs256: bool) -> TestProvider {
        let flags: &[&str] = if advertise_hs256 {
            &["--advertise-hs256"]
        } else {
            &[]
        };
        Self::launch(redirect_uri, flags).await
    }

    /// As [`TestProvider::start`], for a provider that lets an authorization code be exchanged
    /// any number of times (a relying party must not rely on the provider's single use).
    pub(crate) async fn start_allowing_code_reuse(redirect_uri: &str) -> TestProvider {
        Self::launch(redirect_uri, &["--allow-code-reuse"]).await
    }

    async fn launch(redirect_uri: &str, flags: &[&str]) -> TestProvider {
        let client_id = "hallpass-rp".to_owned();
        let post_client_id = "hallpass-rp-post".to_owned();
        let client_secret = format!("secret-{}", uuid::Uuid::new_v4().simple());
        let post_client_secret = format!("secret-{}", uuid::Uuid::new_v4().simple());
        let clients = [
            json!({
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "basic",
            }),
            json!({
                "client_id": post_client_id,
                "client_secret": post_client_secret,
                "redirect_uris": [redirect_uri],
                "token_endpoint_auth_method": "post",
            }),
        ];

        let mut command = Command::new("node");
        command
            .arg("provider.mjs")
            .args(["--port", "0"])
            .current_dir(PROVIDER_DIR)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        for client in &clients {
            command.arg("--client").arg(client.to_string());
        }
        command.args(flags);
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run node for the test OpenID provider: {e}"));

        // stderr: collected for failure messages and passed on (minus oidc-provider's three
        // start-up warnings) to the test's captured output.
        let stderr_text = Arc::new(Mutex::new(String::new()));
        let mut stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        let collected = Arc::clone(&stderr_text);
        let stderr_task = tokio::spawn(async move {
            while let Ok(Some(line)) = stderr.next_line().await {
                if !line.starts_with("oidc-provider WARNING") {
                    eprintln!("[oidc-provider] {line}");
                }
                let mut text = collected.lock().unwrap();
                text.push_str(&line);
                text.push('\n');
            }
        });

        let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let ready = tokio::time::timeout(READY_TIMEOUT, async {
            while let Some(line) = stdout.next_line().await.ok().flatten() {
                if let Some(issuer) = line.strip_prefix("READY ") {
                    return Some(issuer.trim().to_owned());
                }
                eprintln!("[oidc-provider] {line}");
            }
            None
        })
        .await;
        let issuer = match ready {
            Ok(Some(issuer)) => issuer,
            Ok(None) => {
                let status = tokio::time::timeout(Duration::from_secs(5), child.wait()).await;
                let _ = tokio::time::timeout(Duration::from_secs(5), stderr_task).await;
                panic!(
                    "the test OpenID provider exited before READY ({status:?}); stderr:\n{}",
                    stderr_text.lock().unwrap()
                );
            }
            Err(_) => panic!(
                "the test OpenID provider printed no READY within {READY_TIMEOUT:?}; stderr:\n{}",
                stderr_text.lock().unwrap()
            ),
        };
        // Keep draining stdout so that a stray write never blocks node.
        tokio::spawn(async move {
            while let Ok(Some(line)) = stdout.next_line().await {
                eprintln!("[oidc-provider] {line}");
            }
        });

        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(HTTP_TIMEOUT)
            .build()
            .unwrap();
        TestProvider {
            issuer,
            client_id,
            client_secret,
            post_client_id,
            post_client_secret,
            redirect_uri: redirect_uri.to_owned(),
            http,
            _child: child,
        }
    }

    /// Makes every ID token issued from now on carry these overrides, re-signed: any of `aud`,
    /// `iss`, `exp`, `nonce` (or another claim; `null` removes it) and `alg` (`"RS256"`, the
    /// default, with the provider's own published key; `"HS256"` with the client's secret;
    /// `"none"`). `json!({})` goes back to honest tokens.
    pub(crate) async fn tamper(&self, overrides: Value) {
        let Value::Object(overrides) = overrides else {
            panic!("tamper takes a JSON object, not {overrides}");
        };
        let response = self
            .http
            .post(format!("{}/__test/tamper", self.issuer))
            .json(&overrides)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(
            status,
            StatusCode::NO_CONTENT,
            "tamper {overrides:?}: {body}"
        );
    }

    /// Plays the user's browser at the provider: opens `authorize_url` (the provider's
    /// authorization endpoint with the relying party's parameters), signs in as `login` (any
    /// name works: sub `sub-<login>`, email `<login>@example.test`, verified unless the login
    /// starts with `unverified`) and consents. Returns where the provider then sends the browser,
    /// the relying party's callback with `code`, `state` and `iss` (or `error`), without
    /// requesting it.
    ///
    /// Each call is a fresh browser (its own cookie jar), so the provider always asks for the
    /// login. Redirects within the provider's origin are followed; the first one elsewhere ends
    /// the journey.
    pub(crate) async fn log_in(&self, authorize_url: &str, login: &str) -> Url {
        let origin = Url::parse(&self.issuer).unwrap().origin();
        let browser = reqwest::Client::builder()
            .cookie_store(true)
            .timeout(HTTP_TIMEOUT)
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                if attempt.previous().len() > 10 {
                    attempt.error("more than 10 redirects within the test OpenID provider")
                } else if attempt.url().origin() == origin {
                    attempt.follow()
                } else {
                    attempt.stop()
                }
            }))
            .build()
            .unwrap();

        let mut response = browser.get(authorize_url).send().await.unwrap();
        // Login, then consent; a redirect out of the provider (the callback) ends it early.
        for _ in 0..3 {
            let url = response.url().clone();
            let status = response.status();
            if status.is_redirection() {
                let location = response.headers()[header::LOCATION].to_str().unwrap();
                return url.join(location).unwrap();
            }
            let page = response.text().await.unwrap();
            assert_eq!(
                status,
                StatusCode::OK,
                "test OpenID provider at {url}:\n{page}"
            );
            let form: &[(&str, &str)] = if page.contains(r#"name="prompt" value="login""#) {
                &[
                    ("prompt", "login"),
                    ("login", login),
                    ("password", "any password will do"),
                ]
            } else if page.contains(r#"name="prompt" value="consent""#) {
                &[("prompt", "consent")]
            } else {
                panic!(
                    "test OpenID provider at {url}: neither a login nor a consent page:\n{page}"
                );
            };
            let action = form_action(&page).map_or(url.clone(), |a| url.join(a).unwrap());
            response = browser.post(action).form(form).send().await.unwrap();
        }
        panic!(
            "test OpenID provider: no redirect out after login and consent (at {})",
            response.url()
        );
    }
}

/// The `action` of the first form on an oidc-provider interaction page.
fn form_action(page: &str) -> Option<&str> {
    let start = page.find("<form")?;
    let rest = &page[start..];
    let rest = &rest[rest.find("action=\"")? + "action=\"".len()..];
    Some(&rest[..rest.find('"')?])
}
