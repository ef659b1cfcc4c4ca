//! Authorization extractors: a handler states what the caller must be allowed to do in its
//! signature, and the rules of `hallpass_core::authz` decide before it runs.
//!
//! These check identity and permission only. A write still needs its CSRF check from the
//! extractor that reads its body ([`SessionForm`](super::SessionForm) for pages), or from
//! [`Authenticated`] for JSON, which checks the header on unsafe methods.

use std::marker::PhantomData;

use axum::{
    extract::{FromRef, FromRequestParts, Path},
    http::request::Parts,
};
use hallpass_core::{
    authz::{self, Owned},
    user::Role,
};

use crate::{
    error::ApiError,
    http::extract::{Authenticated, resolve},
    operation::OpError,
    state::AppState,
};

/// A role a route demands.
pub(crate) trait RequiredRole {
    /// The role.
    fn role() -> Role;
}

/// The `admin` role.
#[derive(Debug, Clone, Copy)]
pub(crate) struct AdminRole;

impl RequiredRole for AdminRole {
    fn role() -> Role {
        Role::admin()
    }
}

/// A caller holding role `R`: strangers get 401, everyone else without the role 403.
#[derive(Debug, Clone)]
pub(crate) struct HasRole<R> {
    /// The caller.
    pub caller: Authenticated,
    role: PhantomData<R>,
}

impl<S, R> FromRequestParts<S> for HasRole<R>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    R: RequiredRole,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = caller(parts, state).await?;
        authz::require_role(&caller.user, &R::role())?;
        crate::factor_policy::check(&AppState::from_ref(state), &caller.user).await?;
        Ok(Self {
            caller,
            role: PhantomData,
        })
    }
}

/// A resource that can be found by the id in a request's path.
pub(crate) trait PathResource: Owned + Sized + Send {
    /// Loads it by the path's `{id}`; `None` when there is no such resource.
    fn load(
        state: &AppState,
        id: &str,
    ) -> impl Future<Output = Result<Option<Self>, ApiError>> + Send;
}

/// The resource the path names, which the caller may modify (its owner or an administrator):
/// strangers get 401, a missing resource 404, anyone else 403.
#[derive(Debug, Clone)]
pub(crate) struct MayModify<R> {
    /// The caller.
    pub caller: Authenticated,
    /// The resource.
    pub resource: R,
}

impl<S, R> FromRequestParts<S> for MayModify<R>
where
    S: Send + Sync,
    AppState: FromRef<S>,
    R: PathResource,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let caller = caller(parts, state).await?;
        let Path(id) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|_| OpError::NotFound)?;
        let app = AppState::from_ref(state);
        let resource = R::load(&app, &id).await?.ok_or(OpError::NotFound)?;
        authz::may_modify(&caller.user, &resource)?;
        Ok(Self { caller, resource })
    }
}

/// The caller by cookie or Bearer, without the CSRF half (see the module's note).
async fn caller<S>(parts: &Parts, state: &S) -> Result<Authenticated, ApiError>
where
    AppState: FromRef<S>,
{
    let app = AppState::from_ref(state);
    resolve(&app, &parts.headers)
        .await?
        .ok_or(ApiError::Unauthenticated)
}
