//! The hallpass server: the axum service, its pages, configuration and the `hallpass` CLI.
//!
//! A request flows one way: router → extractor (who is calling, is the write theirs) → handler →
//! [`auth`] (validate and decide with `hallpass-core`) → store (`hallpass-store`) → response.

pub mod audit;
pub mod auth;
pub mod cli;
pub mod config;
pub mod error;
pub mod event_streams;
pub mod http;
pub mod infra;
pub mod pages;
pub mod passwords;
pub mod rate_limit;
pub mod router;
pub mod routes;
pub mod secret_key;
pub mod social;
pub mod startup;
pub mod state;
pub mod telemetry;
pub mod tokens;
