//! Extractors: what a handler needs to know about a request, parsed and checked before it runs.

mod authz;
mod body;
mod path;
mod session;

pub(crate) use authz::{AdminRole, HasRole, MayModify, PathResource};
pub(crate) use body::{AppForm, AppJson, AppQuery, OptionalJson};
pub(crate) use path::path_id;
pub(crate) use session::{
    Admin, Authenticated, CSRF_HEADER, Credential, CsrfForm, CsrfOnly, PresessionForm, SessionForm,
    check_origin, is_unsafe, resolve,
};
