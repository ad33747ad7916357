//! CORS for an allowlist of origins. Browsers send `Origin` on every cross-origin request
//! and on same-origin POSTs; a request whose origin is neither listed nor the proxy's own
//! is refused outright (403), preflight included, so no page elsewhere can drive the
//! proxy with its visitors' cookies. Requests without `Origin` come from no browser page.

use alloc::string::String;
use alloc::vec::Vec;

/// What the `Origin` header says about a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// No `Origin`: a server, a tool, or a same-origin navigation.
    Absent,
    /// The proxy's own origin or a listed one: answered with CORS headers for it.
    Allowed(String),
    Refused,
}

/// Sorts a request's `Origin` against the allowlist and the proxy's own origins.
pub fn check(origin: Option<&str>, allowed: &[String], own: &[&str]) -> Origin {
    let Some(origin) = origin else { return Origin::Absent };
    let lower = origin.to_ascii_lowercase();
    let listed = allowed.contains(&lower) || own.iter().any(|o| o.eq_ignore_ascii_case(&lower));
    if listed && lower != "null" {
        Origin::Allowed(String::from(origin))
    } else {
        Origin::Refused
    }
}

/// The headers every answer to an allowed origin carries.
pub fn headers(origin: &Origin) -> Vec<(&'static str, String)> {
    let mut out = alloc::vec![("vary", String::from("Origin"))];
    if let Origin::Allowed(origin) = origin {
        out.push(("access-control-allow-origin", origin.clone()));
        out.push(("access-control-allow-credentials", "true".into()));
        out.push(("access-control-expose-headers", "retry-after".into()));
    }
    out
}

/// The extra headers of a preflight answer.
pub fn preflight_headers() -> [(&'static str, String); 3] {
    [
        ("access-control-allow-methods", "POST, OPTIONS".into()),
        ("access-control-allow-headers", "content-type, authorization, last-event-id".into()),
        ("access-control-max-age", "600".into()),
    ]
}

/// The origin (`scheme://host[:port]`) of an absolute URL.
pub fn origin_of(url: &str) -> Option<&str> {
    let scheme_end = url.find("://")?;
    let rest = &url[scheme_end + 3..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    Some(&url[..scheme_end + 3 + end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_origins() {
        let allowed = vec![String::from("https://app.example")];
        let own = ["http://127.0.0.1:8787"];
        assert_eq!(check(None, &allowed, &own), Origin::Absent);
        assert_eq!(check(Some("https://app.example"), &allowed, &own), Origin::Allowed("https://app.example".into()));
        assert_eq!(check(Some("https://APP.example"), &allowed, &own), Origin::Allowed("https://APP.example".into()));
        assert_eq!(
            check(Some("http://127.0.0.1:8787"), &allowed, &own),
            Origin::Allowed("http://127.0.0.1:8787".into())
        );
        assert_eq!(check(Some("https://evil.example"), &allowed, &own), Origin::Refused);
        assert_eq!(check(Some("https://app.example.evil.example"), &allowed, &own), Origin::Refused);
        assert_eq!(check(Some("null"), &[String::from("null")], &own), Origin::Refused);
    }

    #[test]
    fn writes_headers_only_for_allowed_origins() {
        let h = headers(&Origin::Allowed("https://app.example".into()));
        assert!(h.contains(&("access-control-allow-origin", "https://app.example".into())));
        assert!(h.contains(&("access-control-allow-credentials", "true".into())));
        assert_eq!(headers(&Origin::Absent), vec![("vary", String::from("Origin"))]);
    }

    #[test]
    fn finds_origins_of_urls() {
        assert_eq!(origin_of("http://127.0.0.1:8787/api/x?y"), Some("http://127.0.0.1:8787"));
        assert_eq!(origin_of("https://a.example"), Some("https://a.example"));
        assert_eq!(origin_of("nope"), None);
    }
}
