//! The HTTP toolkit: extractors, cookies, CORS, client addresses, the connection limits and the
//! layers the route table (`router.rs`) puts around the routes. It imports no feature.

pub(crate) mod client;
pub(crate) mod cookies;
pub(crate) mod cors;
pub(crate) mod device;
pub(crate) mod device_cookie;
pub(crate) mod extract;
pub(crate) mod json;
pub(crate) mod ops_access;
pub(crate) mod page_error;
pub(crate) mod page_headers;
pub(crate) mod request_id;
pub(crate) mod resilience;
pub(crate) mod serve;
pub(crate) mod unread_body;
pub(crate) mod view;
