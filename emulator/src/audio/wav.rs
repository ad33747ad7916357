//! The WAV writer: 16-bit PCM, every channel, samples clamped to full scale.

use std::io::Cursor;

use super::Audio;

/// The audio as the bytes of a 16-bit PCM WAV file.
pub fn encode(audio: &Audio) -> Result<Vec<u8>, String> {
    let spec = hound::WavSpec {
        channels: audio.channels.len().max(1) as u16,
        sample_rate: audio.rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = Cursor::new(Vec::new());
    {
        let mut writer = hound::WavWriter::new(&mut cursor, spec).map_err(|e| e.to_string())?;
        for i in 0..audio.len() {
            for channel in &audio.channels {
                let value = (channel[i].clamp(-1.0, 1.0) * i16::MAX as f32).round() as i16;
                writer.write_sample(value).map_err(|e| e.to_string())?;
            }
        }
        writer.finalize().map_err(|e| e.to_string())?;
    }
    Ok(cursor.into_inner())
}
