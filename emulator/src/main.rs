//! `singing-cloning-emulator`: runs the emulator until Ctrl-C.

use std::io::Write;
use std::process::ExitCode;

use singing_cloning_emulator::{Config, Emulator};

#[tokio::main]
async fn main() -> ExitCode {
    // `--help` prints the flags and exits 0; a bad flag or value says what is wrong and exits 2.
    let config = Config::from_args(std::env::args_os()).unwrap_or_else(|error| error.exit());
    let emulator = match Emulator::start(config).await {
        Ok(emulator) => emulator,
        Err(message) => {
            eprintln!("singing-cloning-emulator: {message}");
            return ExitCode::FAILURE;
        }
    };
    let config = emulator.config();
    let origin = emulator.origin();
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "singing-cloning emulator listening on {}", emulator.api_url());
    let _ = writeln!(out, "  secretId:  {}", config.secret_id);
    let _ = writeln!(out, "  secretKey: {}", config.secret_key);
    let _ = writeln!(out, "  data dir:  {}", emulator.data_dir().display());
    if config.store_keys().is_some() {
        // Presigned (for 7 days): the store refuses unsigned requests.
        let _ = writeln!(
            out,
            "  samples:   {} (voice to train on), {} (song to convert)",
            emulator.content_url("samples", "/voice.wav"),
            emulator.content_url("samples", "/song.wav")
        );
        let _ = writeln!(
            out,
            "  store:     S3 presigned URLs only, key id {}, region {}",
            config.store_access_key_id.as_deref().unwrap_or(""),
            config.store_region
        );
    } else {
        let _ = writeln!(
            out,
            "  samples:   {origin}/cos/samples/voice.wav (voice to train on), \
             {origin}/cos/samples/song.wav (song to convert)"
        );
    }
    let _ = writeln!(out, "  job time:  {} ms in SUBMITTED and in PROCESSING", config.job_ms);
    if let Some(fault) = &config.fault {
        let _ = writeln!(out, "  fault:     {fault}");
    }
    let _ = writeln!(out, "Press Ctrl-C to stop.");
    let _ = out.flush();
    drop(out);
    stop_signal().await;
    emulator.stop().await;
    // Exit now: returning would drop the runtime, which waits for audio work still running
    // on blocking threads (seconds, for a long input); its job is saved, to be resumed.
    std::process::exit(0)
}

/// Ctrl-C, or SIGTERM (what `kill` and process managers send): both stop the emulator
/// cleanly, so that its unfinished jobs are resumed by the next start, not failed as crashed.
async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
