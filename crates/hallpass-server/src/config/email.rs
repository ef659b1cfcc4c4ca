//! The `[email]` table: how mail leaves, and how long what it carries stays good (docs/email.md).

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::ConfigDuration;

/// Outgoing mail and the emailed flows.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmailSettings {
    /// `smtp://host:port` (STARTTLS when the server offers it; plain otherwise, for a local
    /// relay), `smtp://host:port?tls=required` (STARTTLS or fail), or `smtps://host:port`
    /// (implicit TLS). Credentials may ride in the URL or in `smtp_username`/`smtp_password`.
    /// Unset: mails are written to `outbox_dir` instead of sent.
    pub smtp_url: Option<String>,
    /// SMTP AUTH user name.
    pub smtp_username: Option<String>,
    /// SMTP AUTH password (`HALLPASS_EMAIL_SMTP_PASSWORD`).
    pub smtp_password: Option<SmtpPassword>,
    /// The `From` of every mail, `Name <address>` or a bare address.
    pub from: String,
    /// With no `smtp_url`, where mails are written (one `.eml` each). Default: `mail/` beside
    /// the SQLite database, or in the working directory.
    pub outbox_dir: Option<PathBuf>,
    /// The longest one SMTP conversation may take.
    pub smtp_timeout: ConfigDuration,
    /// Refuse logins (password, code) until the account's address is verified.
    pub require_verified_email: bool,
    /// Allow signing in with a code or link mailed to a verified address.
    pub passwordless_login: bool,
    /// How long a password reset link works.
    pub reset_token_ttl: ConfigDuration,
    /// How long an address verification (or change confirmation) link works.
    pub verify_token_ttl: ConfigDuration,
    /// How long a sign-in code works.
    pub login_code_ttl: ConfigDuration,
    /// Mails hallpass sends to one address per hour at most (resets, verifications, codes); past
    /// it, requests still answer as usual but send nothing.
    pub mails_per_address_per_hour: u32,
    /// Delivery attempts before a mail is given up on.
    pub max_delivery_attempts: u32,
    /// How often the outbox is checked for mail queued by other nodes or due for a retry (mail
    /// queued on this node is picked up at once).
    pub outbox_poll_interval: ConfigDuration,
}

impl Default for EmailSettings {
    fn default() -> Self {
        Self {
            smtp_url: None,
            smtp_username: None,
            smtp_password: None,
            from: "hallpass <no-reply@localhost>".to_owned(),
            outbox_dir: None,
            smtp_timeout: ConfigDuration::seconds(30),
            require_verified_email: false,
            passwordless_login: false,
            reset_token_ttl: ConfigDuration::minutes(30),
            verify_token_ttl: ConfigDuration::hours(24),
            login_code_ttl: ConfigDuration::minutes(10),
            mails_per_address_per_hour: 5,
            max_delivery_attempts: 12,
            outbox_poll_interval: ConfigDuration::seconds(5),
        }
    }
}

/// The SMTP password, printed as `[redacted]`.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SmtpPassword(String);

impl SmtpPassword {
    /// The password as configured.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for SmtpPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why the table does not make sense, if it does not.
pub(super) fn check(email: &EmailSettings) -> Result<(), (&'static str, String)> {
    if let Some(url) = &email.smtp_url {
        let parsed = url::Url::parse(url).map_err(|e| ("email.smtp_url", e.to_string()))?;
        if !matches!(parsed.scheme(), "smtp" | "smtps") || parsed.host().is_none() {
            return Err((
                "email.smtp_url",
                "must be smtp://host[:port] or smtps://host[:port]".to_owned(),
            ));
        }
    }
    if email.from.parse::<lettre::message::Mailbox>().is_err() {
        return Err((
            "email.from",
            format!(
                "{:?} is not an address (Name <user@host> or user@host)",
                email.from
            ),
        ));
    }
    for (setting, value) in [
        ("email.smtp_timeout", email.smtp_timeout),
        ("email.reset_token_ttl", email.reset_token_ttl),
        ("email.verify_token_ttl", email.verify_token_ttl),
        ("email.login_code_ttl", email.login_code_ttl),
        ("email.outbox_poll_interval", email.outbox_poll_interval),
    ] {
        if value.std().is_zero() {
            return Err((setting, "must be longer than 0".to_owned()));
        }
    }
    if email.max_delivery_attempts == 0 {
        return Err((
            "email.max_delivery_attempts",
            "must be at least 1".to_owned(),
        ));
    }
    Ok(())
}
