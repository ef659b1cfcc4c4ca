//! The HTTP toolkit: extractors, cookies, CORS, client addresses, the connection limits and the
//! layers the route table (`router.rs`) puts around the routes. It imports no feature.

pub mod client;
pub mod client_key;
pub mod cookies;
pub mod cors;
pub mod device_cookie;
pub mod extract;
pub mod ops_access;
pub mod page_headers;
pub mod request_id;
pub mod resilience;
pub mod serve;
pub mod unread_body;
