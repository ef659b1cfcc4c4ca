//! Turning a queued mail into a MIME message and handing it to the SMTP server, or writing it to
//! the mail folder when none is configured.

use std::{path::PathBuf, time::SystemTime};

use hallpass_store::NewMail;
use lettre::{
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
    message::{Mailbox, MultiPart},
    transport::smtp::authentication::Credentials,
};

use crate::config::EmailSettings;

/// Where mail goes.
#[derive(Clone)]
enum Transport {
    /// An SMTP server.
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    /// No SMTP server configured: one `.eml` file per mail in this folder.
    Folder(PathBuf),
}

/// Delivers mail. Cheap to clone (the SMTP connection pool is shared).
#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
    /// The right-hand side of `Message-ID`s: the public URL's host.
    id_domain: String,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Why a delivery failed, and whether trying again may help.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The server was unreachable, timed out, or answered 4xx: retry later.
    #[error("transient: {0}")]
    Transient(String),
    /// The server refused the mail for good (5xx), or it cannot be built: give up.
    #[error("permanent: {0}")]
    Permanent(String),
}

/// The settings do not describe a usable mailer.
#[derive(Debug, thiserror::Error)]
#[error("email: {0}")]
pub struct MailerError(String);

impl Mailer {
    /// The mailer the settings describe; `mail_dir` is used when there is no `smtp_url`.
    pub fn from_settings(
        settings: &EmailSettings,
        mail_dir: PathBuf,
        public_url: &str,
    ) -> Result<Self, MailerError> {
        let from: Mailbox = settings
            .from
            .parse()
            .map_err(|e| MailerError(format!("from: {e}")))?;
        let id_domain = url::Url::parse(public_url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
            .unwrap_or_else(|| "localhost".to_owned());
        let transport = match &settings.smtp_url {
            None => Transport::Folder(mail_dir),
            Some(url) => {
                let mut builder = AsyncSmtpTransport::<Tokio1Executor>::from_url(&smtp_url(url)?)
                    .map_err(|e| MailerError(format!("smtp_url: {e}")))?
                    .timeout(Some(settings.smtp_timeout.std()));
                if let (Some(user), Some(password)) =
                    (&settings.smtp_username, &settings.smtp_password)
                {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose().to_owned()));
                }
                Transport::Smtp(builder.build())
            }
        };
        Ok(Self {
            transport,
            from,
            id_domain,
        })
    }

    /// Whether mail really leaves (an SMTP server is configured).
    pub fn delivers(&self) -> bool {
        matches!(self.transport, Transport::Smtp(_))
    }

    /// Where mail goes, for the start-up log (no credentials).
    pub fn describe(&self) -> String {
        match &self.transport {
            Transport::Smtp(_) => "SMTP".to_owned(),
            Transport::Folder(dir) => format!("the folder {}", dir.display()),
        }
    }

    /// Builds and delivers one mail. A redelivery builds the same `Message-ID`.
    pub async fn deliver(&self, mail: &NewMail) -> Result<(), DeliveryError> {
        let message = self.message(mail)?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp.send(message).await.map(drop).map_err(|e| {
                if e.is_permanent() {
                    DeliveryError::Permanent(e.to_string())
                } else {
                    DeliveryError::Transient(e.to_string())
                }
            }),
            Transport::Folder(dir) => {
                let path = dir.join(format!("{}.eml", mail.id));
                write_atomically(dir.clone(), path.clone(), message.formatted())
                    .await
                    .map_err(|e| DeliveryError::Transient(format!("{}: {e}", path.display())))?;
                // With no SMTP server this is how a developer gets at the link.
                let links: Vec<&str> = mail
                    .text
                    .split_whitespace()
                    .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
                    .collect();
                tracing::info!(
                    to = %mail.to.as_str(),
                    subject = %mail.subject,
                    file = %path.display(),
                    links = ?links,
                    "mail not delivered (no email.smtp_url): written to the mail folder"
                );
                Ok(())
            }
        }
    }

    fn message(&self, mail: &NewMail) -> Result<Message, DeliveryError> {
        let to: Mailbox = mail
            .to
            .as_str()
            .parse()
            .map_err(|e| DeliveryError::Permanent(format!("recipient: {e}")))?;
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(format!("<{}@{}>", mail.id, self.id_domain)))
            .date(SystemTime::from(mail.created_at))
            .multipart(MultiPart::alternative_plain_html(
                mail.text.clone(),
                mail.html.clone(),
            ))
            .map_err(|e| DeliveryError::Permanent(format!("building the message: {e}")))
    }
}

/// `smtp://` means STARTTLS when offered (lettre's own default for it is plain); `?tls=none`
/// asks for plain, `?tls=required` for STARTTLS or failure.
fn smtp_url(configured: &str) -> Result<String, MailerError> {
    let mut url = url::Url::parse(configured).map_err(|e| MailerError(format!("smtp_url: {e}")))?;
    if url.scheme() == "smtp" {
        let tls = url
            .query_pairs()
            .find(|(k, _)| k == "tls")
            .map(|(_, v)| v.into_owned());
        match tls.as_deref() {
            None => {
                url.query_pairs_mut().append_pair("tls", "opportunistic");
            }
            Some("none") => url.set_query(None),
            Some(_) => {}
        }
    }
    Ok(url.to_string())
}

/// Writes to a temporary name and renames, so a reader never sees half a mail.
async fn write_atomically(dir: PathBuf, path: PathBuf, bytes: Vec<u8>) -> std::io::Result<()> {
    tokio::fs::create_dir_all(&dir).await?;
    let partial = path.with_extension("eml.partial");
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smtp_urls_default_to_opportunistic_tls() {
        assert_eq!(
            smtp_url("smtp://mail.example:2525").unwrap(),
            "smtp://mail.example:2525?tls=opportunistic"
        );
        assert_eq!(
            smtp_url("smtp://mail.example:25?tls=none").unwrap(),
            "smtp://mail.example:25"
        );
        assert_eq!(
            smtp_url("smtp://mail.example?tls=required").unwrap(),
            "smtp://mail.example?tls=required"
        );
        assert_eq!(
            smtp_url("smtps://u:p@mail.example").unwrap(),
            "smtps://u:p@mail.example"
        );
    }
}
