//! The emulator's settings: command-line flags, each with an environment fallback.

use std::path::PathBuf;

/// The credentials the emulator accepts unless told otherwise.
pub const DEFAULT_SECRET_ID: &str = "local-secret-id";
pub const DEFAULT_SECRET_KEY: &str = "local-secret-key";

/// Everything the emulator can be told.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Interface to listen on (`--host`, `SINGING_CLONING_EMULATOR_HOST`).
    pub host: String,
    /// Port; 0 picks a free one (`--port`, `SINGING_CLONING_EMULATOR_PORT`).
    pub port: u16,
    /// Where jobs, models and files live; a fresh temporary directory when `None`
    /// (`--data-dir`, `SINGING_CLONING_EMULATOR_DATA_DIR`).
    pub data_dir: Option<PathBuf>,
    /// Path prefix of the API (`--base`, `SINGING_CLONING_EMULATOR_BASE`).
    pub base: String,
    /// Milliseconds a job spends in SUBMITTED, and at least in PROCESSING
    /// (`--job-ms`, `SINGING_CLONING_EMULATOR_JOB_MS`).
    pub job_ms: u64,
    /// A fault applied to API requests (`--fault`, `SINGING_CLONING_EMULATOR_FAULT`).
    pub fault: Option<String>,
    /// The accepted pair (`--secret-id`/`--secret-key`, `SINGING_CLONING_SECRET_ID`/`SINGING_CLONING_SECRET_KEY`).
    pub secret_id: String,
    pub secret_key: String,
    /// First wait before a callback is retried, doubled each time
    /// (`--callback-backoff-ms`, `SINGING_CLONING_EMULATOR_CALLBACK_BACKOFF_MS`).
    pub callback_backoff_ms: u64,
    /// How many times a callback is tried in all (`--callback-attempts`, `SINGING_CLONING_EMULATOR_CALLBACK_ATTEMPTS`).
    pub callback_attempts: u32,
    /// Limit of one URL input download, ms (`--download-timeout-ms`).
    pub download_timeout_ms: u64,
    /// Largest URL input or content store upload, bytes (`--max-input-bytes`).
    pub max_input_bytes: u64,
    /// Largest API request body, bytes (`--max-body-bytes`): refused before it is read.
    pub max_body_bytes: u64,
    /// Time a request's headers may take, from their first byte, ms (`--header-timeout-ms`).
    pub header_timeout_ms: u64,
    /// Time a request's body may take, once its headers are in, ms (`--body-timeout-ms`).
    pub body_timeout_ms: u64,
    /// Time a connection may stay silent between requests (or stall while an answer is
    /// written) before it is closed, ms (`--idle-timeout-ms`).
    pub idle_timeout_ms: u64,
    /// Connections served at once; more wait to be accepted (`--max-connections`).
    pub max_connections: usize,
    /// Jobs whose inputs are downloaded, decoded and processed at once; 0 = one per core
    /// (`--concurrent-jobs`).
    pub concurrent_jobs: usize,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            host: "127.0.0.1".into(),
            port: 9000,
            data_dir: None,
            base: "/release".into(),
            job_ms: 1500,
            fault: None,
            secret_id: DEFAULT_SECRET_ID.into(),
            secret_key: DEFAULT_SECRET_KEY.into(),
            callback_backoff_ms: 500,
            callback_attempts: 6,
            download_timeout_ms: 10_000,
            max_input_bytes: 20 * 1024 * 1024,
            max_body_bytes: 64 * 1024,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            idle_timeout_ms: 10_000,
            max_connections: 512,
            concurrent_jobs: 0,
        }
    }
}

/// What the command line asks for.
// Parsed once at start-up: boxing the config would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    /// Run with this configuration.
    Run(Config),
    /// Print the usage.
    Help,
}

pub const USAGE: &str = "\
singing-cloning-emulator: a local emulator of the Singing Cloning API

Usage: singing-cloning-emulator [OPTIONS]

Options (each with its environment fallback):
  --port <N>                  port, 0 for a free one [SINGING_CLONING_EMULATOR_PORT, default 9000]
  --host <ADDR>               interface [SINGING_CLONING_EMULATOR_HOST, default 127.0.0.1]
  --data-dir <DIR>            jobs, models and files [SINGING_CLONING_EMULATOR_DATA_DIR, default a fresh temporary directory]
  --base <PATH>               API path prefix [SINGING_CLONING_EMULATOR_BASE, default /release]
  --job-ms <MS>               time in SUBMITTED and in PROCESSING [SINGING_CLONING_EMULATOR_JOB_MS, default 1500]
  --fault <SPEC>              fault for API requests, e.g. 503@3 [SINGING_CLONING_EMULATOR_FAULT]
  --secret-id <ID>            accepted secretId [SINGING_CLONING_SECRET_ID, default local-secret-id]
  --secret-key <KEY>          accepted secretKey [SINGING_CLONING_SECRET_KEY, default local-secret-key]
  --callback-backoff-ms <MS>  first callback retry wait [SINGING_CLONING_EMULATOR_CALLBACK_BACKOFF_MS, default 500]
  --callback-attempts <N>     callback tries in all [SINGING_CLONING_EMULATOR_CALLBACK_ATTEMPTS, default 6]
  --download-timeout-ms <MS>  URL input time limit [SINGING_CLONING_EMULATOR_DOWNLOAD_TIMEOUT_MS, default 10000]
  --max-input-bytes <N>       URL input and upload size limit [SINGING_CLONING_EMULATOR_MAX_INPUT_BYTES, default 20971520]
  --max-body-bytes <N>        API request body size limit [SINGING_CLONING_EMULATOR_MAX_BODY_BYTES, default 65536]
  --header-timeout-ms <MS>    time for a request's headers [SINGING_CLONING_EMULATOR_HEADER_TIMEOUT_MS, default 10000]
  --body-timeout-ms <MS>      time for a request's body [SINGING_CLONING_EMULATOR_BODY_TIMEOUT_MS, default 30000]
  --idle-timeout-ms <MS>      idle connection limit [SINGING_CLONING_EMULATOR_IDLE_TIMEOUT_MS, default 10000]
  --max-connections <N>       connections served at once [SINGING_CLONING_EMULATOR_MAX_CONNECTIONS, default 512]
  --concurrent-jobs <N>       jobs at once, 0 for one per core [SINGING_CLONING_EMULATOR_CONCURRENT_JOBS, default 0]
  -h, --help                  this text
";

/// Flags, their environment variables, and how each sets the config.
const SETTINGS: &[(&str, &str)] = &[
    ("--port", "SINGING_CLONING_EMULATOR_PORT"),
    ("--host", "SINGING_CLONING_EMULATOR_HOST"),
    ("--data-dir", "SINGING_CLONING_EMULATOR_DATA_DIR"),
    ("--base", "SINGING_CLONING_EMULATOR_BASE"),
    ("--job-ms", "SINGING_CLONING_EMULATOR_JOB_MS"),
    ("--fault", "SINGING_CLONING_EMULATOR_FAULT"),
    ("--secret-id", "SINGING_CLONING_SECRET_ID"),
    ("--secret-key", "SINGING_CLONING_SECRET_KEY"),
    ("--callback-backoff-ms", "SINGING_CLONING_EMULATOR_CALLBACK_BACKOFF_MS"),
    ("--callback-attempts", "SINGING_CLONING_EMULATOR_CALLBACK_ATTEMPTS"),
    ("--download-timeout-ms", "SINGING_CLONING_EMULATOR_DOWNLOAD_TIMEOUT_MS"),
    ("--max-input-bytes", "SINGING_CLONING_EMULATOR_MAX_INPUT_BYTES"),
    ("--max-body-bytes", "SINGING_CLONING_EMULATOR_MAX_BODY_BYTES"),
    ("--header-timeout-ms", "SINGING_CLONING_EMULATOR_HEADER_TIMEOUT_MS"),
    ("--body-timeout-ms", "SINGING_CLONING_EMULATOR_BODY_TIMEOUT_MS"),
    ("--idle-timeout-ms", "SINGING_CLONING_EMULATOR_IDLE_TIMEOUT_MS"),
    ("--max-connections", "SINGING_CLONING_EMULATOR_MAX_CONNECTIONS"),
    ("--concurrent-jobs", "SINGING_CLONING_EMULATOR_CONCURRENT_JOBS"),
];

impl Config {
    /// Reads the flags in `args` (without the program name) over the environment read by
    /// `env` over the defaults. `--flag value` and `--flag=value` are both accepted.
    pub fn parse(
        args: impl IntoIterator<Item = String>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Command, String> {
        let mut config = Config::default();
        for (flag, variable) in SETTINGS {
            if let Some(value) = env(variable).filter(|v| !v.is_empty()) {
                config.set(flag, &value).map_err(|e| format!("{variable}: {e}"))?;
            }
        }
        let mut args = args.into_iter();
        while let Some(arg) = args.next() {
            if arg == "-h" || arg == "--help" {
                return Ok(Command::Help);
            }
            let (flag, inline) = match arg.split_once('=') {
                Some((flag, value)) => (flag.to_string(), Some(value.to_string())),
                None => (arg.clone(), None),
            };
            if !SETTINGS.iter().any(|(f, _)| *f == flag) {
                return Err(format!("unknown argument {arg:?}; see --help"));
            }
            let value = match inline {
                Some(value) => value,
                None => args.next().ok_or_else(|| format!("{flag} needs a value"))?,
            };
            config.set(&flag, &value).map_err(|e| format!("{flag}: {e}"))?;
        }
        Ok(Command::Run(config))
    }

    fn set(&mut self, flag: &str, value: &str) -> Result<(), String> {
        fn number<T: std::str::FromStr>(value: &str) -> Result<T, String> {
            value.trim().parse().map_err(|_| format!("{value:?} is not a valid number"))
        }
        match flag {
            "--port" => self.port = number(value)?,
            "--host" => self.host = value.to_string(),
            "--data-dir" => self.data_dir = Some(PathBuf::from(value)),
            "--base" => self.base = normalize_base(value),
            "--job-ms" => self.job_ms = number(value)?,
            "--fault" => self.fault = Some(value.to_string()).filter(|v| !v.trim().is_empty()),
            "--secret-id" => self.secret_id = value.to_string(),
            "--secret-key" => self.secret_key = value.to_string(),
            "--callback-backoff-ms" => self.callback_backoff_ms = number(value)?,
            "--callback-attempts" => self.callback_attempts = number::<u32>(value)?.max(1),
            "--download-timeout-ms" => self.download_timeout_ms = number(value)?,
            "--max-input-bytes" => self.max_input_bytes = number(value)?,
            "--max-body-bytes" => self.max_body_bytes = number(value)?,
            // A timeout of 0 would close every connection at once: at least 1 ms.
            "--header-timeout-ms" => self.header_timeout_ms = number::<u64>(value)?.max(1),
            "--body-timeout-ms" => self.body_timeout_ms = number::<u64>(value)?.max(1),
            "--idle-timeout-ms" => self.idle_timeout_ms = number::<u64>(value)?.max(1),
            "--max-connections" => self.max_connections = number::<usize>(value)?.max(1),
            "--concurrent-jobs" => self.concurrent_jobs = number(value)?,
            _ => return Err("unknown flag".into()),
        }
        Ok(())
    }
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
    use super::*;

    fn parse(args: &[&str], env: &[(&str, &str)]) -> Result<Command, String> {
        let env: Vec<(String, String)> = env.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::parse(args.iter().map(|s| s.to_string()), move |k| {
            env.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone())
        })
    }

    #[test]
    fn flags_override_the_environment_which_overrides_defaults() {
        let Command::Run(config) = parse(
            &["--port", "0", "--fault=503@3"],
            &[("SINGING_CLONING_EMULATOR_PORT", "7000"), ("SINGING_CLONING_EMULATOR_JOB_MS", "50")],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(config.port, 0);
        assert_eq!(config.job_ms, 50);
        assert_eq!(config.fault.as_deref(), Some("503@3"));
        assert_eq!(config.secret_id, DEFAULT_SECRET_ID);
        assert_eq!(config.base, "/release");
    }

    #[test]
    fn limits_and_timeouts_come_from_flags_and_the_environment() {
        let Command::Run(config) = parse(
            &["--header-timeout-ms", "250", "--max-connections=0", "--concurrent-jobs", "3"],
            &[
                ("SINGING_CLONING_EMULATOR_BODY_TIMEOUT_MS", "400"),
                ("SINGING_CLONING_EMULATOR_IDLE_TIMEOUT_MS", "0"),
                ("SINGING_CLONING_EMULATOR_MAX_BODY_BYTES", "1000"),
                ("SINGING_CLONING_EMULATOR_HEADER_TIMEOUT_MS", "9"),
            ],
        )
        .unwrap() else {
            panic!()
        };
        assert_eq!(
            (config.header_timeout_ms, config.body_timeout_ms, config.idle_timeout_ms, config.max_body_bytes),
            (250, 400, 1, 1000)
        );
        assert_eq!((config.max_connections, config.concurrent_jobs), (1, 3));
        let defaults = Config::default();
        assert_eq!(
            (defaults.header_timeout_ms, defaults.idle_timeout_ms, defaults.max_body_bytes),
            (10_000, 10_000, 65_536)
        );
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(parse(&["--port", "x"], &[]).is_err());
        assert!(parse(&["--nope"], &[]).is_err());
        assert!(parse(&["--port"], &[]).is_err());
        assert_eq!(parse(&["--help"], &[]), Ok(Command::Help));
        assert_eq!(normalize_base("release/"), "/release");
        assert_eq!(normalize_base("/"), "");
    }
}
