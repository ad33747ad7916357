//! Which of the proxy's routes a request path names.

use alloc::string::String;

use super::callback::ROUTE as CALLBACK_ROUTE;
use super::cors;
use super::error_code::ProxyErrorCode;
use super::reply::Reply;
use crate::model::Action;

/// The two API routes, as the upstream has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `{prefix}/job`: CreateJob, GetJob, ListJobs.
    Job,
    /// `{prefix}/music_model`: ListModels.
    MusicModel,
}

impl Endpoint {
    /// Whether `action` is posted to this route.
    pub fn serves(self, action: Action) -> bool {
        matches!(
            (self, action),
            (Endpoint::MusicModel, Action::ListModels)
                | (Endpoint::Job, Action::CreateJob | Action::GetJob | Action::ListJobs)
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Api(Endpoint),
    /// `{prefix}/callbacks/{token}`.
    Callback(String),
    /// `POST {prefix}/uploads`.
    Uploads,
    /// `GET {prefix}/events`: the caller's job events, as Server-Sent Events.
    Events,
    /// `GET {prefix}/results/{jobId}[/{outputIndex}]`.
    Result {
        job_id: String,
        output: usize,
    },
    /// Anything else: 404.
    Unknown,
}

/// The route of a path (without query), under `prefix`.
pub fn route(path: &str, prefix: &str) -> Route {
    let Some(rest) = path.strip_prefix(prefix) else { return Route::Unknown };
    match rest {
        "/job" => Route::Api(Endpoint::Job),
        "/music_model" => Route::Api(Endpoint::MusicModel),
        "/uploads" => Route::Uploads,
        "/events" => Route::Events,
        _ => {
            if let Some(token) = rest.strip_prefix(CALLBACK_ROUTE) {
                return match token {
                    "" => Route::Unknown,
                    token if token.contains('/') => Route::Unknown,
                    token => Route::Callback(token.into()),
                };
            }
            let Some(result) = rest.strip_prefix("/results/") else { return Route::Unknown };
            let (job_id, output) = result.split_once('/').unwrap_or((result, "0"));
            let id_ok = !job_id.is_empty() && job_id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
            let output = output.parse::<usize>().ok().filter(|_| output.bytes().all(|b| b.is_ascii_digit()));
            match output {
                Some(output) if id_ok && job_id != "." && job_id != ".." => {
                    Route::Result { job_id: job_id.into(), output }
                }
                _ => Route::Unknown,
            }
        }
    }
}

/// The path of an absolute URL, without query or fragment.
pub fn path_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let start = rest.find('/').unwrap_or(rest.len());
    let path = &rest[start..];
    let end = path.find(['?', '#']).unwrap_or(path.len());
    if end == 0 {
        "/"
    } else {
        &path[..end]
    }
}

/// What a request's route, method and declared length allow, before any body is read:
/// `Ok(route)` for a POST to one of the proxy's routes (a GET of a result or of events); otherwise its answer (404; 204
/// to an OPTIONS preflight, with CORS headers when `origin_allowed`; 405; or 413 when
/// `Content-Length` is over `max_body_bytes`).
pub fn admit(
    path: &str,
    method: &str,
    content_length: Option<&str>,
    prefix: &str,
    max_body_bytes: usize,
    origin_allowed: bool,
) -> Result<Route, Reply> {
    let route = route(path, prefix);
    if route == Route::Unknown {
        return Err(Reply::error(404, ProxyErrorCode::NotFound, "no such route"));
    }
    // Results are read with GET (a page's `<audio src>` follows the redirect), events too
    // (an `EventSource` only GETs); everything else is posted.
    let (expected, allow) = match route {
        Route::Result { .. } | Route::Events => ("GET", "GET, OPTIONS"),
        _ => ("POST", "POST, OPTIONS"),
    };
    if method == "OPTIONS" {
        let mut reply = Reply::empty(204).with_header("allow", allow.into());
        if origin_allowed {
            reply.headers.extend(cors::preflight_headers());
        }
        return Err(reply);
    }
    if method != expected {
        let reply = Reply::error(405, ProxyErrorCode::MethodNotAllowed, "this route does not answer this method");
        return Err(reply.with_header("allow", allow.into()));
    }
    let declared: Option<u64> = content_length.and_then(|l| l.trim().parse().ok());
    if declared.is_some_and(|length| length > max_body_bytes as u64) {
        return Err(too_large());
    }
    Ok(route)
}

/// The 413 for a body over the limit, by its declared length or as it is read.
pub fn too_large() -> Reply {
    Reply::error(413, ProxyErrorCode::TooLarge, "the body is larger than the proxy accepts")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_paths() {
        let p = "/api/singing-cloning";
        assert_eq!(route("/api/singing-cloning/job", p), Route::Api(Endpoint::Job));
        assert_eq!(route("/api/singing-cloning/music_model", p), Route::Api(Endpoint::MusicModel));
        assert_eq!(route("/api/singing-cloning/callbacks/a.b", p), Route::Callback("a.b".into()));
        for path in [
            "/api/singing-cloning",
            "/api/singing-cloning/",
            "/api/singing-cloning/job/",
            "/api/singing-cloning/callbacks/",
            "/api/singing-cloning/callbacks/a/b",
            "/api/singing-cloningjob",
            "/release/job",
            "/api/singing-cloning/../job",
            "/",
        ] {
            assert_eq!(route(path, p), Route::Unknown, "{path}");
        }
        assert_eq!(route("/job", ""), Route::Api(Endpoint::Job));
        assert_eq!(route("/api/singing-cloning/uploads", p), Route::Uploads);
        assert_eq!(route("/api/singing-cloning/events", p), Route::Events);
        assert_eq!(route("/api/singing-cloning/events/", p), Route::Unknown);
        let result = |id: &str, output| Route::Result { job_id: id.into(), output };
        assert_eq!(route("/api/singing-cloning/results/job-1_a.b", p), result("job-1_a.b", 0));
        assert_eq!(route("/api/singing-cloning/results/job-1/2", p), result("job-1", 2));
        for path in [
            "/results/",
            "/results/a/",
            "/results/a/b",
            "/results/a/+1",
            "/results/a/1/2",
            "/results/..",
            "/results/a%2F",
        ] {
            assert_eq!(route(&format!("/api/singing-cloning{path}"), p), Route::Unknown, "{path}");
        }
    }

    #[test]
    fn reads_paths_of_urls() {
        assert_eq!(path_of("http://127.0.0.1:8787/api/x/job?y=1#z"), "/api/x/job");
        assert_eq!(path_of("http://127.0.0.1:8787"), "/");
        assert_eq!(path_of("http://h?x"), "/");
    }

    #[test]
    fn each_action_has_one_route() {
        assert!(Endpoint::Job.serves(Action::GetJob));
        assert!(!Endpoint::Job.serves(Action::ListModels));
        assert!(Endpoint::MusicModel.serves(Action::ListModels));
        assert!(!Endpoint::MusicModel.serves(Action::CreateJob));
    }

    #[test]
    fn admits_posts_to_routes_and_answers_the_rest() {
        let p = "/api/singing-cloning";
        let admit = |path: &str, method: &str, length: Option<&str>, allowed: bool| {
            admit(path, method, length, p, 1000, allowed)
        };
        assert_eq!(admit("/api/singing-cloning/job", "POST", Some("1000"), false), Ok(Route::Api(Endpoint::Job)));
        let status = |r: Result<Route, Reply>| r.err().map(|reply| (reply.status, reply.error_code()));
        assert_eq!(status(admit("/nope", "POST", None, true)), Some((404, Some("not_found".into()))));
        assert_eq!(
            status(admit("/api/singing-cloning/job", "GET", None, true)),
            Some((405, Some("method_not_allowed".into())))
        );
        assert_eq!(
            status(admit("/api/singing-cloning/job", "POST", Some(" 1001 "), true)),
            Some((413, Some("too_large".into())))
        );
        assert_eq!(
            admit("/api/singing-cloning/job", "POST", Some("x"), true),
            Ok(Route::Api(Endpoint::Job)),
            "read, then limited"
        );
        assert_eq!(admit("/api/singing-cloning/events", "GET", None, false), Ok(Route::Events));
        assert_eq!(status(admit("/api/singing-cloning/events", "POST", None, true)).map(|s| s.0), Some(405));
        let preflight = admit("/api/singing-cloning/job", "OPTIONS", None, true).unwrap_err();
        assert_eq!((preflight.status, preflight.body.clone()), (204, None));
        assert!(preflight.headers.iter().any(|(n, _)| n.starts_with("access-control-allow-methods")));
        let refused = admit("/api/singing-cloning/job", "OPTIONS", None, false).unwrap_err();
        assert!(!refused.headers.iter().any(|(n, _)| n.starts_with("access-control")));
    }
}
