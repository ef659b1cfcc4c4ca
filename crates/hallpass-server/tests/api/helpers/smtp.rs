//! A real SMTP server for the mail tests: `email/smtp_sink.py` (aiosmtpd) on loopback, which
//! parses each mail with Python's own email package and leaves it as JSON for the test to read.
//!
//! Needs a Python with aiosmtpd (`HALLPASS_TEST_PYTHON`, else `/usr/bin/python3`, else
//! `python3`); without one the tests skip, unless `HALLPASS_TEST_SMTP=1` (CI) makes that a failure.

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::Duration,
};

use serde_json::Value;
use tempfile::TempDir;

const SINK: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/api/email/smtp_sink.py");

/// A running SMTP sink. Stops when dropped.
pub(crate) struct SmtpSink {
    child: Child,
    pub(crate) port: u16,
    dir: TempDir,
}

/// A mail as the sink parsed it.
#[derive(Debug, Clone)]
pub(crate) struct ReceivedMail {
    pub(crate) rcpt_tos: Vec<String>,
    pub(crate) headers: serde_json::Map<String, Value>,
    pub(crate) content_type: String,
    pub(crate) parts: Vec<String>,
    pub(crate) text: String,
    pub(crate) html: String,
}

impl ReceivedMail {
    /// A header's value ("" if absent).
    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
    }

    /// The first link in the text part that starts with `prefix` (e.g. the public URL + `/reset`).
    pub(crate) fn link(&self, prefix: &str) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.starts_with(prefix))
            .unwrap_or_else(|| panic!("no link {prefix}… in {}", self.text))
            .to_owned()
    }

    /// The link's `token` query parameter.
    pub(crate) fn token(&self, prefix: &str) -> String {
        let link = self.link(prefix);
        link.split_once("token=")
            .map(|(_, t)| t.to_owned())
            .unwrap_or_else(|| panic!("no token in {link}"))
    }

    /// The six-digit code the text part carries.
    pub(crate) fn code(&self) -> String {
        self.text
            .split_whitespace()
            .find(|w| w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit()))
            .unwrap_or_else(|| panic!("no code in {}", self.text))
            .to_owned()
    }
}

fn python() -> PathBuf {
    if let Ok(python) = std::env::var("HALLPASS_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    let system = Path::new("/usr/bin/python3");
    if system.exists() {
        return system.to_owned();
    }
    PathBuf::from("python3")
}

fn available(python: &Path) -> bool {
    let ok = Command::new(python)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("HALLPASS_TEST_SMTP").as_deref() != Ok("1"),
            "HALLPASS_TEST_SMTP=1 but {} cannot import aiosmtpd",
            python.display()
        );
        eprintln!("skipping: no Python with aiosmtpd (set HALLPASS_TEST_PYTHON)");
    }
    ok
}

impl SmtpSink {
    /// A sink on a free port, or `None` (skip) when aiosmtpd is not installed.
    pub(crate) fn start() -> Option<Self> {
        let python = python();
        available(&python).then(|| Self::spawn(&python, 0, tempfile::tempdir().unwrap()))
    }

    /// A sink on `port` (to bring one back where a stopped one was), or `None` as [`Self::start`].
    pub(crate) fn start_on(port: u16) -> Option<Self> {
        let python = python();
        available(&python).then(|| Self::spawn(&python, port, tempfile::tempdir().unwrap()))
    }

    fn spawn(python: &Path, port: u16, dir: TempDir) -> Self {
        let mut child = Command::new(python)
            .arg(SINK)
            .arg(dir.path())
            .arg(port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("starting the SMTP sink");
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the SMTP sink said {line:?}"));
        Self { child, port, dir }
    }

    /// `smtp://127.0.0.1:PORT`, plain (the sink offers no STARTTLS).
    pub(crate) fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Every mail received so far, in arrival order.
    pub(crate) fn received(&self) -> Vec<ReceivedMail> {
        let mut names: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "json"))
            .collect();
        names.sort();
        names
            .iter()
            .map(|path| {
                let v: Value =
                    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
                ReceivedMail {
                    rcpt_tos: v["rcpt_tos"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect(),
                    headers: v["headers"].as_object().unwrap().clone(),
                    content_type: v["content_type"].as_str().unwrap().to_owned(),
                    parts: v["parts"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|r| r.as_str().unwrap().to_owned())
                        .collect(),
                    text: v["text"].as_str().unwrap_or_default().to_owned(),
                    html: v["html"].as_str().unwrap_or_default().to_owned(),
                }
            })
            .collect()
    }

    /// The mails to `to`, waiting (bounded) until there are at least `n`: delivery is a
    /// background worker's real I/O.
    pub(crate) async fn wait_for(&self, to: &str, n: usize) -> Vec<ReceivedMail> {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        loop {
            let mails: Vec<ReceivedMail> = self
                .received()
                .into_iter()
                .filter(|m| m.rcpt_tos.iter().any(|r| r.eq_ignore_ascii_case(to)))
                .collect();
            if mails.len() >= n {
                return mails;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{n} mail(s) to {to}: only {} within 10 s",
                mails.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Stops the server (its port refuses connections from now on).
    pub(crate) fn stop(mut self) {
        self.kill();
    }

    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.kill();
    }
}
