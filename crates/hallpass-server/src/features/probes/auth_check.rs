//! `GET /v1/auth/check`: forward authentication for nginx `auth_request` and Traefik
//! `forwardAuth`. 200 with who the caller is in headers, or 401; 403 when the request being
//! vouched for is a cookie-authenticated write from another site (docs/forward-auth.md).

use axum::{
    extract::State,
    http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode},
    response::{IntoResponse, Response},
};
use hallpass_core::CsrfRejection;

use crate::{
    error::ApiError,
    http::extract::{Authenticated, Credential, check_origin, is_unsafe},
    state::AppState,
};

/// Where proxies put the method of the request they ask about: Traefik sets
/// `X-Forwarded-Method`; nginx sends what its config says, by convention `X-Original-Method`.
const METHOD_HEADERS: [HeaderName; 2] = [
    HeaderName::from_static("x-forwarded-method"),
    HeaderName::from_static("x-original-method"),
];

pub(crate) async fn check(
    State(state): State<AppState>,
    caller: Authenticated,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    // The check request itself is a GET; the browser's request behind it may be a write, and a
    // cookie rides along on a cross-site write as readily as on hallpass's own endpoints. Its
    // `Origin` and `Sec-Fetch-Site` reach us with it (both proxies forward the client's headers).
    if caller.via == Credential::Cookie
        && forwarded_method(&headers)?.is_some_and(|method| is_unsafe(&method))
    {
        check_origin(&state, &headers)?;
    }
    Ok(vouch(&caller))
}

/// The method of the request forward auth is asked about, if the proxy says: every copy of both
/// headers must name the same method.
fn forwarded_method(headers: &HeaderMap) -> Result<Option<Method>, CsrfRejection> {
    let mut method = None;
    for value in METHOD_HEADERS.iter().flat_map(|name| headers.get_all(name)) {
        let named =
            Method::from_bytes(value.as_bytes()).map_err(|_| CsrfRejection::AmbiguousMethod)?;
        match &method {
            Some(seen) if *seen != named => return Err(CsrfRejection::AmbiguousMethod),
            _ => method = Some(named),
        }
    }
    Ok(method)
}

fn vouch(caller: &Authenticated) -> Response {
    let roles: Vec<&str> = caller.user.roles.iter().map(|r| r.as_str()).collect();
    let headers = [
        ("x-hallpass-user", caller.user.id.to_string()),
        ("x-hallpass-username", caller.user.username.clone()),
        ("x-hallpass-roles", roles.join(",")),
        ("x-hallpass-session", caller.session.id.to_string()),
    ];
    let mut response = StatusCode::OK.into_response();
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::try_from(value) {
            response
                .headers_mut()
                .insert(HeaderName::from_static(name), value);
        }
    }
    response
}
