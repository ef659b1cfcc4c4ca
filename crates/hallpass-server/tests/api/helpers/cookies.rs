//! What a browser does with `Set-Cookie`, as far as the tests need it.

use reqwest::{Response, header};

/// The cookies a response set (cleared ones left out), as the `Cookie` header a browser would
/// send back: `name=value; name=value`.
pub(crate) fn cookie_header(response: &Response) -> String {
    set_cookies(response)
        .iter()
        .filter(|c| !c.contains("Max-Age=0"))
        .filter_map(|c| c.split(';').next())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Every `Set-Cookie` of a response, whole.
pub(crate) fn set_cookies(response: &Response) -> Vec<String> {
    response
        .headers()
        .get_all(header::SET_COOKIE)
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

/// The `Set-Cookie` for the cookie named exactly `name`, if the response has one.
pub(crate) fn set_cookie_named(response: &Response, name: &str) -> Option<String> {
    set_cookies(response)
        .into_iter()
        .find(|c| c.split('=').next() == Some(name))
}

/// Whether a `Set-Cookie` carries exactly this attribute (`Path=/` is not `Path=/v1/token`).
pub(crate) fn has_attribute(set_cookie: &str, attribute: &str) -> bool {
    set_cookie
        .split(';')
        .skip(1)
        .any(|a| a.trim().eq_ignore_ascii_case(attribute))
}
