//! The data directory: one JSON file per job, `models.json`, and the content store.
//!
//! ```text
//! <data-dir>/jobs/<job id>.json      a job and what the emulator keeps beside it
//! <data-dir>/models.json             the trained models and their voice profiles
//! <data-dir>/cos/<contentId>/<path>  the content store, served at GET /cos/{contentId}/{path}
//! ```
//! Every file is written to a temporary name and renamed, so a crash never leaves half a file.
//! The records kept ([`JobRecord`], [`ModelRecord`], [`ModelsFile`]) are defined here, with the
//! files they are kept in.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

use serde::{Deserialize, Serialize};
use singing_cloning::Job;

use crate::audio::profile::VoiceProfile;

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
    /// Set (and saved) before the job's inputs are read and its audio processed; cleared
    /// when the emulator stops cleanly. A PROCESSING job found with it set at start-up was
    /// being worked on when the process died, perhaps because of it: it ends in ERROR
    /// instead of being tried again, so that one bad input cannot crash every restart.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub attempted: bool,
}

/// A trained model as it is kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModelRecord {
    pub name: String,
    /// Milliseconds since the epoch, as a string.
    pub created_at: String,
    /// The job that trained it.
    #[serde(default)]
    pub job_id: String,
    pub profile: VoiceProfile,
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

    /// Writes `bytes` to `path` through a temporary file and a rename. The rename replaces
    /// whatever `path` is, a symbolic link included, without following it.
    pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
        let parent = path.parent().ok_or_else(|| io::Error::other("a file needs a directory"))?;
        fs::create_dir_all(parent)?;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
        let temporary = parent.join(format!(".{name}.{}.tmp", uuid::Uuid::new_v4().simple()));
        let written = no_follow(fs::OpenOptions::new().write(true).create_new(true))
            .open(&temporary)
            .and_then(|mut file| file.write_all(bytes));
        written.and_then(|()| fs::rename(&temporary, path)).inspect_err(|_| {
            let _ = fs::remove_file(&temporary);
        })
    }

    /// Writes a file of the content store (a path from [`Store::content_path`]), creating
    /// its directories, and refusing to go through a symbolic link anywhere below
    /// `<data-dir>/cos`: a link planted in the store must not let a PUT or a job's result
    /// write outside it.
    pub fn write_content(&self, file: &Path, bytes: &[u8]) -> io::Result<()> {
        self.walk_content_dirs(file, true)?;
        Store::write_atomic(file, bytes)
    }

    /// Reads a file of the content store (a path from [`Store::content_path`]) of at most
    /// `limit` bytes, refusing symbolic links anywhere below `<data-dir>/cos` and anything
    /// that is not a regular file (a FIFO would block the reader forever).
    pub fn read_content(&self, file: &Path, limit: u64) -> Result<Vec<u8>, ContentError> {
        self.walk_content_dirs(file, false).map_err(ContentError::from)?;
        let mut options = fs::OpenOptions::new();
        options.read(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
            options.custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK);
        }
        let file = options.open(file).map_err(ContentError::from)?;
        let metadata = file.metadata().map_err(ContentError::from)?;
        if metadata.is_dir() {
            return Err(ContentError::NotFound);
        }
        if !metadata.is_file() {
            return Err(ContentError::Refused);
        }
        if metadata.len() > limit {
            return Err(ContentError::TooLarge(metadata.len()));
        }
        let mut bytes = Vec::with_capacity(metadata.len() as usize);
        // `take`: the file may grow between the check and the read.
        file.take(limit.saturating_add(1)).read_to_end(&mut bytes).map_err(ContentError::from)?;
        if bytes.len() as u64 > limit {
            return Err(ContentError::TooLarge(bytes.len() as u64));
        }
        Ok(bytes)
    }

    /// Checks each directory between `<data-dir>/cos` and `file` with `symlink_metadata`
    /// (which never follows a link): each must be a real directory; a missing one is created
    /// when `create`. Then `file` itself must not be a link. Paths outside the store are refused.
    fn walk_content_dirs(&self, file: &Path, create: bool) -> io::Result<()> {
        let base = self.root.join("cos");
        let relative = file.strip_prefix(&base).map_err(|_| refused("the path is outside the content store"))?;
        let mut at = base;
        let mut components = relative.components().peekable();
        while let Some(component) = components.next() {
            let Component::Normal(name) = component else {
                return Err(refused("the path is not plain"));
            };
            at.push(name);
            let last = components.peek().is_none();
            match fs::symlink_metadata(&at) {
                Ok(metadata) if metadata.file_type().is_symlink() => {
                    return Err(refused("the path goes through a symbolic link"));
                }
                Ok(metadata) if !last && !metadata.is_dir() => return Err(refused("the path goes through a file")),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound && create && !last => {
                    match fs::create_dir(&at) {
                        Ok(()) => {}
                        // Created meanwhile by another request: checked on the next turn.
                        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                            if fs::symlink_metadata(&at)?.file_type().is_symlink() {
                                return Err(refused("the path goes through a symbolic link"));
                            }
                        }
                        Err(e) => return Err(e),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::NotFound && last => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
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

/// Why a file of the content store cannot be read.
#[derive(Debug)]
pub enum ContentError {
    /// No such file.
    NotFound,
    /// A symbolic link, or something that is not a regular file.
    Refused,
    /// Larger than the limit: the file's size.
    TooLarge(u64),
    /// Another failure of the file system.
    Io(io::Error),
}

impl From<io::Error> for ContentError {
    fn from(e: io::Error) -> Self {
        match e.kind() {
            io::ErrorKind::NotFound => ContentError::NotFound,
            io::ErrorKind::PermissionDenied => ContentError::Refused,
            // ELOOP: O_NOFOLLOW met a symbolic link.
            _ if is_link_error(&e) => ContentError::Refused,
            _ => ContentError::Io(e),
        }
    }
}

fn is_link_error(e: &io::Error) -> bool {
    #[cfg(unix)]
    {
        e.raw_os_error() == Some(libc::ELOOP)
    }
    #[cfg(not(unix))]
    {
        let _ = e;
        false
    }
}

fn refused(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::PermissionDenied, message)
}

/// `options` with `O_NOFOLLOW` where the platform has it: opening a symbolic link fails.
fn no_follow(options: &mut fs::OpenOptions) -> &mut fs::OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    options
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
