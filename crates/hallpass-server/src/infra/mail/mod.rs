//! Mail: composing messages from templates, delivering them by SMTP (or into a folder when no
//! SMTP server is configured), and the worker that drains the store's outbox (docs/email.md).

pub(crate) mod compose;
pub(crate) mod outbox;
mod transport;

pub(crate) use compose::{MailKind, MailTemplates};
pub(crate) use transport::{DeliveryError, Mailer};
