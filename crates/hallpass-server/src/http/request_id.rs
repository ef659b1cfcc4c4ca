//! `X-Request-Id`: the id that ties a request's log lines together and is echoed to the client.
//! A client's own id is kept only in a strict shape, so a header cannot write spaces, `key=value`
//! pairs or braces into the log (forged log lines); anything else is replaced by a fresh UUID.

use axum::{extract::Request, http::HeaderName};

/// The header carrying the id, in both directions.
pub(crate) const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest client-chosen id kept.
const MAX_LEN: usize = 64;

/// Removes a client's `X-Request-Id` unless there is exactly one and it is 1–64 characters of
/// `A-Z`, `a-z`, `0-9` and `-` (a UUID among them); the layer after this mints one where none is left.
pub(crate) fn drop_unacceptable(mut request: Request) -> Request {
    let mut values = request.headers().get_all(&REQUEST_ID).iter();
    let acceptable = match (values.next(), values.next()) {
        (Some(id), None) => is_acceptable(id.as_bytes()),
        _ => false,
    };
    if !acceptable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

fn is_acceptable(id: &[u8]) -> bool {
    (1..=MAX_LEN).contains(&id.len()) && id.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-')
}

#[cfg(test)]
mod tests {
    use super::is_acceptable;

    #[test]
    fn only_the_strict_shape_is_kept() {
        assert!(is_acceptable(b"0b9d4f9e-6a43-4b52-9a57-2f1c1c1a5e10"));
        assert!(is_acceptable(b"abc-123"));
        assert!(is_acceptable(&[b'a'; 64]));
        assert!(!is_acceptable(&[b'a'; 65]));
        assert!(!is_acceptable(b""));
        for bad in ["a b", "a=b", "{x}", "a_b", "a\"b", "a\tb", "é"] {
            assert!(!is_acceptable(bad.as_bytes()), "{bad}");
        }
    }
}
