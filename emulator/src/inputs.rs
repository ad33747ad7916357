//! Reading a job's inputs as audio: a `url` (http(s), bounded in size and time), a
//! `source` in the local content store, or a `sourceData` text, which is sung.

use singing_cloning::Input;

use crate::audio::{decode, synth, Audio};
use crate::blocking::run_blocking;
use crate::state::AppState;
use crate::store::ContentError;

/// The audio of one input. Errors are the job's: they end it in ERROR. The caller holds
/// the job's slot (see [`crate::jobs`]): downloads and decoding count as the job's work.
pub async fn load(state: &AppState, input: &Input) -> Result<Audio, String> {
    if let Some(text) = &input.source_data {
        let text = text.clone();
        return run_blocking(move || Ok(synth::sing_text(&text))).await;
    }
    let (bytes, extension) = if let Some(url) = &input.url {
        (download(state, url).await?, extension_of(url.split(['?', '#']).next().unwrap_or("")))
    } else if let Some(source) = &input.source {
        let path = state
            .store
            .content_path(&source.content_id, &source.path)
            .ok_or_else(|| format!("the source path {:?} leaves the content store", source.path))?;
        let (store, limit) = (state.store.clone(), state.config.max_input_bytes);
        let read = run_blocking(move || Ok(store.read_content(&path, limit))).await?;
        let bytes = read.map_err(|e| match e {
            ContentError::NotFound => {
                format!("no file {:?} in content repository {:?}", source.path, source.content_id)
            }
            ContentError::Refused => {
                format!("{:?} is a symbolic link or not a regular file", source.path)
            }
            ContentError::TooLarge(_) => format!("{:?} is larger than {limit} bytes", source.path),
            ContentError::Io(_) => format!("{:?} cannot be read", source.path),
        })?;
        (bytes, extension_of(&source.path))
    } else {
        return Err("the input has none of sourceData, url and source".into());
    };
    run_blocking(move || decode::decode(bytes, extension.as_deref())).await
}

/// The file extension of a path or URL path, lower case.
fn extension_of(path: &str) -> Option<String> {
    let name = path.rsplit('/').next()?;
    let (_, extension) = name.rsplit_once('.')?;
    Some(extension.to_ascii_lowercase()).filter(|e| !e.is_empty() && e.len() <= 5)
}

/// Downloads `url` with the configured time and size limits. Any http(s) host, loopback and
/// the emulator's own origin included: a presigned URL of its content store is fetched as it
/// is, query and all, and the store checks it as it would any client's request.
async fn download(state: &AppState, url: &str) -> Result<Vec<u8>, String> {
    let limit = state.config.max_input_bytes;
    let timeout = std::time::Duration::from_millis(state.config.download_timeout_ms);
    let fetch = async {
        let mut response = state.http.get(url).send().await.map_err(|e| format!("cannot download {url}: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("downloading {url} answered HTTP {}", response.status().as_u16()));
        }
        if response.content_length().is_some_and(|length| length > limit) {
            return Err(format!("{url} is larger than {limit} bytes"));
        }
        // Chunk by chunk, so that a body larger than the limit is never held whole.
        let mut bytes = Vec::with_capacity(response.content_length().unwrap_or(0) as usize);
        while let Some(chunk) = response.chunk().await.map_err(|e| format!("downloading {url} broke off: {e}"))? {
            if bytes.len() as u64 + chunk.len() as u64 > limit {
                return Err(format!("{url} is larger than {limit} bytes"));
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    };
    tokio::time::timeout(timeout, fetch)
        .await
        .unwrap_or_else(|_| Err(format!("downloading {url} took longer than {} ms", timeout.as_millis())))
}
