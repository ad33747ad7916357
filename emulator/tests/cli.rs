//! The binary's command line, as the project's scripts and tests use it: every flag and
//! environment variable by name, a flag over its variable over the default, an empty
//! variable as unset, and a clear error with a non-zero exit for a bad value.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

/// The flags and variables that scripts, tests and the READMEs name: renaming one breaks them.
const SETTINGS: [(&str, &str); 21] = [
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
    ("--store-access-key-id", "SINGING_CLONING_EMULATOR_STORE_ACCESS_KEY_ID"),
    ("--store-secret-access-key", "SINGING_CLONING_EMULATOR_STORE_SECRET_ACCESS_KEY"),
    ("--store-region", "SINGING_CLONING_EMULATOR_STORE_REGION"),
];

/// The binary with `args` and the variables `env`, and none of the settings this process has.
fn emulator(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_singing-cloning-emulator"));
    for (name, _) in std::env::vars().filter(|(name, _)| name.starts_with("SINGING_CLONING_")) {
        command.env_remove(name);
    }
    command.args(args).envs(env.iter().copied());
    command
}

fn run(args: &[&str], env: &[(&str, &str)]) -> Output {
    emulator(args, env).output().expect("the binary runs")
}

#[test]
fn help_names_every_flag_and_its_variable() {
    // Secrets set in the environment are not shown by --help.
    let secrets = [
        ("SINGING_CLONING_SECRET_KEY", "hidden-api-key"),
        ("SINGING_CLONING_EMULATOR_STORE_ACCESS_KEY_ID", "hidden-key-id"),
        ("SINGING_CLONING_EMULATOR_STORE_SECRET_ACCESS_KEY", "hidden-store-key"),
    ];
    let output = run(&["--help"], &secrets);
    assert!(output.status.success(), "{output:?}");
    let help = String::from_utf8(output.stdout).unwrap();
    for (flag, variable) in SETTINGS {
        assert!(help.contains(&format!("{flag} <")), "{flag} is missing from:\n{help}");
        assert!(help.contains(&format!("[env: {variable}")), "{variable} is missing from:\n{help}");
    }
    assert!(!help.contains("hidden-"), "{help}");
    assert!(run(&["-h"], &[]).status.success());
}

#[test]
fn a_bad_value_is_refused_with_a_clear_error() {
    for (args, env, named) in [
        (&["--port", "x"][..], &[][..], "--port"),
        (&["--port", "70000"], &[], "--port"),
        (&["--job-ms=soon"], &[], "--job-ms"),
        (&["--nope"], &[], "--nope"),
        (&["--port"], &[], "--port"),
        (&[], &[("SINGING_CLONING_EMULATOR_MAX_CONNECTIONS", "many")], "--max-connections"),
        // Half a key pair would leave the store open by mistake.
        (&["--store-access-key-id", "id"], &[], "--store-secret-access-key"),
        (&[], &[("SINGING_CLONING_EMULATOR_STORE_SECRET_ACCESS_KEY", "key")], "--store-access-key-id"),
    ] {
        let output = run(args, env);
        let error = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{args:?} {env:?}: {error}");
        assert!(error.contains(named), "{args:?} {env:?}: {error}");
    }
    // A fault spec is read when the emulator starts: still an error before it listens.
    let output = run(&["--port", "0", "--fault", "418"], &[]);
    let error = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success() && error.contains("--fault"), "{error}");
}

/// Kills the emulator when the test ends, passed or failed.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn a_flag_wins_over_its_variable_which_wins_over_the_default() {
    let data_dir = common::temp_dir();
    let env = [
        // The flag's 0 must win: were the variable to, the banner would show port 1.
        ("SINGING_CLONING_EMULATOR_PORT", "1"),
        ("SINGING_CLONING_EMULATOR_JOB_MS", "77"),
        ("SINGING_CLONING_EMULATOR_BASE", "v1/"),
        ("SINGING_CLONING_SECRET_KEY", "key-from-env"),
        // Empty: unset, so the default.
        ("SINGING_CLONING_SECRET_ID", ""),
        ("SINGING_CLONING_EMULATOR_FAULT", ""),
    ];
    let child = emulator(&["--port", "0", "--data-dir", data_dir.to_str().unwrap()], &env)
        .stdout(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let mut child = Running(child);
    let mut banner = String::new();
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    drop(child);
    let _ = std::fs::remove_dir_all(&data_dir);
    let first = banner.lines().next().unwrap_or_default();
    assert!(first.starts_with("singing-cloning emulator listening on http://127.0.0.1:"), "{banner}");
    assert!(first.ends_with("/v1") && !first.contains(":1/"), "{banner}");
    assert!(banner.contains("secretId:  local-secret-id\n"), "{banner}");
    assert!(banner.contains("secretKey: key-from-env\n"), "{banner}");
    assert!(banner.contains("job time:  77 ms"), "{banner}");
    assert!(!banner.contains("fault:"), "{banner}");
}

#[test]
fn a_store_key_pair_makes_the_banner_print_presigned_samples() {
    let data_dir = common::temp_dir();
    let env = [
        ("SINGING_CLONING_EMULATOR_STORE_ACCESS_KEY_ID", "store-id"),
        ("SINGING_CLONING_EMULATOR_STORE_SECRET_ACCESS_KEY", "store-secret"),
    ];
    let args = ["--port", "0", "--data-dir", data_dir.to_str().unwrap(), "--store-region", "eu-west-3"];
    let child = emulator(&args, &env).stdout(Stdio::piped()).spawn().expect("the binary starts");
    let mut child = Running(child);
    let mut banner = String::new();
    for line in BufReader::new(child.0.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        banner.push_str(&line);
        banner.push('\n');
        if line.starts_with("Press Ctrl-C") {
            break;
        }
    }
    drop(child);
    let _ = std::fs::remove_dir_all(&data_dir);
    let samples = banner.lines().find(|l| l.trim_start().starts_with("samples:")).unwrap_or_default();
    assert!(samples.contains("/cos/samples/voice.wav?X-Amz-Algorithm=AWS4-HMAC-SHA256&"), "{banner}");
    assert!(
        samples.contains("%2Feu-west-3%2Fs3%2Faws4_request") && samples.contains("X-Amz-Expires=604800"),
        "{banner}"
    );
    assert!(banner.contains("store:     S3 presigned URLs only, key id store-id, region eu-west-3"), "{banner}");
    assert!(!banner.contains("store-secret"), "{banner}");
}
