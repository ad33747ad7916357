//! A job's blocking work (reading and decoding its inputs, processing its audio), run off the
//! async threads with its panics contained.

/// Runs work (decoding, audio processing) on a blocking thread; the caller holds the job's
/// slot. A panic there is contained (the emulator unwinds: see the workspace's
/// `[profile.release]`) and becomes the job's error, so one bad input never takes the server down.
pub async fn run_blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result,
        Err(e) if e.is_panic() => Err("the audio processing failed on this input (an internal error)".into()),
        Err(_) => Err("the emulator is stopping".into()),
    }
}
