//! The data directory: one JSON file per job, `models.json`, and the content store.
//!
//! ```text
//! <data-dir>/jobs/<job id>.json      a job and what the emulator keeps beside it
//! <data-dir>/models.json             the trained models and their voice profiles
//! <data-dir>/cos/<contentId>/<path>  the content store, served at GET /cos/{contentId}/{path}
//! ```
//! Every file is written to a temporary name and renamed, so a crash never leaves half a file.

use std::fs;
use std::io;
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use singing_cloning::Job;

use crate::models::ModelRecord;

/// A job as it is kept: the wire job and what the wire does not carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JobRecord {
    pub job: Job,
    /// Creation order.
    pub seq: u64,
    /// The request's `timeout`, seconds.
    #[serde(default)]
    pub timeout: Option<u32>,
    /// Why the job is in ERROR.
    #[serde(default)]
    pub error: Option<String>,
}

/// `models.json`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelsFile {
    /// When this data directory was first used: the `default` model's `createdAt`.
    pub default_created_at: String,
    pub models: Vec<ModelRecord>,
}

/// The data directory.
#[derive(Debug, Clone)]
pub struct Store {
    root: PathBuf,
}

impl Store {
    /// Opens (creating what is missing) the data directory at `root`.
    pub fn open(root: &Path) -> io::Result<Store> {
        fs::create_dir_all(root.join("jobs"))?;
        fs::create_dir_all(root.join("cos"))?;
        Ok(Store { root: root.to_path_buf() })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Writes `bytes` to `path` through a temporary file and a rename.
    pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
        let parent = path.parent().ok_or_else(|| io::Error::other("a file needs a directory"))?;
        fs::create_dir_all(parent)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temporary = parent.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        fs::write(&temporary, bytes)?;
        fs::rename(&temporary, path).inspect_err(|_| {
            let _ = fs::remove_file(&temporary);
        })
    }

    pub fn save_job(&self, record: &JobRecord) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(record).map_err(io::Error::other)?;
        Store::write_atomic(&self.root.join("jobs").join(format!("{}.json", record.job.id)), &bytes)
    }

    /// Every readable job file, in creation order; unreadable ones are reported and skipped.
    pub fn load_jobs(&self) -> io::Result<Vec<JobRecord>> {
        let mut records = Vec::new();
        for entry in fs::read_dir(self.root.join("jobs"))? {
            let path = entry?.path();
            if path.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            match fs::read(&path)
                .map_err(|e| e.to_string())
                .and_then(|b| serde_json::from_slice(&b).map_err(|e| e.to_string()))
            {
                Ok(record) => records.push(record),
                Err(e) => eprintln!("emulator: skipping unreadable job file {}: {e}", path.display()),
            }
        }
        records.sort_by_key(|r: &JobRecord| r.seq);
        Ok(records)
    }

    pub fn save_models(&self, models: &ModelsFile) -> io::Result<()> {
        let bytes = serde_json::to_vec_pretty(models).map_err(io::Error::other)?;
        Store::write_atomic(&self.root.join("models.json"), &bytes)
    }

    /// `models.json`, or `None` on a new data directory.
    pub fn load_models(&self) -> io::Result<Option<ModelsFile>> {
        match fs::read(self.root.join("models.json")) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(io::Error::other),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The file of `path` in repository `content_id`, or `None` when either would leave
    /// the content store (`..`, an absolute or drive path, a separator in the repository id).
    pub fn content_path(&self, content_id: &str, path: &str) -> Option<PathBuf> {
        if !is_safe_segment(content_id) {
            return None;
        }
        let mut out = self.root.join("cos").join(content_id);
        let mut depth = 0;
        for segment in path.split('/').filter(|s| !s.is_empty() && *s != ".") {
            if !is_safe_segment(segment) {
                return None;
            }
            out.push(segment);
            depth += 1;
        }
        (depth > 0).then_some(out)
    }
}

/// One path segment that stays where it is put.
fn is_safe_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && !segment.contains(['/', '\\', '\0', ':'])
        && Path::new(segment).components().all(|c| matches!(c, Component::Normal(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_paths_stay_inside_the_store() {
        let store = Store { root: PathBuf::from("/data") };
        assert_eq!(store.content_path("repo", "/out/a.wav"), Some(PathBuf::from("/data/cos/repo/out/a.wav")));
        assert_eq!(store.content_path("repo", "a.wav"), Some(PathBuf::from("/data/cos/repo/a.wav")));
        for (repo, path) in [
            ("..", "a"),
            ("repo", "../a"),
            ("repo", "/x/../../a"),
            ("a/b", "c"),
            ("repo", "/"),
            ("repo", "c:\\x"),
            ("", "a"),
        ] {
            assert_eq!(store.content_path(repo, path), None, "{repo} {path}");
        }
    }
}
