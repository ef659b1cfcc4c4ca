//! Re-authenticating a session for a sensitive action (docs/factors.md, "Step-up"): the API and
//! the page. The operation is `crate::reauth`, which the sensitive actions also call.

pub(crate) mod api;
pub(crate) mod pages;
