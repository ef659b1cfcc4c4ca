//! Browser sessions: logging out, the device list, "who am I", changing the password, the session
//! event stream, and their operations.

pub(crate) mod devices;
pub(crate) mod events;
pub(crate) mod logout;
pub(crate) mod me;
pub(crate) mod ops;
pub(crate) mod password;
