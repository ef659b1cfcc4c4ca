//! The demo board: server-rendered pages that call the store directly (the one handler-only
//! feature).

pub(crate) mod pages;
