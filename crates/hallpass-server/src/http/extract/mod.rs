//! Extractors: what a handler needs to know about a request, parsed and checked before it runs.

mod body;
mod session;

pub use body::{AppForm, AppJson, AppQuery, OptionalJson};
pub use session::{
    Admin, Authenticated, CSRF_HEADER, Credential, CsrfForm, PresessionForm, SessionForm,
    check_origin, resolve,
};
