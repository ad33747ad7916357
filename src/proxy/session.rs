//! Who the caller is: the `authenticate` hook's answer, or an anonymous session from the
//! cookie, or a new session. The shell calls the hook and draws the random bytes; what
//! they mean is decided here.

use alloc::string::String;

use super::config::ProxyConfig;
use super::error_code::ProxyErrorCode;
use super::identity;
use super::reply::Reply;

/// An identified caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    pub identity: String,
    /// An anonymous session (limited per address as well as per identity).
    pub anonymous: bool,
    /// The `Set-Cookie` of a session made for this request.
    pub set_cookie: Option<String>,
}

/// What the `authenticate` hook gave, as the shell read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HookAnswer {
    Text(String),
    /// `null` or `undefined`.
    Nothing,
    /// Anything else, or the hook threw or its promise rejected.
    Failed,
    /// The hook returned something that is neither a string nor null.
    WrongType,
}

/// The caller named by the hook: a non-empty name, else 401 (or 500 when the hook failed).
pub fn from_hook(answer: HookAnswer) -> Result<Caller, Reply> {
    match answer {
        HookAnswer::Text(name) if !name.is_empty() => {
            Ok(Caller { identity: identity::user(&name), anonymous: false, set_cookie: None })
        }
        HookAnswer::Text(_) | HookAnswer::Nothing => Err(unauthenticated()),
        HookAnswer::Failed => {
            Err(Reply::error(500, ProxyErrorCode::AuthenticateFailed, "the proxy's authenticate hook failed"))
        }
        HookAnswer::WrongType => Err(Reply::error(
            500,
            ProxyErrorCode::AuthenticateFailed,
            "the proxy's authenticate hook must return a string or null",
        )),
    }
}

/// The caller of a valid, unexpired session cookie in the `Cookie` header, if any.
pub fn from_cookie(config: &ProxyConfig, cookie_header: Option<&str>, now_s: u64) -> Option<Caller> {
    let value = identity::find_cookie(cookie_header?, identity::SESSION_COOKIE)?;
    let id = identity::open_session(&config.proxy_secret, value, now_s, config.session_max_age_s as u64)?;
    Some(Caller { identity: identity::anonymous(id), anonymous: true, set_cookie: None })
}

/// A new anonymous session from 16 random bytes, its cookie Secure when the proxy is
/// reached over https (`request_url`'s or the public URL's scheme).
pub fn new_session(config: &ProxyConfig, random: &[u8; 16], now_s: u64, request_url: &str) -> Caller {
    let id = identity::new_session_id(random);
    let value = identity::session_value(&config.proxy_secret, &id, now_s);
    let https = |url: &str| url.starts_with("https:");
    let secure = https(request_url) || config.public_url.as_deref().is_some_and(https);
    let set_cookie = identity::set_cookie(&value, &config.prefix, config.session_max_age_s, secure);
    Caller { identity: identity::anonymous(&id), anonymous: true, set_cookie: Some(set_cookie) }
}

/// The 401 for a caller the hook did not name.
pub fn unauthenticated() -> Reply {
    Reply::error(401, ProxyErrorCode::Unauthenticated, "sign in to use this proxy")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Value;

    fn config(public_url: &str) -> ProxyConfig {
        let text = format!(
            r#"{{"endpoint":"https://api.example","secretId":"AKIDsecretid","secretKey":"secret key of test",
                "proxySecret":"a proxy secret of some length","allowedOrigins":[]{public_url}}}"#
        );
        ProxyConfig::from_value(&Value::parse(&text).unwrap()).ok().unwrap()
    }

    #[test]
    fn the_hook_names_the_caller_or_refuses() {
        let ann = from_hook(HookAnswer::Text("ann".into())).unwrap();
        assert_eq!((ann.identity.as_str(), ann.anonymous), ("user:ann", false));
        assert_eq!(from_hook(HookAnswer::Text(String::new())).unwrap_err().status, 401);
        assert_eq!(from_hook(HookAnswer::Nothing).unwrap_err().status, 401);
        let failed = from_hook(HookAnswer::WrongType).unwrap_err();
        assert_eq!((failed.status, failed.error_code().as_deref()), (500, Some("authenticate_failed")));
    }

    #[test]
    fn a_new_sessions_cookie_opens_again_and_expires() {
        let config = config("");
        let now = 1_800_000_000;
        let made = new_session(&config, &[7; 16], now, "http://localhost:8080/api/singing-cloning/job");
        let cookie = made.set_cookie.as_deref().unwrap();
        assert!(cookie.starts_with("sc_session=") && cookie.contains("HttpOnly") && !cookie.contains("Secure"));
        let sent = cookie.split(';').next().unwrap();
        let header = format!("theme=dark; {sent}");
        let opened = from_cookie(&config, Some(&header), now + 60).unwrap();
        assert_eq!((opened.identity, opened.anonymous, opened.set_cookie), (made.identity, true, None));
        let later = now + config.session_max_age_s as u64 + 1;
        assert_eq!(from_cookie(&config, Some(&header), later), None, "expired");
        assert_eq!(from_cookie(&config, None, now), None);
        let secure = new_session(&config, &[7; 16], now, "http://10.0.0.1/");
        assert!(!secure.set_cookie.unwrap().contains("Secure"));
    }

    #[test]
    fn cookies_are_secure_when_the_public_url_is_https() {
        let config = config(r#","publicUrl":"https://app.example""#);
        let made = new_session(&config, &[1; 16], 0, "http://internal:8080/x");
        assert!(made.set_cookie.unwrap().ends_with("; Secure"));
    }
}
