//! The two jobs of the service on audio: learn a voice model (training) and sing a song in
//! a model's voice (generation).
//!
//! Both work on the vocal at the vocoder's working rate (the input's rate halved above 32 kHz,
//! see [`resample::factor_for`]) and block by block, so that the memory a job needs beyond
//! its input and output is bounded whatever the song's length:
//!
//! - training: WORLD analysis (F0 by DIO + StoneMask, envelope by CheapTrick) of the voiced
//!   frames; the register is learned from the F0, the timbre from the envelopes.
//! - generation: analysis of the song's vocal into F0, envelope and aperiodicity; the F0 moved
//!   by one interval (the model's median over the song's) so that every interval, vibrato and
//!   timing of the melody stays the song's; each envelope warped to the model's formant scale
//!   and moved to its envelope statistics; WORLD's synthesis; the blocks joined with
//!   crossfades aligned on the waveform; with separation, mixed back over the accompaniment.

use std::sync::OnceLock;

use super::profile::{self, VoiceProfile, DEFAULT_MEDIAN_HZ};
use super::resample::{self, Interpolator};
use super::timbre::{self, EnvelopeMap, Timbre, BANDS};
use super::{pitch, separate, synth, world, Audio};

/// The largest pitch shift, either way: two octaves.
pub const MAX_SHIFT: f64 = 4.0;
/// Frames (of [`world::FRAME_MS`]) per block of conversion: 8 s.
const BLOCK_FRAMES: usize = 800;
/// Frames of context analysed on each side of a block (what WORLD's windows reach, and room
/// for the crossfade and its alignment).
const MARGIN_FRAMES: usize = 30;
/// The crossfade between blocks, centred on their boundary, seconds.
const CROSSFADE_SECONDS: f64 = 0.16;
/// How far each voiced frame goes from the band statistics' result to the model's codebook
/// shapes it resembles: all the way. Measured by `tests/voice/check_voice.py` over seeds 1–3
/// and 20261201, mean envelope distance to the ideal: a high singer sung by a low voice
/// 0.90–1.07 dB (1.17–1.56 dB with the statistics alone), a low singer by a high voice
/// 0.62–1.09 dB (0.52–1.39 dB).
const CODEBOOK_BLEND: f64 = 1.0;
/// Every how many voiced frames the song's envelope statistics are sampled.
const STATISTICS_STRIDE: usize = 4;

/// What a generation did.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// The result: the converted vocal (mono) or, with separation, the cover (the input's channels).
    pub audio: Audio,
    /// The song's median fundamental, Hz.
    pub source_median_hz: f64,
    /// The pitch ratio applied to the whole melody.
    pub ratio: f64,
    /// The frequency warp applied to the envelopes (1 when the model has no timbre).
    pub formant_scale: f64,
}

/// The mono signal at the working rate and the rate.
struct Work {
    /// Kept in `f32` (half the memory of a long song); each block is analysed in `f64`.
    x: Vec<f32>,
    rate: u32,
    factor: usize,
}

impl Work {
    fn new(samples: &[f32], rate: u32) -> Work {
        Work::from_stream(rate, samples.len(), |sink| samples.iter().for_each(|&v| sink(v)))
    }

    /// The working signal of `length` samples at `rate` that `feed` gives one by one, brought
    /// to the working rate as they come.
    fn from_stream(rate: u32, length: usize, feed: impl FnOnce(&mut dyn FnMut(f32))) -> Work {
        let factor = resample::factor_for(rate);
        let mut decimator = resample::Decimator::new(factor, length);
        feed(&mut |v| decimator.push(v));
        Work { x: decimator.finish(), rate: rate / factor as u32, factor }
    }

    /// Sample index of frame `k` (clamped to the signal).
    fn sample(&self, k: usize) -> usize {
        ((k as f64 * world::frame_samples(self.rate)).round() as usize).min(self.x.len())
    }

    /// The samples of frames `first..last`, for WORLD.
    fn segment(&self, first: usize, last: usize) -> Vec<f64> {
        self.x[self.sample(first)..self.sample(last)].iter().map(|&v| v as f64).collect()
    }

    fn frames(&self) -> usize {
        world::frames_for(self.x.len(), self.rate)
    }

    /// The blocks: (first analysed frame, first core frame, end of core, end of analysis).
    fn blocks(&self) -> Vec<(usize, usize, usize, usize)> {
        let total = self.frames();
        (0..total)
            .step_by(BLOCK_FRAMES)
            .map(|core| {
                let end = (core + BLOCK_FRAMES).min(total);
                (core.saturating_sub(MARGIN_FRAMES), core, end, (end + MARGIN_FRAMES).min(total))
            })
            .collect()
    }

    /// The fundamental of every frame, analysed block by block (0 = unvoiced), cleaned.
    fn fundamental(&self) -> Vec<f64> {
        let mut f0 = vec![0.0; self.frames()];
        for (first, core, end, last) in self.blocks() {
            let local = world::fundamental(&self.segment(first, last), self.rate);
            for (k, value) in f0.iter_mut().enumerate().take(end).skip(core) {
                *value = local.get(k - first).copied().unwrap_or(0.0);
            }
        }
        clean_fundamental(&f0)
    }

    /// The band envelopes of the voiced frames, every `stride`-th, block by block.
    fn voiced_bands(&self, f0: &[f64], stride: usize) -> Vec<[f32; BANDS]> {
        let mut out = Vec::new();
        let mut count = 0usize;
        for (first, core, end, last) in self.blocks() {
            let mut frames = Vec::new();
            let mut fundamentals = Vec::new();
            for (k, &f) in f0.iter().enumerate().take(end).skip(core) {
                if f > 0.0 {
                    if count.is_multiple_of(stride) {
                        frames.push(k - first);
                        fundamentals.push(f);
                    }
                    count += 1;
                }
            }
            let segment = self.segment(first, last);
            for envelope in world::envelope(&segment, self.rate, &frames, &fundamentals) {
                out.push(timbre::bands_of(&envelope, self.rate));
            }
        }
        out
    }

    /// [`Self::voiced_bands`] with the recording's noise floor removed, and that floor (dB).
    fn voiced_bands_without_floor(&self, f0: &[f64], stride: usize) -> (Vec<[f32; BANDS]>, Option<f64>) {
        let mut frames = self.voiced_bands(f0, stride);
        let floor = timbre::noise_floor(&frames);
        if let Some(floor) = floor {
            timbre::frames_without_floor(&mut frames, floor);
        }
        (frames, floor)
    }
}

/// Shortest voiced run kept, frames: a lone voiced frame or two is an analysis error, and
/// synthesising it as a pulse or two in a breath sounds as a click.
const MIN_VOICED_RUN: usize = 3;

/// The F0 track with its one-frame errors removed: a median of 5 frames within each voiced
/// run (an octave jump of one frame would be a click in the synthesis), runs shorter than
/// [`MIN_VOICED_RUN`] made unvoiced.
fn clean_fundamental(f0: &[f64]) -> Vec<f64> {
    let mut out = f0.to_vec();
    let mut k = 0;
    while k < f0.len() {
        if f0[k] <= 0.0 {
            k += 1;
            continue;
        }
        let start = k;
        while k < f0.len() && f0[k] > 0.0 {
            k += 1;
        }
        let run = &f0[start..k];
        for (i, o) in out[start..k].iter_mut().enumerate() {
            *o = if run.len() < MIN_VOICED_RUN {
                0.0
            } else {
                pitch::median(&run[i.saturating_sub(2)..(i + 3).min(run.len())]).unwrap_or(0.0)
            };
        }
    }
    out
}

/// The `default` model: a register around [`DEFAULT_MEDIAN_HZ`] (A3) and the timbre of the
/// built-in synthetic singer ([`default_timbre`]).
pub fn default_profile() -> VoiceProfile {
    VoiceProfile {
        median_hz: DEFAULT_MEDIAN_HZ,
        low_hz: DEFAULT_MEDIAN_HZ * 2f64.powf(-5.0 / 12.0),
        high_hz: DEFAULT_MEDIAN_HZ * 2f64.powf(7.0 / 12.0),
        spread_semitones: 3.0,
        voiced_fraction: 0.8,
        epochs: 0,
        training_seconds: 0.0,
        history: Vec::new(),
        timbre: Some(default_timbre().clone()),
    }
}

/// The `default` voice's timbre: learned once per process from the built-in synthetic singer
/// (`synth::default_voice`), with the analysis training uses, so it is the same on every
/// start; it is the reference of every formant scale (its own is 1).
pub fn default_timbre() -> &'static Timbre {
    static DEFAULT: OnceLock<Timbre> = OnceLock::new();
    DEFAULT.get_or_init(|| {
        let voice = synth::default_voice();
        let work = Work::new(&voice.channels[0], voice.rate);
        let (frames, _) = work.voiced_bands_without_floor(&work.fundamental(), 1);
        let (mean_db, spread_db) = timbre::statistics(&frames);
        Timbre {
            formant_scale: 1.0,
            bands_hz: (0..BANDS).map(timbre::band_hz).collect(),
            mean_db,
            spread_db,
            frames: frames.len(),
            scale_history: Vec::new(),
            codebook: profile::codebook(&frames, 30),
        }
    })
}

/// Trains a model on `audio` (its vocal, with `separate`): register and timbre.
pub fn learn(audio: &Audio, epochs: u32, separate: bool) -> Result<VoiceProfile, String> {
    let work = Work::from_stream(audio.rate, audio.len(), |sink| {
        if separate {
            separate::vocal_stream(audio, sink);
        } else {
            (0..audio.len()).for_each(|i| sink(mixed(audio, i)));
        }
    });
    let f0 = work.fundamental();
    let track = pitch::PitchTrack {
        hop_seconds: world::FRAME_MS / 1000.0,
        frames: f0.iter().map(|&f| (f > 0.0).then_some(f)).collect(),
    };
    let mut learned = profile::train(&track, audio.seconds(), epochs)?;
    let (frames, _) = work.voiced_bands_without_floor(&f0, 1);
    learned.timbre = profile::train_timbre(&frames, learned.epochs, default_timbre());
    Ok(learned)
}

/// Sings `audio` in the voice of `profile` (see [`convert_owned`]).
pub fn convert(audio: &Audio, profile: &VoiceProfile, separate: bool) -> Result<Conversion, String> {
    convert_owned(audio.clone(), profile, separate)
}

/// Sings `audio` in the voice of `profile`, reusing its buffers for the result.
///
/// With `separate` and a stereo (or wider) input the vocal is extracted, converted and mixed
/// back over the accompaniment: the result is the whole song, with the input's channels.
/// Otherwise the input is taken as a vocal (its channels mixed down) and the result is the
/// converted vocal, mono. The duration is the input's to the sample; the peak stays under
/// [`super::PEAK_CEILING`].
pub fn convert_owned(mut audio: Audio, profile: &VoiceProfile, separate: bool) -> Result<Conversion, String> {
    let rate = audio.rate;
    let length = audio.len();
    let cover = separate && audio.channels.len() >= 2;
    // Memory: beyond the input (whose buffers become the output) a job holds the vocal at the
    // working rate, converted there in place, and one block's analysis: the vocal is brought
    // to the working rate as it is extracted, and what it leaves in each channel is the
    // accompaniment the cover is mixed over.
    let mut work = Work::from_stream(rate, length, |sink| {
        if cover {
            separate::split(&mut audio, sink);
        } else {
            (0..length).for_each(|i| sink(mixed(&audio, i)));
        }
    });
    if !cover {
        audio.channels.truncate(1);
        audio.channels[0].fill(0.0);
    }

    let f0 = work.fundamental();
    let voiced: Vec<f64> = f0.iter().copied().filter(|f| *f > 0.0).collect();
    if voiced.len() < profile::MIN_VOICED_FRAMES / 2 {
        return Err("no singing voice found in the input".into());
    }
    let source_median_hz = pitch::median(&voiced).ok_or("no singing voice found in the input")?;
    let ratio = (profile.median_hz / source_median_hz).clamp(1.0 / MAX_SHIFT, MAX_SHIFT);
    let map = profile.timbre.as_ref().map(|model| {
        let (frames, floor) = work.voiced_bands_without_floor(&f0, STATISTICS_STRIDE);
        let (mean, _) = timbre::statistics(&frames);
        EnvelopeMap::new(&mean, model, CODEBOOK_BLEND, floor)
    });
    // The converted vocal keeps the song's vocal level.
    let energy = |x: &[f32]| x.iter().map(|&v| v as f64 * v as f64).sum::<f64>();
    let song_energy = energy(&work.x);
    synthesise(&mut work, &f0, ratio, map.as_ref());
    let gain = (song_energy / energy(&work.x).max(1e-12)).sqrt().min(100.0);
    let up = Interpolator::new(work.factor);
    for n in 0..length {
        let v = (up.at(&work.x, n) * gain) as f32;
        for channel in &mut audio.channels {
            channel[n] += v;
        }
    }
    audio.limit_peak();
    Ok(Conversion { audio, source_median_hz, ratio, formant_scale: map.map_or(1.0, |m| m.scale) })
}

/// Sample `i` of `audio` with its channels mixed down.
fn mixed(audio: &Audio, i: usize) -> f32 {
    audio.channels.iter().map(|c| c[i]).sum::<f32>() / audio.channels.len().max(1) as f32
}

/// Converts and resynthesises `work.x` block by block, in place.
fn synthesise(work: &mut Work, f0: &[f64], ratio: f64, map: Option<&EnvelopeMap>) {
    let rate = work.rate;
    let fade = ((CROSSFADE_SECONDS * rate as f64) as usize).max(2);
    let mut scratch = Vec::new();
    let blocks = work.blocks();
    // A block's output reaches into the next block's analysis margin: that tail is written
    // over the song only once the next block has read the song there.
    let mut pending: (usize, Vec<f32>) = (0, Vec::new());
    for (index, &(first, core, _end, last)) in blocks.iter().enumerate() {
        let start = work.sample(first);
        let segment = work.segment(first, last);
        let (at, tail) = std::mem::take(&mut pending);
        work.x[at..at + tail.len()].copy_from_slice(&tail);
        let frames: Vec<usize> = (0..last - first).collect();
        let fundamentals = &f0[first..last];
        let mut envelopes = world::envelope(&segment, rate, &frames, fundamentals);
        let mut aperiodicities = sparse_aperiodicity(&segment, rate, fundamentals);
        drop(segment);
        let moved: Vec<f64> =
            fundamentals.iter().map(|&f| if f > 0.0 { (f * ratio).clamp(30.0, 2_500.0) } else { 0.0 }).collect();
        if let Some(map) = map {
            for ((envelope, aperiodicity), &f) in envelopes.iter_mut().zip(&mut aperiodicities).zip(fundamentals) {
                map.apply(envelope, rate, f > 0.0, &mut scratch);
                map.warp_aperiodicity(aperiodicity, &mut scratch);
            }
        }
        let y = world::synthesise(&moved, envelopes, aperiodicities, rate);
        let write_end = work.sample(last);
        // This block's output from `from` to `write_end`.
        let (from, block): (usize, Vec<f32>) = if index == 0 {
            (start, (start..write_end).map(|i| y.get(i - start).map_or(0.0, |&v| v as f32)).collect())
        } else {
            // The join: WORLD starts each block's pulses afresh, so the new block's waveform is
            // aligned on the old one's (within half a period) before the crossfade, else the
            // two would partly cancel.
            let boundary = work.sample(core);
            let zone = boundary.saturating_sub(fade / 2).max(start)..(boundary + fade / 2).min(write_end);
            let zone_f0 = pitch::median(
                &moved[core.saturating_sub(first + 8)..(core - first + 8).min(moved.len())]
                    .iter()
                    .copied()
                    .filter(|f| *f > 0.0)
                    .collect::<Vec<_>>(),
            );
            let reach = (MARGIN_FRAMES as f64 * world::frame_samples(rate)) as usize - fade / 2 - 1;
            let lag = zone_f0.map_or(0, |hz| {
                best_lag(&work.x, &y, start, zone.clone(), ((rate as f64 / hz / 2.0) as usize).min(reach))
            });
            let at = |i: usize| -> f64 {
                let j = i as isize - start as isize + lag;
                if j >= 0 {
                    y.get(j as usize).copied().unwrap_or(0.0)
                } else {
                    0.0
                }
            };
            let span = (zone.end - zone.start).max(1) as f64;
            let values = (zone.start..write_end)
                .map(|i| {
                    if i < zone.end {
                        let w = 0.5 - 0.5 * (std::f64::consts::PI * (i - zone.start) as f64 / span).cos();
                        (work.x[i] as f64 * (1.0 - w) + at(i) * w) as f32
                    } else {
                        at(i) as f32
                    }
                })
                .collect();
            (zone.start, values)
        };
        let keep = blocks.get(index + 1).map_or(write_end, |next| work.sample(next.0)).clamp(from, write_end);
        work.x[from..keep].copy_from_slice(&block[..keep - from]);
        pending = (keep, block[keep - from..].to_vec());
    }
    let (at, tail) = pending;
    work.x[at..at + tail.len()].copy_from_slice(&tail);
}

/// The aperiodicity of every frame of `segment` (whose fundamentals are `f0`), analysed on
/// every other frame: D4C is a fifth of the conversion's time, and aperiodicity changes
/// slowly. A frame between two analysed ones takes the mean of those voiced as it is (or
/// unvoiced as it is), so that a note's onset does not borrow the breath before it.
fn sparse_aperiodicity(segment: &[f64], rate: u32, f0: &[f64]) -> Vec<Vec<f64>> {
    let analysed: Vec<usize> = (0..f0.len()).step_by(2).collect();
    let fundamentals: Vec<f64> = analysed.iter().map(|&k| f0[k]).collect();
    let coarse = world::aperiodicity(segment, rate, &analysed, &fundamentals);
    if coarse.len() != analysed.len() {
        return Vec::new();
    }
    (0..f0.len())
        .map(|k| {
            if k % 2 == 0 {
                return coarse[k / 2].clone();
            }
            let voiced = f0[k] > 0.0;
            let neighbours: Vec<&Vec<f64>> =
                [k - 1, k + 1].iter().filter(|&&j| j < f0.len()).map(|&j| &coarse[j / 2]).collect();
            let alike: Vec<&Vec<f64>> = [k - 1, k + 1]
                .iter()
                .filter(|&&j| j < f0.len() && (f0[j] > 0.0) == voiced)
                .map(|&j| &coarse[j / 2])
                .collect();
            let chosen = if alike.is_empty() { neighbours } else { alike };
            let count = chosen.len() as f64;
            (0..chosen[0].len()).map(|b| chosen.iter().map(|frame| frame[b]).sum::<f64>() / count).collect()
        })
        .collect()
}

/// The shift of `y` (placed at `start` of `out`) within ±`reach` samples that best matches
/// `out` over `zone` (normalised cross-correlation).
fn best_lag(out: &[f32], y: &[f64], start: usize, zone: std::ops::Range<usize>, reach: usize) -> isize {
    let reach = reach as isize;
    let mut best = (0isize, f64::MIN);
    for lag in -reach..=reach {
        let (mut dot, mut energy) = (0.0, 0.0);
        for i in zone.clone() {
            let j = i as isize - start as isize + lag;
            let v = if j >= 0 { y.get(j as usize).copied().unwrap_or(0.0) } else { 0.0 };
            dot += out[i] as f64 * v;
            energy += v * v;
        }
        let score = if energy > 0.0 { dot / energy.sqrt() } else { f64::MIN };
        if score > best.1 {
            best = (lag, score);
        }
    }
    best.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_frame_errors_leave_the_f0_track() {
        let f0 = [0.0, 200.0, 0.0, 0.0, 200.0, 201.0, 400.0, 202.0, 203.0, 0.0];
        // The lone frame goes; the octave jump of one frame is replaced by the median around it.
        assert_eq!(clean_fundamental(&f0), vec![0.0, 0.0, 0.0, 0.0, 201.0, 201.5, 202.0, 202.5, 203.0, 0.0]);
    }

    #[test]
    fn training_learns_the_register_and_timbre_and_conversion_moves_to_them() {
        let voice = synth::voice_sample();
        let profile = learn(&voice, 30, false).unwrap();
        assert!(pitch::cents(synth::VOICE_SAMPLE_MEDIAN_HZ, profile.median_hz).abs() < 50.0, "{profile:?}");
        assert_eq!(profile.history.len(), 30);
        let timbre = profile.timbre.as_ref().expect("a timbre");
        // The soprano's formants are synthesized 20% above the default singer's.
        // The soprano is synthesized with formants 20% above the default singer's; measured on mean
        // envelopes at different pitches (392 Hz against 220 Hz) the scale reads a little lower.
        assert!(timbre.formant_scale > 1.08 && timbre.formant_scale < 1.3, "{}", timbre.formant_scale);
        assert_eq!(timbre.scale_history.len(), 30);

        let song = synth::song_sample();
        let result = convert(&song, &profile, true).unwrap();
        assert!(pitch::cents(synth::SONG_SAMPLE_MEDIAN_HZ, result.source_median_hz).abs() < 50.0, "{result:?}");
        // The baritone's formants are 0.92 of the default's: the warp is 1.2 / 0.92.
        assert!((result.formant_scale / (1.2 / 0.92) - 1.0).abs() < 0.05, "{}", result.formant_scale);
        assert_eq!(result.audio.channels.len(), 2, "a cover keeps the song's channels");
        assert_eq!(result.audio.len(), song.len());
        assert!(result.audio.peak() <= crate::audio::PEAK_CEILING);
        let vocal = convert(&song, &profile, false).unwrap();
        assert_eq!(vocal.audio.channels.len(), 1);
        let measured = pitch::track(&vocal.audio.channels[0], vocal.audio.rate).median_hz().unwrap();
        assert!(pitch::cents(profile.median_hz, measured).abs() < 50.0, "{measured}");
    }
}
