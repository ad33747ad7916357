//! The emulator's settings. Each is a command-line flag, declared once below with its
//! environment variable and its default (clap reads both); its doc comment is its help.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;
use std::str::FromStr;

use clap::{CommandFactory, FromArgMatches, Parser};

use crate::sigv4::StoreKeys;

/// The `secretId` the emulator accepts unless told otherwise.
pub const DEFAULT_SECRET_ID: &str = "local-secret-id";
/// The `secretKey` the emulator accepts unless told otherwise.
pub const DEFAULT_SECRET_KEY: &str = "local-secret-key";

/// Everything the emulator can be told. From the command line, [`Config::from_args`]: a flag
/// wins over its environment variable, which wins over the default.
#[derive(Debug, Clone, PartialEq, Parser)]
#[command(
    name = "singing-cloning-emulator",
    about = "A local emulator of the Singing Cloning API.",
    long_about = "A local emulator of the Singing Cloning API.\n\n\
                  Every flag has an environment fallback: a flag wins over its variable, which wins over the \
                  default. An empty variable counts as unset. `--flag value` and `--flag=value` both work."
)]
pub struct Config {
    /// Port; 0 picks a free one (read it from the first line printed).
    #[arg(long, env = "SINGING_CLONING_EMULATOR_PORT", default_value_t = 9000, value_name = "N")]
    #[arg(value_parser = number::<u16>)]
    pub port: u16,
    /// Interface to listen on.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_HOST", default_value = "127.0.0.1", value_name = "ADDR")]
    pub host: String,
    /// Where jobs, models and files live [default: a fresh temporary directory].
    #[arg(long, env = "SINGING_CLONING_EMULATOR_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Path prefix of the API: `release`, `/release/` and `/release` all mean `/release`; `/`
    /// means the root.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_BASE", default_value = "/release", value_name = "PATH")]
    #[arg(value_parser = base_path)]
    pub base: String,
    /// Milliseconds a job spends in SUBMITTED, and at least in PROCESSING (tests use ~20–50).
    #[arg(long, env = "SINGING_CLONING_EMULATOR_JOB_MS", default_value_t = 1500, value_name = "MS")]
    #[arg(value_parser = number::<u64>)]
    pub job_ms: u64,
    /// A fault for every API request, or every Nth with `@N`: e.g. `503`, `delay=200,503`,
    /// `503@3` (the specs of the `x-emulator-fault` header).
    #[arg(long, env = "SINGING_CLONING_EMULATOR_FAULT", value_name = "SPEC")]
    pub fault: Option<String>,
    /// The accepted `secretId`.
    #[arg(long, env = "SINGING_CLONING_SECRET_ID", default_value = DEFAULT_SECRET_ID, value_name = "ID")]
    #[arg(hide_env_values = true)]
    pub secret_id: String,
    /// The accepted `secretKey`.
    #[arg(long, env = "SINGING_CLONING_SECRET_KEY", default_value = DEFAULT_SECRET_KEY, value_name = "KEY")]
    #[arg(hide_env_values = true)]
    pub secret_key: String,
    /// First wait before a callback is retried, ms; doubled each time, at most 10 s.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_CALLBACK_BACKOFF_MS", default_value_t = 500, value_name = "MS")]
    #[arg(value_parser = number::<u64>)]
    pub callback_backoff_ms: u64,
    /// How many times a callback is tried in all (at least 1).
    #[arg(long, env = "SINGING_CLONING_EMULATOR_CALLBACK_ATTEMPTS", default_value_t = 6, value_name = "N")]
    #[arg(value_parser = at_least_one::<u32>)]
    pub callback_attempts: u32,
    /// Time limit of one `url` input download, ms.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_DOWNLOAD_TIMEOUT_MS", default_value_t = 10_000, value_name = "MS")]
    #[arg(value_parser = number::<u64>)]
    pub download_timeout_ms: u64,
    /// Size limit of a `url` input and of a content store upload, bytes.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_MAX_INPUT_BYTES", default_value_t = 20 * 1024 * 1024)]
    #[arg(value_name = "N", value_parser = number::<u64>)]
    pub max_input_bytes: u64,
    /// Size limit of an API request body, bytes: a larger one is refused before it is read.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_MAX_BODY_BYTES", default_value_t = 64 * 1024, value_name = "N")]
    #[arg(value_parser = number::<u64>)]
    pub max_body_bytes: u64,
    // A timeout of 0 would close every connection at once: each is at least 1 ms.
    /// Time a request's headers may take, from their first byte, ms.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_HEADER_TIMEOUT_MS", default_value_t = 10_000, value_name = "MS")]
    #[arg(value_parser = at_least_one::<u64>)]
    pub header_timeout_ms: u64,
    /// Time a request's body may take, once its headers are in, ms.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_BODY_TIMEOUT_MS", default_value_t = 30_000, value_name = "MS")]
    #[arg(value_parser = at_least_one::<u64>)]
    pub body_timeout_ms: u64,
    /// Time a connection may stay silent between requests (or stall while an answer is
    /// written) before it is closed, ms.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_IDLE_TIMEOUT_MS", default_value_t = 10_000, value_name = "MS")]
    #[arg(value_parser = at_least_one::<u64>)]
    pub idle_timeout_ms: u64,
    /// Connections served at once (at least 1); more wait to be accepted.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_MAX_CONNECTIONS", default_value_t = 512, value_name = "N")]
    #[arg(value_parser = at_least_one::<usize>)]
    pub max_connections: usize,
    /// Jobs whose inputs are downloaded, decoded and processed at once; 0 = one per core.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_CONCURRENT_JOBS", default_value_t = 0, value_name = "N")]
    #[arg(value_parser = number::<usize>)]
    pub concurrent_jobs: usize,
    /// The S3 access key id of the content store: with `--store-secret-access-key`, every
    /// `/cos` request must be presigned with that pair (AWS Signature Version 4) [default: an
    /// open store].
    #[arg(long, env = "SINGING_CLONING_EMULATOR_STORE_ACCESS_KEY_ID", value_name = "ID")]
    #[arg(hide_env_values = true, requires = "store_secret_access_key")]
    pub store_access_key_id: Option<String>,
    /// The S3 secret access key of the content store (see `--store-access-key-id`).
    #[arg(long, env = "SINGING_CLONING_EMULATOR_STORE_SECRET_ACCESS_KEY", value_name = "KEY")]
    #[arg(hide_env_values = true, requires = "store_access_key_id")]
    pub store_secret_access_key: Option<String>,
    /// The S3 region presigned content store URLs must be signed for.
    #[arg(long, env = "SINGING_CLONING_EMULATOR_STORE_REGION", default_value = "us-east-1", value_name = "REGION")]
    pub store_region: String,
}

impl Default for Config {
    /// The declared defaults, whatever the environment says.
    fn default() -> Self {
        Config::read(["singing-cloning-emulator"], |_| false).expect("the declared defaults are valid")
    }
}

impl Config {
    /// Reads the command line `args` (the program's name first) over the environment over
    /// the defaults. The error prints the help, or what is wrong, with [`clap::Error::exit`].
    pub fn from_args<I, T>(args: I) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        // `VAR= command` (or an empty value a script passes on) means "not set", not "".
        Config::read(args, |name| std::env::var_os(name).is_none_or(|value| !value.is_empty()))
    }

    /// Reads `args` with the environment variables that `uses` keeps, the others taken as unset.
    fn read<I, T>(args: I, uses: impl Fn(&OsStr) -> bool) -> Result<Config, clap::Error>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let command = Config::command().mut_args(|arg| {
            let unused = arg.get_env().is_some_and(|name| !uses(name));
            if unused {
                arg.env(None)
            } else {
                arg
            }
        });
        let mut config = Config::from_arg_matches(&command.try_get_matches_from(args)?)?;
        // `--fault ''` (a script's unset variable passed on) is no fault, as an empty variable is.
        config.fault = config.fault.filter(|spec| !spec.trim().is_empty());
        Ok(config)
    }

    /// The key pair the content store requires presigned requests to be signed with, and
    /// its region; `None` for an open store (no pair configured).
    pub fn store_keys(&self) -> Option<StoreKeys> {
        match (&self.store_access_key_id, &self.store_secret_access_key) {
            (Some(id), Some(secret)) => Some(StoreKeys {
                access_key_id: id.clone(),
                secret_access_key: secret.clone(),
                region: self.store_region.clone(),
            }),
            _ => None,
        }
    }
}

/// A number, spaces around it allowed (as an environment variable may have them).
fn number<T: FromStr>(value: &str) -> Result<T, String> {
    value.trim().parse().map_err(|_| format!("{value:?} is not a valid number"))
}

/// A number, 0 taken as 1: for a count or a time that 0 would make useless.
fn at_least_one<T: FromStr + From<u8> + Ord>(value: &str) -> Result<T, String> {
    number(value).map(|n: T| n.max(T::from(1)))
}

fn base_path(value: &str) -> Result<String, String> {
    Ok(normalize_base(value))
}

/// `release`, `/release/` and `/release` all mean `/release`; `/` and `` mean the root.
pub fn normalize_base(base: &str) -> String {
    let trimmed = base.trim().trim_matches('/');
    if trimmed.is_empty() {
        String::new()
    } else {
        format!("/{trimmed}")
    }
}

#[cfg(test)]
mod tests {
    use clap::error::ErrorKind;

    use super::*;

    /// `args` after the program's name, with no environment.
    fn parse(args: &[&str]) -> Result<Config, clap::Error> {
        Config::read(std::iter::once("singing-cloning-emulator").chain(args.iter().copied()), |_| false)
    }

    #[test]
    fn the_declarations_are_consistent() {
        Config::command().debug_assert();
    }

    #[test]
    fn flags_override_the_defaults() {
        let config = parse(&["--port", "0", "--fault=503@3", "--base", "v1/", "--job-ms", " 50 "]).unwrap();
        assert_eq!((config.port, config.job_ms, config.fault.as_deref()), (0, 50, Some("503@3")));
        assert_eq!((config.base.as_str(), config.secret_id.as_str()), ("/v1", DEFAULT_SECRET_ID));
        assert_eq!(parse(&["--fault", " "]).unwrap().fault, None);
        assert_eq!(parse(&["--data-dir", "/tmp/x"]).unwrap().data_dir, Some(PathBuf::from("/tmp/x")));
    }

    #[test]
    fn limits_and_timeouts_are_at_least_one_where_zero_would_stop_everything() {
        let config = parse(&[
            "--header-timeout-ms",
            "250",
            "--max-connections=0",
            "--concurrent-jobs",
            "3",
            "--idle-timeout-ms=0",
            "--callback-attempts=0",
        ])
        .unwrap();
        assert_eq!((config.header_timeout_ms, config.idle_timeout_ms), (250, 1));
        assert_eq!((config.max_connections, config.concurrent_jobs, config.callback_attempts), (1, 3, 1));
    }

    #[test]
    fn the_defaults_are_the_declared_ones() {
        let defaults = Config::default();
        assert_eq!(defaults, parse(&[]).unwrap());
        assert_eq!((defaults.host.as_str(), defaults.port, defaults.base.as_str()), ("127.0.0.1", 9000, "/release"));
        assert_eq!((defaults.data_dir, defaults.fault), (None, None));
        assert_eq!((defaults.job_ms, defaults.callback_backoff_ms, defaults.callback_attempts), (1500, 500, 6));
        assert_eq!(
            (defaults.header_timeout_ms, defaults.body_timeout_ms, defaults.idle_timeout_ms),
            (10_000, 30_000, 10_000)
        );
        assert_eq!((defaults.max_input_bytes, defaults.max_body_bytes), (20 * 1024 * 1024, 65_536));
        assert_eq!((defaults.max_connections, defaults.concurrent_jobs), (512, 0));
    }

    #[test]
    fn a_store_key_pair_is_both_halves_or_none() {
        assert_eq!(Config::default().store_keys(), None);
        assert_eq!(Config::default().store_region, "us-east-1");
        let config = parse(&["--store-access-key-id", "id", "--store-secret-access-key=secret"]).unwrap();
        let keys = config.store_keys().unwrap();
        assert_eq!((keys.access_key_id.as_str(), keys.secret_access_key.as_str()), ("id", "secret"));
        assert_eq!(keys.region, "us-east-1");
        assert!(!format!("{keys:?}").contains("secret\""), "{keys:?}");
        let region = parse(&["--store-access-key-id=i", "--store-secret-access-key=s", "--store-region", "auto"]);
        assert_eq!(region.unwrap().store_keys().unwrap().region, "auto");
        assert!(parse(&["--store-access-key-id", "id"]).is_err());
        assert!(parse(&["--store-secret-access-key", "secret"]).is_err());
    }

    #[test]
    fn bad_arguments_are_refused() {
        for args in [&["--port", "x"][..], &["--port", "70000"], &["--nope"], &["--port"], &["9000"]] {
            assert!(parse(args).is_err(), "{args:?}");
        }
        assert_eq!(parse(&["--help"]).unwrap_err().kind(), ErrorKind::DisplayHelp);
        assert_eq!(normalize_base("release/"), "/release");
        assert_eq!(normalize_base("/"), "");
    }
}
