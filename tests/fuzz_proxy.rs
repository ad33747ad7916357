//! Fuzz targets of the proxy's decisions on what comes in from outside: the route of a
//! path, a caller's body, its headers (cookie, origin, content type, client address), and
//! callbacks (tokens, hosts, the re-read job). Pure Rust, so run natively: `cargo test
//! --release --features proxy --test fuzz_proxy` (scripts/fuzz.sh). Each prints
//! `fuzz <name>: <N> inputs, <M> findings`.
#![cfg(all(feature = "proxy", not(target_arch = "wasm32")))]

mod fuzz_engine;

use singing_cloning::model::value::to_value;
use singing_cloning::proxy::callback::{self, check_host};
use singing_cloning::proxy::config::{CallbackTargets, Policy};
use singing_cloning::proxy::route::{self, Endpoint, Route};
use singing_cloning::proxy::scope::{Owned, Scope};
use singing_cloning::proxy::scrub::Scrubber;
use singing_cloning::proxy::{admission, cors, identity, inbound, policy, webhook};
use singing_cloning::*;

const SECRET: &str = "the proxy secret of the fuzz targets";
const PREFIX: &str = "/api/singing-cloning";

/// A caller's body: never a panic; an accepted body carries no credentials, passes the
/// SDK's check again once rebuilt, and survives policy and scoping; scoping then
/// unscoping an answer built from it never panics.
#[test]
fn fuzz_proxy_body() {
    let policy = Policy { allow_training: true, max_total_epoch: Some(10), allowed_models: None };
    let scope = Scope { prefix: identity::scope_prefix(SECRET, &identity::user("fuzz")), models: true, files: true };
    fuzz_engine::run("proxy_body", fuzz_engine::fixtures(), fuzz_engine::JSON_TOKENS, |bytes| {
        let mut keep = false;
        for endpoint in [Endpoint::Job, Endpoint::MusicModel] {
            let Ok(mut envelope) = inbound::read_body(bytes, endpoint, 32) else { continue };
            keep = true;
            if envelope.credentials.is_some() {
                return Err("an accepted body carries credentials".into());
            }
            let rebuilt = to_value(&envelope);
            check_request(&rebuilt).map_err(|i| format!("accepted, but refused once rebuilt: {i:?}"))?;
            let _ = policy::apply(&mut envelope, &policy);
            if scope.scope_request(&mut envelope).is_empty() {
                // The scoped request's own object (`createJobRequest`, …) stands in for a job in an answer.
                let whole = to_value(&envelope);
                let request = match &whole {
                    Value::Object(members) => {
                        members.iter().find(|(k, _)| k.ends_with("Request")).map(|(_, v)| v.to_json())
                    }
                    _ => None,
                };
                let request = request.ok_or("a scoped envelope without its request object")?;
                let mut answer = Value::parse(&format!(r#"{{"getJobResponse":{{"job":{request}}}}}"#))
                    .map_err(|e| format!("a scoped request writes bad JSON: {e:?}"))?;
                let owned = scope.unscope_answer(Action::GetJob, &mut answer, &|_, _| None);
                let _ = matches!(owned, Owned::Yes);
            }
        }
        Ok(keep)
    });
}

/// Paths: never a panic; a callback route's token is one non-empty segment.
#[test]
fn fuzz_proxy_route() {
    let corpus: Vec<Vec<u8>> = [
        "http://127.0.0.1:8787/api/singing-cloning/job",
        "http://h/api/singing-cloning/music_model?x=1#y",
        "https://p.example/api/singing-cloning/callbacks/abc.def",
        "/api/singing-cloning/../job",
        "http://h",
        "",
    ]
    .iter()
    .map(|s| s.as_bytes().to_vec())
    .collect();
    let tokens: &[&[u8]] =
        &[b"/", b"?", b"#", b"%2F", b"..", b"callbacks/", b"job", b"music_model", b"://", b"/api/singing-cloning"];
    fuzz_engine::run("proxy_route", corpus, tokens, |bytes| {
        let url = String::from_utf8_lossy(bytes);
        let path = route::path_of(&url);
        match route::route(path, PREFIX) {
            Route::Callback(token) if token.is_empty() || token.contains('/') => {
                Err(format!("a bad callback token {token:?}"))
            }
            Route::Unknown => Ok(false),
            _ => Ok(true),
        }
    });
}

/// Headers: cookies open only when signed and fresh, and exactly as written; origins are
/// allowed only when listed; client addresses come out as addresses or /64 blocks.
#[test]
fn fuzz_proxy_headers() {
    let now = 1_800_000_000;
    let valid = identity::session_value(SECRET, &identity::new_session_id(&[3; 16]), now);
    let corpus: Vec<Vec<u8>> = [
        format!("sc_session={valid}"),
        format!("a=1; sc_session={valid}; b=2"),
        "https://app.example".into(),
        "application/json; charset=utf-8".into(),
        "203.0.113.7".into(),
        "2001:db8::1, 198.51.100.2".into(),
        "[::1]:443".into(),
    ]
    .into_iter()
    .map(String::into_bytes)
    .collect();
    let tokens: &[&[u8]] =
        &[b";", b"=", b".", b"\"", b"sc_session=", b",", b":", b"[", b"]", b"::ffff:", b"-", b"_", b"+", b"/"];
    let allowed = vec![String::from("https://app.example")];
    fuzz_engine::run("proxy_headers", corpus, tokens, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        if let Some(value) = identity::find_cookie(&text, identity::SESSION_COOKIE) {
            if let Some(id) = identity::open_session(SECRET, value, now, 86_400) {
                if value != valid || !valid.starts_with(id) {
                    return Err(format!("a cookie that was never issued opens: {value}"));
                }
            }
        }
        if let cors::Origin::Allowed(origin) = cors::check(Some(&text), &allowed, &["https://proxy.example"]) {
            let lower = origin.to_ascii_lowercase();
            if lower != "https://app.example" && lower != "https://proxy.example" {
                return Err(format!("an unlisted origin is allowed: {origin}"));
            }
        }
        let _ = inbound::is_json(Some(&text));
        for key in [
            admission::client_key(None, None, Some(&text)),
            admission::client_key(Some("x-real-ip"), Some(&text), None),
        ]
        .into_iter()
        .flatten()
        {
            let address = key.strip_suffix("/64").unwrap_or(&key);
            address.parse::<std::net::IpAddr>().map_err(|_| format!("a client key that is no address: {key}"))?;
        }
        Ok(false)
    });
}

/// Callbacks: a token opens only for its own `customId` and unchanged; any host is
/// sorted without a panic, and nothing that parses as a special-purpose address passes;
/// `webhook::plan` on any re-read job never panics and never delivers for another token.
#[test]
fn fuzz_proxy_callbacks() {
    let target = "https://hooks.example.com/done?x=1";
    let custom_id = "uabcdefghijk_song";
    let token = callback::token(SECRET, custom_id, target);
    let url = callback::url("https://proxy.example", PREFIX, &token);
    let job = format!(r#"{{"id":"j-1","customId":"{custom_id}","callback":"{url}","state":3,"outputs":[]}}"#);
    let corpus: Vec<Vec<u8>> =
        [token.clone(), job.clone(), "hooks.example.com".into(), "[::ffff:0:127.0.0.1]".into(), "127.0.0.1".into()]
            .into_iter()
            .map(String::into_bytes)
            .collect();
    let scrubber = Scrubber::new(&[SECRET.into()]);
    let rules = CallbackTargets::default();
    fuzz_engine::run("proxy_callbacks", corpus, fuzz_engine::JSON_TOKENS, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        if let Some(opened) = callback::open(SECRET, &text, custom_id) {
            if text != token || opened != target {
                return Err(format!("a token that was never made opens: {text}"));
            }
        }
        if check_host(&text, &rules).is_ok() {
            let bare = text.trim_end_matches('.').trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = bare.parse::<std::net::IpAddr>() {
                let special = match ip {
                    std::net::IpAddr::V4(v4) => {
                        v4.is_private() || v4.is_loopback() || v4.is_link_local() || v4.is_unspecified()
                    }
                    std::net::IpAddr::V6(v6) => {
                        v6.is_loopback() || v6.is_unspecified() || v6.to_ipv4_mapped().is_some()
                    }
                };
                if special {
                    return Err(format!("a special-purpose address passes: {text}"));
                }
            }
        }
        if let Ok(job) = Value::parse(&text) {
            let cx = webhook::Context {
                prefix: PREFIX,
                scoped_models: true,
                scoped_files: true,
                key: b"key",
                scrubber: &scrubber,
            };
            if webhook::plan(&job, custom_id, "another.token", target.into(), 1, &cx).is_ok() {
                return Err(format!("a delivery for a token the job does not carry: {text}"));
            }
            let _ = webhook::plan(&job, custom_id, &token, target.into(), 1, &cx);
            return Ok(true);
        }
        Ok(false)
    });
}
