//! The sample clips, synthesized on first use of a data directory into the content
//! repository `samples`: `/cos/samples/voice.wav` (a singing voice to train on) and
//! `/cos/samples/song.wav` (a song with accompaniment to convert). Nothing is downloaded.

use crate::audio::{synth, wav, Audio};
use crate::store::Store;

/// The content repository of the samples.
pub const SAMPLES_REPOSITORY: &str = "samples";

/// How a sample is made.
type Maker = fn() -> Audio;

/// The samples: path in the repository, and how each is made.
pub const SAMPLES: [(&str, Maker); 2] = [("/voice.wav", synth::voice_sample), ("/song.wav", synth::song_sample)];

/// Writes the samples that are missing.
pub fn ensure(store: &Store) -> Result<(), String> {
    for (path, make) in SAMPLES {
        let file = store.content_path(SAMPLES_REPOSITORY, path).ok_or("bad sample path")?;
        if file.exists() {
            continue;
        }
        let bytes = wav::encode(&make())?;
        store.write_content(&file, &bytes).map_err(|e| format!("cannot write the sample {path}: {e}"))?;
    }
    Ok(())
}
