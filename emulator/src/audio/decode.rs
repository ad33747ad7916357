//! Decoding of WAV, MP3 and FLAC (and what else symphonia's enabled formats read) to [`Audio`].

use std::io::Cursor;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::FormatOptions;
use symphonia::core::io::MediaSourceStream;
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

use super::Audio;

/// The longest input decoded, in seconds; longer inputs are refused.
pub const MAX_SECONDS: f64 = 300.0;

/// Decodes a whole file. `extension` (without the dot), where known, helps the probe.
pub fn decode(bytes: Vec<u8>, extension: Option<&str>) -> Result<Audio, String> {
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let mut hint = Hint::new();
    if let Some(extension) = extension {
        hint.with_extension(extension);
    }
    let probed = symphonia::default::get_probe()
        .format(&hint, stream, &FormatOptions::default(), &MetadataOptions::default())
        .map_err(|e| format!("not a readable audio file (WAV, MP3 or FLAC): {e}"))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or("the file has no audio track")?;
    let track_id = track.id;
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("unsupported audio codec: {e}"))?;
    let mut rate = track.codec_params.sample_rate.unwrap_or(0);
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(format!("cannot read the audio: {e}")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged packet is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(format!("cannot decode the audio: {e}")),
        };
        let spec = *decoded.spec();
        rate = spec.rate;
        let count = spec.channels.count();
        if count == 0 {
            return Err("the audio has no channels".into());
        }
        if channels.is_empty() {
            channels = vec![Vec::new(); count];
        }
        if count != channels.len() {
            return Err("the number of channels changes within the file".into());
        }
        let needed = decoded.capacity() as u64;
        if buffer.as_ref().is_none_or(|b| (b.capacity() as u64) < needed * count as u64) {
            buffer = Some(SampleBuffer::new(needed, spec));
        }
        let Some(buffer) = buffer.as_mut() else { continue };
        buffer.copy_interleaved_ref(decoded);
        for (i, sample) in buffer.samples().iter().enumerate() {
            channels[i % count].push(*sample);
        }
        if rate > 0 && channels[0].len() as f64 / rate as f64 > MAX_SECONDS {
            return Err(format!("the audio is longer than {MAX_SECONDS} seconds"));
        }
    }
    if channels.is_empty() || channels[0].is_empty() || rate == 0 {
        return Err("the file holds no audio".into());
    }
    Ok(Audio { rate, channels })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::wav;

    #[test]
    fn reads_what_the_wav_writer_writes() {
        let audio = Audio { rate: 8_000, channels: vec![vec![0.0, 0.5, -0.5, 0.25], vec![0.1, 0.2, 0.3, 0.4]] };
        let bytes = wav::encode(&audio).unwrap();
        let decoded = decode(bytes, Some("wav")).unwrap();
        assert_eq!(decoded.rate, 8_000);
        assert_eq!(decoded.channels.len(), 2);
        for (a, b) in decoded.channels.iter().flatten().zip(audio.channels.iter().flatten()) {
            assert!((a - b).abs() < 1e-3);
        }
    }

    #[test]
    fn refuses_what_is_not_audio() {
        assert!(decode(b"<html>nope</html>".to_vec(), None).is_err());
        assert!(decode(Vec::new(), Some("mp3")).is_err());
    }
}
