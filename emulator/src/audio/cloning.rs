//! The two jobs of the service on audio: learn a voice profile (training) and sing a
//! recording with a profile's voice (generation).

use super::profile::{self, VoiceProfile};
use super::{pitch, separate, shift, Audio};

/// The largest pitch shift, either way: two octaves.
pub const MAX_SHIFT: f64 = 4.0;

/// What a generation did, for the log.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    pub audio: Audio,
    pub source_median_hz: f64,
    pub ratio: f64,
}

/// Trains a profile on `audio` (its vocal, with `separate`).
pub fn learn(audio: &Audio, epochs: u32, separate: bool) -> Result<VoiceProfile, String> {
    let voice = if separate { separate::extract_vocal(audio) } else { Audio::mono(audio.rate, audio.mixdown()) };
    let track = pitch::track(&voice.channels[0], voice.rate);
    profile::train(&track, audio.seconds(), epochs)
}

/// Sings `audio` in the voice of `profile`: with `separate` the vocal is extracted first
/// (the result is then the vocal alone, mono); the singer's register is moved to the
/// profile's median (by at most two octaves), the duration is kept and the peak stays under full scale.
pub fn convert(audio: &Audio, profile: &VoiceProfile, separate: bool) -> Result<Conversion, String> {
    let source = if separate { separate::extract_vocal(audio) } else { audio.clone() };
    let track = pitch::track(&source.mixdown(), source.rate);
    let source_median_hz = track.median_hz().ok_or("no singing voice found in the input")?;
    let ratio = (profile.median_hz / source_median_hz).clamp(1.0 / MAX_SHIFT, MAX_SHIFT);
    let mut audio = shift::shift_pitch(&source, ratio);
    audio.limit_peak();
    Ok(Conversion { audio, source_median_hz, ratio })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::synth;

    #[test]
    fn training_learns_the_register_and_conversion_moves_to_it() {
        let voice = synth::voice_sample();
        let profile = learn(&voice, 30, false).unwrap();
        assert!(pitch::cents(synth::VOICE_SAMPLE_MEDIAN_HZ, profile.median_hz).abs() < 50.0, "{profile:?}");
        assert_eq!(profile.history.len(), 30);

        let song = synth::song_sample();
        let result = convert(&song, &profile, true).unwrap();
        assert!(
            pitch::cents(synth::SONG_SAMPLE_MEDIAN_HZ, result.source_median_hz).abs() < 50.0,
            "{}",
            result.source_median_hz
        );
        let measured = pitch::track(&result.audio.channels[0], result.audio.rate).median_hz().unwrap();
        assert!(pitch::cents(profile.median_hz, measured).abs() < 50.0, "{measured}");
        assert_eq!(result.audio.len(), song.len());
        assert!(result.audio.peak() <= crate::audio::PEAK_CEILING);
    }
}
