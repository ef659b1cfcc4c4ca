//! Where to go after a social login: a path on hallpass itself, never another site (an open
//! redirect would let a phishing link borrow hallpass's name).

/// A same-origin relative path, safe to redirect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SafeNext(String);

impl SafeNext {
    /// Accepts a path that starts with exactly one `/`, has no `\` and no control characters,
    /// and stays a path once percent-decoded (`/%2F%2Fevil.test` is refused as `//evil.test` would
    /// be). Anything else is `None`, and the caller uses its default.
    pub(crate) fn parse(input: &str) -> Option<Self> {
        let decoded = percent_decode(input)?;
        for candidate in [input, decoded.as_str()] {
            let mut chars = candidate.chars();
            if chars.next() != Some('/') {
                return None;
            }
            if matches!(chars.next(), Some('/' | '\\')) {
                return None;
            }
            if candidate.chars().any(|c| c == '\\' || c.is_control()) {
                return None;
            }
        }
        if input.len() > 2048 {
            return None;
        }
        Some(Self(input.to_owned()))
    }

    /// The path.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

/// Percent-decodes `%XX` sequences; `None` for a malformed one or bytes that are not UTF-8.
fn percent_decode(input: &str) -> Option<String> {
    let bytes = input.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = input.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::SafeNext;

    #[test]
    fn only_paths_on_this_site_pass() {
        for good in ["/", "/account", "/demo/board?page=2", "/a/b#c", "/%7Euser"] {
            assert!(SafeNext::parse(good).is_some(), "{good}");
        }
        // The open-redirect catalogue (security-anchors §2b).
        for bad in [
            "https://evil.test",
            "//evil.test",
            "///evil.test",
            "/\\evil.test",
            "\\/\\/evil.test",
            "https:evil.test",
            "/%2F%2Fevil.test",
            "/%2Fevil.test",
            "/%5Cevil.test",
            "/%09/evil.test",
            "/\t/evil.test",
            "https://hallpass.test@evil.test",
            "//evil%E3%80%82test",
            "javascript:alert(1)",
            "data:text/html,x",
            "",
            "account",
            "/%zz",
        ] {
            assert!(SafeNext::parse(bad).is_none(), "{bad}");
        }
    }
}
