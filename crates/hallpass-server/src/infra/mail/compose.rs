//! The mails hallpass sends, rendered from the templates in `web/templates/mail/`: a subject, a
//! text part and an HTML part each. Links are made from `public_url` only, never from a
//! request's `Host`, so a forged header cannot point a mail at someone else's site.

use std::sync::Arc;

use hallpass_core::{email::EmailToken, user::Email};
use hallpass_store::NewMail;
use minijinja::Environment;
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::infra::render::RenderError;

const TEMPLATES: [(&str, &str); 15] = [
    (
        "mail/layout.html",
        include_str!("../../../../../web/templates/mail/layout.html"),
    ),
    (
        "mail/verify.txt",
        include_str!("../../../../../web/templates/mail/verify.txt"),
    ),
    (
        "mail/verify.html",
        include_str!("../../../../../web/templates/mail/verify.html"),
    ),
    (
        "mail/change_email.txt",
        include_str!("../../../../../web/templates/mail/change_email.txt"),
    ),
    (
        "mail/change_email.html",
        include_str!("../../../../../web/templates/mail/change_email.html"),
    ),
    (
        "mail/email_changed.txt",
        include_str!("../../../../../web/templates/mail/email_changed.txt"),
    ),
    (
        "mail/email_changed.html",
        include_str!("../../../../../web/templates/mail/email_changed.html"),
    ),
    (
        "mail/reset.txt",
        include_str!("../../../../../web/templates/mail/reset.txt"),
    ),
    (
        "mail/reset.html",
        include_str!("../../../../../web/templates/mail/reset.html"),
    ),
    (
        "mail/factors_changed.txt",
        include_str!("../../../../../web/templates/mail/factors_changed.txt"),
    ),
    (
        "mail/factors_changed.html",
        include_str!("../../../../../web/templates/mail/factors_changed.html"),
    ),
    (
        "mail/password_changed.txt",
        include_str!("../../../../../web/templates/mail/password_changed.txt"),
    ),
    (
        "mail/password_changed.html",
        include_str!("../../../../../web/templates/mail/password_changed.html"),
    ),
    (
        "mail/login.txt",
        include_str!("../../../../../web/templates/mail/login.txt"),
    ),
    (
        "mail/login.html",
        include_str!("../../../../../web/templates/mail/login.html"),
    ),
];

/// Which mail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// "Confirm your address", with a link and a code.
    Verify,
    /// "Use this new address?", sent to the new address.
    ChangeEmail,
    /// "Your address was changed", sent to the old address.
    EmailChanged,
    /// "Reset your password", with a link.
    Reset,
    /// "Your password was changed".
    PasswordChanged,
    /// "Your sign-in code", with a code and a link.
    Login,
    /// "Two-factor authentication changed" (a factor added or removed, new recovery codes).
    FactorsChanged,
}

impl MailKind {
    fn template(self) -> &'static str {
        match self {
            Self::Verify => "verify",
            Self::ChangeEmail => "change_email",
            Self::EmailChanged => "email_changed",
            Self::Reset => "reset",
            Self::PasswordChanged => "password_changed",
            Self::Login => "login",
            Self::FactorsChanged => "factors_changed",
        }
    }

    fn subject(self) -> &'static str {
        match self {
            Self::Verify => "Confirm your email address",
            Self::ChangeEmail => "Confirm your new email address",
            Self::EmailChanged => "Your email address was changed",
            Self::Reset => "Reset your password",
            Self::PasswordChanged => "Your password was changed",
            Self::Login => "Your sign-in code",
            Self::FactorsChanged => "Two-factor authentication on your account changed",
        }
    }

    /// The page the mail's link opens, if it has one.
    fn page(self) -> Option<&'static str> {
        match self {
            Self::Verify | Self::ChangeEmail => Some("/verify"),
            Self::Reset => Some("/reset"),
            Self::Login => Some("/login/email"),
            Self::EmailChanged | Self::PasswordChanged | Self::FactorsChanged => None,
        }
    }
}

/// What a mail says beyond its kind.
#[derive(Debug, Default)]
pub struct MailFacts<'a> {
    /// The link's token, for kinds with a link.
    pub token: Option<&'a EmailToken>,
    /// The short code, for kinds with one.
    pub code: Option<&'a str>,
    /// How long the link works, in words ("30 minutes").
    pub valid_for: Option<String>,
    /// The new address, for [`MailKind::EmailChanged`].
    pub new_email: Option<&'a str>,
    /// What changed, for [`MailKind::FactorsChanged`] ("an authenticator app was added").
    pub change: Option<&'a str>,
}

/// The mail templates, parsed once at start-up.
#[derive(Clone)]
pub struct MailTemplates {
    env: Arc<Environment<'static>>,
    public_url: String,
}

impl std::fmt::Debug for MailTemplates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MailTemplates").finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct Context<'a> {
    subject: &'a str,
    username: &'a str,
    to: &'a str,
    public_url: &'a str,
    link: Option<String>,
    code: Option<&'a str>,
    valid_for: Option<&'a str>,
    new_email: Option<&'a str>,
    change: Option<&'a str>,
}

impl MailTemplates {
    /// Loads the embedded templates; a broken one fails start-up. `public_url` without a
    /// trailing slash.
    pub fn load(public_url: &str) -> Result<Self, minijinja::Error> {
        let mut env = Environment::new();
        for (name, source) in TEMPLATES {
            env.add_template(name, source)?;
        }
        Ok(Self {
            env: Arc::new(env),
            public_url: public_url.to_owned(),
        })
    }

    /// The mail of `kind` to `username` at `to`, queued at `now`, worth sending until `expires_at`.
    pub fn compose(
        &self,
        kind: MailKind,
        username: &str,
        to: &Email,
        facts: &MailFacts<'_>,
        now: OffsetDateTime,
        expires_at: Option<OffsetDateTime>,
    ) -> Result<NewMail, RenderError> {
        let link = kind
            .page()
            .zip(facts.token)
            .map(|(page, token)| format!("{}{page}?token={}", self.public_url, token.expose()));
        let subject = kind.subject();
        let context = Context {
            subject,
            username,
            to: to.as_str(),
            public_url: &self.public_url,
            link,
            code: facts.code,
            valid_for: facts.valid_for.as_deref(),
            new_email: facts.new_email,
            change: facts.change,
        };
        let render = |ext: &str| {
            let name = format!("mail/{}.{ext}", kind.template());
            self.env
                .get_template(&name)
                .and_then(|t| t.render(minijinja::value::Serde(&context)))
                .map_err(|source| RenderError::new(name, source))
        };
        Ok(NewMail {
            id: Uuid::new_v4(),
            to: to.clone(),
            subject: subject.to_owned(),
            text: render("txt")?,
            html: render("html")?,
            created_at: now,
            expires_at,
        })
    }
}

/// "30 minutes", "24 hours", "2 days": how long a link works, in the mail's words.
pub(crate) fn in_words(duration: time::Duration) -> String {
    let minutes = duration.whole_minutes().max(1);
    let (n, unit) = if minutes % (60 * 24) == 0 {
        (minutes / (60 * 24), "day")
    } else if minutes % 60 == 0 {
        (minutes / 60, "hour")
    } else {
        (minutes, "minute")
    };
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mails_link_to_the_public_url_and_escape_html() {
        let templates = MailTemplates::load("https://id.example").unwrap();
        let token = EmailToken::from_random([3; 32]);
        let to = Email::parse("a@example.com").unwrap();
        let mail = templates
            .compose(
                MailKind::Reset,
                "<b>ann</b>",
                &to,
                &MailFacts {
                    token: Some(&token),
                    valid_for: Some(in_words(time::Duration::minutes(30))),
                    ..MailFacts::default()
                },
                OffsetDateTime::UNIX_EPOCH,
                None,
            )
            .unwrap();
        let link = format!("https://id.example/reset?token={}", token.expose());
        assert!(mail.text.contains(&link), "{}", mail.text);
        // minijinja escapes `/` in HTML; a browser decodes the attribute back.
        assert!(mail.html.replace("&#x2f;", "/").contains(&link));
        assert!(mail.html.contains("&lt;b&gt;ann") && !mail.html.contains("<b>"));
        assert!(mail.text.contains("30 minutes"));
    }

    #[test]
    fn durations_in_words() {
        assert_eq!(in_words(time::Duration::minutes(30)), "30 minutes");
        assert_eq!(in_words(time::Duration::hours(24)), "1 day");
        assert_eq!(in_words(time::Duration::hours(2)), "2 hours");
    }
}
