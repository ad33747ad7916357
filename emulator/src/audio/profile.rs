//! The voice profile a model is: the singer's register (the statistics of the pitch) and
//! timbre (the statistics of the spectral envelope, see [`super::timbre`]), learned from
//! recordings epoch by epoch (each epoch a bootstrap resample of the voiced frames,
//! averaged into the estimate, so it converges on the recordings' statistics).

use serde::{Deserialize, Serialize};

use super::pitch::{median, PitchTrack};
use super::timbre::{self, Timbre, BANDS};

/// The `default` model's median pitch: A3.
pub const DEFAULT_MEDIAN_HZ: f64 = 220.0;
/// The fewest voiced frames (10 ms each) training accepts.
pub const MIN_VOICED_FRAMES: usize = 20;

/// A singer's pitch register.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VoiceProfile {
    /// Median fundamental, Hz: the centre of the register, what a conversion moves the pitch to.
    pub median_hz: f64,
    /// 10th and 90th percentiles of the fundamental, Hz.
    pub low_hz: f64,
    pub high_hz: f64,
    /// Standard deviation of the pitch, semitones.
    pub spread_semitones: f64,
    /// Share of the recording that is sung.
    pub voiced_fraction: f64,
    /// Epochs trained (0 for the built-in default).
    pub epochs: u32,
    /// Seconds of audio trained on.
    pub training_seconds: f64,
    /// The median estimate after each epoch, Hz.
    #[serde(default)]
    pub history: Vec<f64>,
    /// The singer's timbre; absent in models trained before timbre was learned, which then
    /// keep the song's own envelope (only the register moves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timbre: Option<Timbre>,
}

/// Learns a timbre from the band envelopes of voiced frames over `epochs` epochs (each a
/// bootstrap resample, averaged into the estimate at rate 1/epoch, as the register is); its
/// formant scale is measured against `reference` (the `default` voice's timbre).
pub fn train_timbre(frames: &[[f32; BANDS]], epochs: u32, reference: &Timbre) -> Option<Timbre> {
    if frames.len() < MIN_VOICED_FRAMES {
        return None;
    }
    let reference = &reference.mean_db;
    let mut random = SplitMix(frames.len() as u64 ^ 0x5851_f42d_4c95_7f2d);
    let (mut mean, mut spread) = (vec![0.0; BANDS], vec![0.0; BANDS]);
    let mut scale_history = Vec::new();
    let mut batch = Vec::with_capacity(frames.len());
    for epoch in 1..=epochs.max(1) {
        batch.clear();
        batch.extend((0..frames.len()).map(|_| frames[(random.next() % frames.len() as u64) as usize]));
        let (m, s) = timbre::statistics(&batch);
        let rate = 1.0 / epoch as f64;
        for b in 0..BANDS {
            mean[b] += (m[b] - mean[b]) * rate;
            spread[b] += (s[b] - spread[b]) * rate;
        }
        scale_history.push(timbre::formant_scale(reference, &mean));
    }
    Some(Timbre {
        formant_scale: *scale_history.last()?,
        bands_hz: (0..BANDS).map(timbre::band_hz).collect(),
        mean_db: mean,
        spread_db: spread,
        frames: frames.len(),
        scale_history,
        codebook: codebook(frames, epochs),
    })
}

/// The most shapes a codebook holds: a few per vowel and the glides between them.
pub const CODEBOOK_SIZE: usize = 32;
/// Voiced frames per codebook shape at least, so that each is an average, not one frame.
const FRAMES_PER_SHAPE: usize = 8;

/// The codebook of a voice (see [`Timbre::codebook`]): k-means over the shapes of its voiced
/// frames, started by k-means++ and refined by one Lloyd pass per epoch (at least 8, as a
/// single epoch would leave the start's picks), values rounded to 0.01 dB for `models.json`.
pub fn codebook(frames: &[[f32; BANDS]], epochs: u32) -> Vec<Vec<f64>> {
    let size = CODEBOOK_SIZE.min(frames.len() / FRAMES_PER_SHAPE);
    if size == 0 {
        return Vec::new();
    }
    let distance =
        |a: &[f64; BANDS], b: &[f64; BANDS]| -> f64 { timbre::fitted_bands().map(|i| (a[i] - b[i]).powi(2)).sum() };
    let shape = |k: usize| timbre::shape_of(&frames[k]);
    let mut random = SplitMix(frames.len() as u64 ^ 0x2545_f491_4f6c_dd1d);
    // k-means++: each new centre drawn with a probability that grows with its squared
    // distance to the nearest centre so far.
    let mut centres = vec![shape((random.next() % frames.len() as u64) as usize)];
    let mut nearest: Vec<f64> = (0..frames.len()).map(|k| distance(&shape(k), &centres[0])).collect();
    while centres.len() < size {
        let total: f64 = nearest.iter().sum();
        if total <= 0.0 {
            break;
        }
        let mut pick = (random.next() >> 11) as f64 / (1u64 << 53) as f64 * total;
        let chosen = nearest.iter().position(|&d| {
            pick -= d;
            pick <= 0.0
        });
        let centre = shape(chosen.unwrap_or(frames.len() - 1));
        for (k, d) in nearest.iter_mut().enumerate() {
            *d = d.min(distance(&shape(k), &centre));
        }
        centres.push(centre);
    }
    for _ in 0..epochs.max(8) {
        let mut sums = vec![[0.0; BANDS]; centres.len()];
        let mut counts = vec![0usize; centres.len()];
        for k in 0..frames.len() {
            let s = shape(k);
            let closest = (0..centres.len())
                .min_by(|&a, &b| distance(&s, &centres[a]).total_cmp(&distance(&s, &centres[b])))
                .unwrap_or(0);
            sums[closest].iter_mut().zip(&s).for_each(|(sum, v)| *sum += v);
            counts[closest] += 1;
        }
        for ((centre, sum), &count) in centres.iter_mut().zip(&sums).zip(&counts) {
            // A centre left without frames keeps its place.
            if count > 0 {
                *centre = sum.map(|v| v / count as f64);
            }
        }
    }
    centres.iter().map(|c| c.iter().map(|v| (v * 100.0).round() / 100.0).collect()).collect()
}

/// Learns a profile from a pitch track over `epochs` epochs.
pub fn train(track: &PitchTrack, seconds: f64, epochs: u32) -> Result<VoiceProfile, String> {
    let semitones: Vec<f64> = track.voiced().iter().map(|hz| to_semitones(*hz)).collect();
    if semitones.len() < MIN_VOICED_FRAMES {
        return Err("no singing voice found in the input: too few voiced frames to train on".into());
    }
    let epochs = epochs.max(1);
    let mut random = SplitMix(semitones.len() as u64 ^ 0x9e37_79b9_7f4a_7c15);
    let mut estimate = Stats::default();
    let mut history = Vec::with_capacity(epochs as usize);
    for epoch in 1..=epochs {
        let batch: Vec<f64> =
            (0..semitones.len()).map(|_| semitones[(random.next() % semitones.len() as u64) as usize]).collect();
        let stats = Stats::of(&batch);
        let rate = 1.0 / epoch as f64;
        estimate = if epoch == 1 { stats } else { estimate.towards(&stats, rate) };
        history.push(from_semitones(estimate.median));
    }
    Ok(VoiceProfile {
        median_hz: from_semitones(estimate.median),
        low_hz: from_semitones(estimate.low),
        high_hz: from_semitones(estimate.high),
        spread_semitones: estimate.spread,
        voiced_fraction: track.voiced_fraction(),
        epochs,
        training_seconds: seconds,
        history,
        timbre: None,
    })
}

/// Pitch in semitones relative to A4 (440 Hz).
fn to_semitones(hz: f64) -> f64 {
    12.0 * (hz / 440.0).log2()
}

fn from_semitones(semitones: f64) -> f64 {
    440.0 * 2f64.powf(semitones / 12.0)
}

/// Statistics of one batch of pitches, semitones.
#[derive(Debug, Clone, Copy, Default)]
struct Stats {
    median: f64,
    low: f64,
    high: f64,
    spread: f64,
}

impl Stats {
    fn of(values: &[f64]) -> Stats {
        let mut sorted = values.to_vec();
        sorted.sort_by(f64::total_cmp);
        let at = |q: f64| sorted[((sorted.len() - 1) as f64 * q).round() as usize];
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let variance = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64;
        Stats { median: median(values).unwrap_or(mean), low: at(0.1), high: at(0.9), spread: variance.sqrt() }
    }

    fn towards(&self, other: &Stats, rate: f64) -> Stats {
        let step = |a: f64, b: f64| a + (b - a) * rate;
        Stats {
            median: step(self.median, other.median),
            low: step(self.low, other.low),
            high: step(self.high, other.high),
            spread: step(self.spread, other.spread),
        }
    }
}

/// A small deterministic random source (SplitMix64).
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
