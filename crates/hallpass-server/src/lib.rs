//! The hallpass server: the axum service, its pages, configuration and the `hallpass` CLI.
//!
//! A request flows one way: router → extractor (who is calling, is the write theirs) → handler →
//! operation (`features/*/ops.rs`: validate and decide with `hallpass-core`) → store
//! (`hallpass-store`) → response. `router.rs` is the route table; `ARCHITECTURE.md` has the map.

pub(crate) mod audit;
pub mod cli;
pub mod config;
pub(crate) mod email_tokens;
pub(crate) mod error;
pub mod event_streams;
pub(crate) mod factor_codes;
pub(crate) mod factor_policy;
pub(crate) mod features;
pub(crate) mod http;
pub(crate) mod infra;
pub(crate) mod operation;
pub(crate) mod reauth;
pub(crate) mod router;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
