//! The hallpass server: the axum service, its pages, configuration and the `hallpass` CLI.
//!
//! A request flows one way: router → extractor (who is calling, is the write theirs) → handler →
//! `auth/` (validate and decide with `hallpass-core`) → store (`hallpass-store`) → response.

pub(crate) mod audit;
pub(crate) mod auth;
pub mod cli;
pub mod config;
pub(crate) mod error;
pub mod event_streams;
pub(crate) mod http;
pub(crate) mod infra;
pub(crate) mod pages;
pub(crate) mod router;
pub(crate) mod routes;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
