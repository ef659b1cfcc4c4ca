//! Integration tests: the real server on an ephemeral port, spoken to over HTTP.
//! One binary, one module per feature; every test gets a fresh database.

#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "helpers outside #[test] fns; a test should fail loudly"
)]

mod admin;
mod admin_pages;
mod attacks;
mod backends;
mod bad_input;
mod bearer;
mod board;
mod cli;
mod cluster;
mod cluster_refresh;
mod connections;
mod cors;
mod credentials;
mod csrf;
mod device_lockout;
mod email;
mod factors;
mod faults;
mod forward_auth;
mod helpers;
mod ipv6_limits;
mod keys;
mod last_admin;
mod login;
mod oidc_provider;
mod ops;
mod pages;
mod password;
mod raw_http;
mod refresh;
mod refresh_cookie;
mod refresh_cookie_tossing;
mod revocation;
mod revocation_feed;
mod session_events;
mod sessions;
mod signup;
mod social;
mod social_github;
mod tokens;
