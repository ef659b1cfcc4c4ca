//! Proving email addresses: the link and code mailed on signup and on every change of address,
//! resending them, and changing the address (confirmed at the new one, noticed at the old).

pub(crate) mod api;
pub(crate) mod ops;
pub(crate) mod pages;
