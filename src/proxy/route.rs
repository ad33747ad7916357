//! Which of the proxy's routes a request path names.

use alloc::string::String;

use super::callback::ROUTE as CALLBACK_ROUTE;
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
    /// Anything else: 404.
    Unknown,
}

/// The route of a path (without query), under `prefix`.
pub fn route(path: &str, prefix: &str) -> Route {
    let Some(rest) = path.strip_prefix(prefix) else { return Route::Unknown };
    match rest {
        "/job" => Route::Api(Endpoint::Job),
        "/music_model" => Route::Api(Endpoint::MusicModel),
        _ => match rest.strip_prefix(CALLBACK_ROUTE) {
            Some(token) if !token.is_empty() && !token.contains('/') => Route::Callback(token.into()),
            _ => Route::Unknown,
        },
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
}
