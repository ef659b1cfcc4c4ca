//! The cookies hallpass sets, and reading them strictly.

use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use cookie::{Cookie, SameSite};
use time::Duration;

use hallpass_core::{refresh_binding::RefreshBindingKey, session::SessionId};

use crate::{config::ServerConfig, error::ApiError};

/// The session cookie's base name.
const SESSION: &str = "hallpass_session";
/// The refresh cookie's base name (browser delivery of refresh tokens).
const REFRESH: &str = "hallpass_refresh";
/// The refresh cookie is only ever sent to the token endpoint.
const REFRESH_PATH: &str = "/v1/token";
/// The refresh cookie's companion: `Path=/` so that under https it can be `__Host-`, which no
/// sibling site can set; its value binds the refresh cookie to this browser
/// ([`hallpass_core::refresh_binding`]).
const REFRESH_BINDING: &str = "hallpass_refresh_binding";
/// The pre-session (login CSRF) nonce cookie's base name.
const PRESESSION: &str = "hallpass_csrf";
/// The social login in progress (sealed). `Path=/` so that under https it is `__Host-`: a
/// `__Secure-` one scoped to the callbacks could be planted by a sibling site, carrying the
/// attacker's own transaction into the victim's callback (login CSRF).
const PENDING: &str = "hallpass_oauth";
/// The signed device cookie (`http/device_cookie.rs`).
const DEVICE: &str = "hallpass_device";

/// Cookie names for this deployment: `__Host-` prefixed under https, where the prefix makes the
/// browser refuse cookies set by sibling subdomains or over plain http (cookie tossing).
fn name(config: &ServerConfig, base: &str) -> String {
    if config.secure_cookies {
        format!("__Host-{base}")
    } else {
        base.to_owned()
    }
}

fn build(config: &ServerConfig, base: &str, value: String, max_age: Duration) -> HeaderValue {
    let cookie = Cookie::build((name(config, base), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(config.secure_cookies)
        .max_age(max_age)
        .build();
    HeaderValue::try_from(cookie.to_string())
        .unwrap_or_else(|_| unreachable!("cookie values are base64url and names are fixed ASCII"))
}

/// `Set-Cookie` for a new session, kept by the browser for the session's lifetime.
pub(crate) fn session_cookie(config: &ServerConfig, token: &str) -> HeaderValue {
    build(
        config,
        SESSION,
        token.to_owned(),
        config.session_policy.lifetime,
    )
}

/// `Set-Cookie` that deletes the session cookie.
pub(crate) fn clear_session_cookie(config: &ServerConfig) -> HeaderValue {
    build(config, SESSION, String::new(), Duration::ZERO)
}

/// The `Set-Cookie`s for a refresh token of `session` delivered to a browser: the refresh
/// cookie (HttpOnly, scoped to `/v1/token`; `__Secure-` under https, as `__Host-` demands
/// `Path=/`) and its companion binding it to this browser (`__Host-` under https). Always set
/// together, so every rotation renews both.
pub(crate) fn refresh_cookies(
    config: &ServerConfig,
    key: &RefreshBindingKey,
    token: &str,
    session: SessionId,
    max_age: Duration,
) -> [HeaderValue; 2] {
    [
        scoped(config, REFRESH, REFRESH_PATH, token.to_owned(), max_age),
        build(config, REFRESH_BINDING, key.binding(session), max_age),
    ]
}

/// The `Set-Cookie`s that delete the refresh cookie and its companion.
pub(crate) fn clear_refresh_cookies(config: &ServerConfig) -> [HeaderValue; 2] {
    [
        scoped(config, REFRESH, REFRESH_PATH, String::new(), Duration::ZERO),
        build(config, REFRESH_BINDING, String::new(), Duration::ZERO),
    ]
}

/// Names of cookies scoped to a path: `__Secure-` under https (`__Host-` demands `Path=/`).
fn scoped_name(config: &ServerConfig, base: &str) -> String {
    if config.secure_cookies {
        format!("__Secure-{base}")
    } else {
        base.to_owned()
    }
}

fn scoped(
    config: &ServerConfig,
    base: &str,
    path: &'static str,
    value: String,
    max_age: Duration,
) -> HeaderValue {
    let cookie = Cookie::build((scoped_name(config, base), value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path(path)
        .secure(config.secure_cookies)
        .max_age(max_age)
        .build();
    HeaderValue::try_from(cookie.to_string())
        .unwrap_or_else(|_| unreachable!("values are base64url and names are fixed ASCII"))
}

/// `Set-Cookie` for a social login in progress (a sealed transaction), kept only until
/// `max_age`. (Lax, as every hallpass cookie: the provider's callback is a top-level
/// navigation from another site.)
pub(crate) fn pending_login_cookie(
    config: &ServerConfig,
    sealed: &str,
    max_age: Duration,
) -> HeaderValue {
    build(config, PENDING, sealed.to_owned(), max_age)
}

/// `Set-Cookie` that deletes the social login in progress.
pub(crate) fn clear_pending_login_cookie(config: &ServerConfig) -> HeaderValue {
    build(config, PENDING, String::new(), Duration::ZERO)
}

/// The social login in progress, if the browser sent one.
pub(crate) fn read_pending_login(
    headers: &HeaderMap,
    config: &ServerConfig,
) -> Result<Option<String>, ApiError> {
    read(headers, &name(config, PENDING))
}

/// Every refresh cookie the browser sent. There may be several: a sibling site can add its own
/// under the same name (for another `Domain`), which is why the companion decides which, if
/// any, hallpass set ([`read_refresh_binding`]).
pub(crate) fn read_refresh(headers: &HeaderMap, config: &ServerConfig) -> Vec<String> {
    read_all(headers, &scoped_name(config, REFRESH))
}

/// The refresh cookie's companion, if sent (once: a second copy is refused).
pub(crate) fn read_refresh_binding(
    headers: &HeaderMap,
    config: &ServerConfig,
) -> Result<Option<String>, ApiError> {
    read(headers, &name(config, REFRESH_BINDING))
}

/// `Set-Cookie` for the pre-session nonce the login and signup forms are bound to.
pub(crate) fn presession_cookie(config: &ServerConfig, nonce: &str) -> HeaderValue {
    build(config, PRESESSION, nonce.to_owned(), Duration::hours(12))
}

/// The session cookie's value, if sent. Only the exact name counts (no case folding, trimming or
/// decoding of names), and a request carrying it twice is refused rather than guessing which
/// one the browser meant: a second copy is how cookie tossing shadows a victim's session.
pub(crate) fn read_session(
    headers: &HeaderMap,
    config: &ServerConfig,
) -> Result<Option<String>, ApiError> {
    read(headers, &name(config, SESSION))
}

/// The pre-session nonce, if sent.
pub(crate) fn read_presession(
    headers: &HeaderMap,
    config: &ServerConfig,
) -> Result<Option<String>, ApiError> {
    read(headers, &name(config, PRESESSION))
}

/// `Set-Cookie` for a sealed device token (see `http/device_cookie.rs`).
pub(crate) fn device_cookie(
    config: &ServerConfig,
    sealed: String,
    max_age: Duration,
) -> HeaderValue {
    build(config, DEVICE, sealed, max_age)
}

/// The device cookie's value, if sent exactly once: a second copy may have been tossed in by a
/// sibling site, so neither is trusted.
pub(crate) fn read_device(headers: &HeaderMap, config: &ServerConfig) -> Option<String> {
    read(headers, &name(config, DEVICE)).ok().flatten()
}

/// Every value of the cookie named exactly `wanted`, in the order the browser sent them.
fn read_all(headers: &HeaderMap, wanted: &str) -> Vec<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| {
            Cookie::split_parse(value)
                .flatten()
                .filter(|cookie| cookie.name() == wanted)
                .map(|cookie| cookie.value().to_owned())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn read(headers: &HeaderMap, wanted: &str) -> Result<Option<String>, ApiError> {
    let mut found = None;
    for value in headers.get_all(header::COOKIE) {
        let Ok(value) = value.to_str() else { continue };
        for cookie in Cookie::split_parse(value).flatten() {
            if cookie.name() == wanted {
                if found.is_some() {
                    return Err(ApiError::InvalidRequest(format!(
                        "the {wanted} cookie was sent more than once"
                    )));
                }
                found = Some(cookie.value().to_owned());
            }
        }
    }
    Ok(found)
}

/// Deletes the session and refresh cookies (and the refresh cookie's companion), and asks the browser to drop every cookie of this origin.
pub(crate) fn end_browser_session(headers: &mut axum::http::HeaderMap, config: &ServerConfig) {
    headers.append(header::SET_COOKIE, clear_session_cookie(config));
    for cookie in clear_refresh_cookies(config) {
        headers.append(header::SET_COOKIE, cookie);
    }
    headers.insert(
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cookies\""),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Settings;

    fn config(url: &str) -> ServerConfig {
        ServerConfig::from_settings(&Settings {
            public_url: url.to_owned(),
            ..Settings::default()
        })
    }

    fn headers(cookies: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for c in cookies {
            map.append(header::COOKIE, HeaderValue::from_str(c).unwrap());
        }
        map
    }

    #[test]
    fn flags_follow_the_scheme() {
        let plain = session_cookie(&config("http://localhost:8080"), "hp_st_x");
        let plain = plain.to_str().unwrap();
        assert!(plain.starts_with("hallpass_session=hp_st_x"));
        for flag in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"] {
            assert!(plain.contains(flag), "{plain}");
        }
        assert!(!plain.contains("Secure"));
        let tls = session_cookie(&config("https://auth.example"), "hp_st_x");
        let tls = tls.to_str().unwrap();
        assert!(
            tls.starts_with("__Host-hallpass_session=") && tls.contains("Secure"),
            "{tls}"
        );
        assert!(
            clear_session_cookie(&config("http://localhost"))
                .to_str()
                .unwrap()
                .contains("Max-Age=0")
        );
    }

    #[test]
    fn under_https_every_cookie_a_sibling_could_plant_is_bound_or_host_only() {
        let tls = config("https://auth.example");
        let key = RefreshBindingKey::new([1; 32]);
        let session = SessionId(uuid::Uuid::new_v4());
        let [refresh, companion] =
            refresh_cookies(&tls, &key, "hp_rt_x", session, Duration::hours(1));
        let refresh = refresh.to_str().unwrap();
        assert!(
            refresh.starts_with("__Secure-hallpass_refresh=hp_rt_x")
                && refresh.contains("Path=/v1/token"),
            "{refresh}"
        );
        let companion = companion.to_str().unwrap();
        assert!(
            companion.starts_with(&format!(
                "__Host-hallpass_refresh_binding={}",
                key.binding(session)
            )),
            "{companion}"
        );
        let pending = pending_login_cookie(&tls, "sealed", Duration::minutes(10));
        let pending = pending.to_str().unwrap();
        assert!(
            pending.starts_with("__Host-hallpass_oauth=sealed"),
            "{pending}"
        );
        for cookie in [companion, pending] {
            assert!(
                cookie.contains("Path=/;") || cookie.ends_with("Path=/"),
                "{cookie}"
            );
            assert!(
                cookie.contains("Secure") && !cookie.contains("Domain"),
                "{cookie}"
            );
        }
        let [cleared, cleared_companion] = clear_refresh_cookies(&tls);
        assert!(cleared.to_str().unwrap().contains("Max-Age=0"));
        assert!(
            cleared_companion
                .to_str()
                .unwrap()
                .starts_with("__Host-hallpass_refresh_binding=;")
        );
    }

    #[test]
    fn every_copy_of_the_refresh_cookie_is_read() {
        let c = config("http://localhost:8080");
        let sent = headers(&["hallpass_refresh=a; x=1", "hallpass_refresh=b"]);
        assert_eq!(
            read_refresh(&sent, &c),
            vec!["a".to_owned(), "b".to_owned()]
        );
    }

    #[test]
    fn only_the_exact_name_is_read_and_duplicates_are_refused() {
        let c = config("http://localhost:8080");
        assert_eq!(
            read_session(&headers(&["a=1; hallpass_session=v"]), &c)
                .unwrap()
                .as_deref(),
            Some("v")
        );
        assert_eq!(
            read_session(&headers(&["Hallpass_Session=v; hallpass_session_x=w"]), &c).unwrap(),
            None
        );
        assert!(read_session(&headers(&["hallpass_session=v; hallpass_session=w"]), &c).is_err());
        assert!(read_session(&headers(&["hallpass_session=v", "hallpass_session=w"]), &c).is_err());
        let tls = config("https://auth.example");
        assert_eq!(
            read_session(&headers(&["hallpass_session=v"]), &tls).unwrap(),
            None
        );
        assert_eq!(
            read_session(&headers(&["__host-hallpass_session=v"]), &tls).unwrap(),
            None
        );
    }
}
