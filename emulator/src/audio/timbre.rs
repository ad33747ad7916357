//! A singer's timbre as the vocoder sees it: the statistics of the spectral envelope over the
//! sung (voiced) frames, on a fixed grid of log-spaced bands, the formant scale (how far the
//! whole envelope sits up or down the frequency axis against a reference voice), and a
//! codebook of the envelope shapes the voice's frames cluster around.
//!
//! Conversion keeps each vowel recognisable: the song's envelopes (their recording's noise
//! floor taken out) are first warped along frequency by the ratio of the two formant scales (a
//! longer or shorter vocal tract moves every formant by the same factor), then each band is
//! moved from the warped song's mean to the model's (source tilt, brightness, relative formant
//! levels), and each voiced frame is then replaced by the codebook shapes it correlates with
//! best, at its own level: the sound is the song's, the formants the voice's, as sharp as its
//! recordings show them, where a high singer's analysed envelopes are blurred. The spread per
//! band is learned and kept with the model but not imposed: scaling each frame's deviations to
//! it measured worse against an ideal resynthesis (2.5–3.1 dB against 1.9–2.5 dB of envelope
//! distance for a high singer sung by a low voice, by `tests/voice/check_voice.py`).

use serde::{Deserialize, Serialize};

/// Bands of the grid, log-spaced from [`LOW_HZ`] to [`HIGH_HZ`] (about 10 a octave).
pub const BANDS: usize = 64;
pub const LOW_HZ: f64 = 80.0;
pub const HIGH_HZ: f64 = 7_600.0;
/// The range the formant scale is fitted over, Hz: where the formants of speech and song are.
const FIT_LOW_HZ: f64 = 200.0;
const FIT_HIGH_HZ: f64 = 5_000.0;
/// The formant scales considered: a factor of 2 either way.
const MIN_SCALE: f64 = 0.5;
const MAX_SCALE: f64 = 2.0;
/// The largest correction of a band's level, dB.
const MAX_CORRECTION_DB: f64 = 18.0;
/// The floor envelopes are taken in dB from, so that silence is not minus infinity.
const FLOOR_DB: f64 = -150.0;

/// The centre frequency of band `i`, Hz.
pub fn band_hz(i: usize) -> f64 {
    LOW_HZ * (HIGH_HZ / LOW_HZ).powf(i as f64 / (BANDS - 1) as f64)
}

/// The (fractional) band of a frequency.
fn band_of(hz: f64) -> f64 {
    (hz.max(1e-3) / LOW_HZ).ln() / (HIGH_HZ / LOW_HZ).ln() * (BANDS - 1) as f64
}

/// A timbre: formant scale and envelope statistics, learned epoch by epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Timbre {
    /// How far the envelope sits along frequency against the `default` voice's (1 = the same
    /// formants; 1.2 = every formant 20% higher, as a shorter vocal tract).
    pub formant_scale: f64,
    /// The band centres, Hz (see [`band_hz`]).
    pub bands_hz: Vec<f64>,
    /// Mean of the envelope per band over the voiced frames, dB.
    pub mean_db: Vec<f64>,
    /// Standard deviation of the envelope per band over the voiced frames, dB.
    pub spread_db: Vec<f64>,
    /// Voiced frames learned from.
    pub frames: usize,
    /// The formant scale after each epoch.
    #[serde(default)]
    pub scale_history: Vec<f64>,
    /// The voice's own envelopes: the shapes (bands, dB, level removed, see [`shape_of`]) its
    /// voiced frames cluster around, one per vowel-like sound (k-means centroids). Conversion
    /// maps each sung frame to the ones it resembles, so each vowel takes the voice's own
    /// formants, as sharp as its recordings show them; empty in models trained before.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codebook: Vec<Vec<f64>>,
}

/// One frame's envelope on the band grid, dB. `envelope` is WORLD's power envelope of
/// `fft_size / 2 + 1` bins at `rate`.
pub fn bands_of(envelope: &[f64], rate: u32) -> [f32; BANDS] {
    let mut out = [0.0f32; BANDS];
    let bins = envelope.len();
    if bins < 2 {
        return out;
    }
    let hz_per_bin = rate as f64 / 2.0 / (bins - 1) as f64;
    for (i, o) in out.iter_mut().enumerate() {
        let position = (band_hz(i) / hz_per_bin).min((bins - 1) as f64);
        let k = (position.floor() as usize).min(bins - 2);
        let t = position - k as f64;
        let value = envelope[k] * (1.0 - t) + envelope[k + 1] * t;
        *o = to_db(value) as f32;
    }
    out
}

fn to_db(power: f64) -> f64 {
    if power > 0.0 {
        (10.0 * power.log10()).max(FLOOR_DB)
    } else {
        FLOOR_DB
    }
}

/// Bands from which a frame's noise floor is read: above the first formants.
const FLOOR_FROM_HZ: f64 = 1_000.0;
/// How many of a frame's lowest bands (above [`FLOOR_FROM_HZ`]) its floor is the mean of.
const FLOOR_BANDS: usize = 4;
/// The noise floor is removed with this margin over its estimate (classic spectral
/// subtraction over-subtracts, so that the floor's peaks go too), power ratio.
const FLOOR_OVER_SUBTRACTION: f64 = 3.0;
/// What is left of a level at or under the floor, dB under it: far enough that resynthesis
/// and the written file's own floor do not bring it back.
const FLOOR_DEPTH_DB: f64 = 30.0;

/// The noise floor of a recording (dB, as the bands): the median over its voiced frames of
/// the mean of each frame's lowest bands above 1 kHz. A recording's floor (the hiss, the
/// 16-bit quantisation) is flat and the same in every frame, while WORLD resynthesises a
/// floor as noise, some 6 dB louder than it was analysed, to which the written file adds its
/// own: a voice whose highs lie under the floor would come out with highs above it.
pub fn noise_floor(frames: &[[f32; BANDS]]) -> Option<f64> {
    let first = (0..BANDS).find(|&i| band_hz(i) >= FLOOR_FROM_HZ)?;
    let mut lows: Vec<f64> = frames
        .iter()
        .map(|frame| {
            let mut high: Vec<f32> = frame[first..].to_vec();
            high.sort_by(f32::total_cmp);
            high.iter().take(FLOOR_BANDS).map(|&v| v as f64).sum::<f64>() / FLOOR_BANDS as f64
        })
        .collect();
    lows.sort_by(f64::total_cmp);
    lows.get(lows.len() / 2).copied()
}

/// A level (dB) with the noise floor `floor_db` removed (see [`without_floor_power`]).
pub fn without_floor(db: f64, floor_db: f64) -> f64 {
    to_db(without_floor_power(10f64.powf(db / 10.0), 10f64.powf(floor_db / 10.0)))
}

/// A power with the floor's power removed: subtraction with a margin, never below
/// [`FLOOR_DEPTH_DB`] under the power itself.
fn without_floor_power(power: f64, floor_power: f64) -> f64 {
    (power - FLOOR_OVER_SUBTRACTION * floor_power).max(power * 10f64.powf(-FLOOR_DEPTH_DB / 10.0))
}

/// Frames' bands with the noise floor removed (see [`without_floor`]).
pub fn frames_without_floor(frames: &mut [[f32; BANDS]], floor_db: f64) {
    for value in frames.iter_mut().flatten() {
        *value = without_floor(*value as f64, floor_db) as f32;
    }
}

/// Mean and standard deviation per band of `frames`.
pub fn statistics(frames: &[[f32; BANDS]]) -> (Vec<f64>, Vec<f64>) {
    let n = frames.len().max(1) as f64;
    let mut mean = vec![0.0; BANDS];
    let mut square = vec![0.0; BANDS];
    for frame in frames {
        for (b, &v) in frame.iter().enumerate() {
            mean[b] += v as f64;
            square[b] += (v as f64) * (v as f64);
        }
    }
    let mean: Vec<f64> = mean.iter().map(|m| m / n).collect();
    let spread = square.iter().zip(&mean).map(|(s, m)| (s / n - m * m).max(0.0).sqrt()).collect();
    (mean, spread)
}

/// The bands in the range formants are fitted and compared over (computed once: a band's
/// frequency costs a `powf`, and this is asked for every frame).
pub fn fitted_bands() -> std::ops::Range<usize> {
    static FITTED: std::sync::OnceLock<std::ops::Range<usize>> = std::sync::OnceLock::new();
    FITTED
        .get_or_init(|| {
            let inside = |i: usize| (FIT_LOW_HZ..=FIT_HIGH_HZ).contains(&band_hz(i));
            let first = (0..BANDS).find(|&i| inside(i)).unwrap_or(0);
            first..(first..BANDS).find(|&i| !inside(i)).unwrap_or(BANDS)
        })
        .clone()
}

/// The level of a curve on the band grid: its mean over the fitted range, dB.
pub fn level(curve: &[f64]) -> f64 {
    let (sum, count) = fitted_bands().filter(|&i| i < curve.len()).fold((0.0, 0), |(s, n), i| (s + curve[i], n + 1));
    sum / count.max(1) as f64
}

/// A frame's shape: its bands with its level removed, so that frames of one vowel sung
/// louder or softer are alike.
pub fn shape_of(frame: &[f32; BANDS]) -> [f64; BANDS] {
    let curve = frame.map(f64::from);
    let level = level(&curve);
    curve.map(|v| v - level)
}

/// A curve on the band grid read at a fractional band (linear, held at the ends).
fn read(curve: &[f64], band: f64) -> f64 {
    let last = curve.len() - 1;
    if band <= 0.0 {
        return curve[0];
    }
    if band >= last as f64 {
        return curve[last];
    }
    let k = band.floor() as usize;
    let t = band - k as f64;
    curve[k] * (1.0 - t) + curve[k + 1] * t
}

/// `curve` with its frequency axis scaled by `scale`: the value at f is the original's at f / scale.
pub fn warp_curve(curve: &[f64], scale: f64) -> Vec<f64> {
    (0..BANDS).map(|i| read(curve, band_of(band_hz(i) / scale))).collect()
}

/// The formant scale of `target` against `reference` (mean envelopes on the grid, dB): the
/// factor by which the reference's frequency axis is best stretched to match the target,
/// once a level offset and a spectral tilt (a line in log frequency) are fitted out, so that
/// a brighter or darker source does not pass for a vocal tract's length.
pub fn formant_scale(reference: &[f64], target: &[f64]) -> f64 {
    let fitted: Vec<usize> = fitted_bands().collect();
    let residual = |scale: f64| -> f64 {
        let warped = warp_curve(reference, scale);
        let xs: Vec<f64> = fitted.iter().map(|&i| band_hz(i).ln()).collect();
        let ys: Vec<f64> = fitted.iter().map(|&i| target[i] - warped[i]).collect();
        let n = xs.len() as f64;
        let (mx, my) = (xs.iter().sum::<f64>() / n, ys.iter().sum::<f64>() / n);
        let sxx: f64 = xs.iter().map(|x| (x - mx).powi(2)).sum();
        let sxy: f64 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
        let slope = if sxx > 0.0 { sxy / sxx } else { 0.0 };
        xs.iter().zip(&ys).map(|(x, y)| (y - my - slope * (x - mx)).powi(2)).sum::<f64>() / n
    };
    // A grid in steps of 0.5%, then a parabola through the best step and its neighbours.
    let step = 1.005f64.ln();
    let count = ((MAX_SCALE / MIN_SCALE).ln() / step) as usize;
    let scales: Vec<f64> = (0..=count).map(|k| MIN_SCALE * (step * k as f64).exp()).collect();
    let errors: Vec<f64> = scales.iter().map(|&s| residual(s)).collect();
    let best = (0..errors.len()).min_by(|&a, &b| errors[a].total_cmp(&errors[b])).unwrap_or(0);
    if best == 0 || best + 1 == errors.len() {
        return scales[best];
    }
    let (l, c, r) = (errors[best - 1], errors[best], errors[best + 1]);
    let curvature = l - 2.0 * c + r;
    let offset = if curvature > 1e-12 { (0.5 * (l - r) / curvature).clamp(-1.0, 1.0) } else { 0.0 };
    scales[best] * (step * offset).exp()
}

/// What turns a song's envelopes into a model's timbre, frame by frame.
#[derive(Debug, Clone)]
pub struct EnvelopeMap {
    /// The frequency warp: output f takes the input at f / scale.
    pub scale: f64,
    /// Per band: the warped song's mean and the model's (dB).
    song_mean: Vec<f64>,
    model_mean: Vec<f64>,
    /// The model's codebook shapes and, for the correlation, their norms over the fitted range.
    codebook: Vec<([f64; BANDS], f64)>,
    /// How far a voiced frame is moved from the statistics' result to its codebook match (0–1).
    blend: f64,
    /// The song's noise floor (dB), removed from every frame before the conversion.
    floor_db: Option<f64>,
}

/// How sharply a frame's match favours the codebook shapes most like it: a shape's weight
/// falls by a factor e for each `MATCH_TEMPERATURE` its correlation with the frame is below the best's.
const MATCH_TEMPERATURE: f64 = 0.02;

impl EnvelopeMap {
    /// The map from a song's mean envelope (`song_mean`, dB per band) to `model`; `blend` is how
    /// far each voiced frame goes to the codebook shapes it resembles (0: the statistics only).
    pub fn new(song_mean: &[f64], model: &Timbre, blend: f64, floor_db: Option<f64>) -> Self {
        let scale = formant_scale(song_mean, &model.mean_db).clamp(MIN_SCALE, MAX_SCALE);
        let warped_mean = warp_curve(song_mean, scale);
        // The song's overall level is kept: only the shape of the model's mean is taken.
        let shift = level(&warped_mean) - level(&model.mean_db);
        let model_mean: Vec<f64> = model.mean_db.iter().map(|m| m + shift).collect();
        let codebook = model
            .codebook
            .iter()
            .filter(|entry| entry.len() == BANDS)
            .map(|entry| {
                let mut shape = [0.0; BANDS];
                shape.copy_from_slice(entry);
                let norm = fitted_bands().map(|i| shape[i] * shape[i]).sum::<f64>().sqrt();
                (shape, norm)
            })
            .collect();
        EnvelopeMap { scale, song_mean: warped_mean, model_mean, codebook, blend: blend.clamp(0.0, 1.0), floor_db }
    }

    /// Converts one frame's power envelope (`fft_size / 2 + 1` bins at `rate`) in place: the
    /// warp, then each band moved from the song's mean to the model's and, for a `voiced` frame,
    /// towards the model's own envelopes of the sound it resembles.
    pub fn apply(&self, envelope: &mut [f64], rate: u32, voiced: bool, scratch: &mut Vec<f64>) {
        let bins = envelope.len();
        if bins < 2 {
            return;
        }
        let hz_per_bin = rate as f64 / 2.0 / (bins - 1) as f64;
        scratch.clear();
        match self.floor_db.map(|floor| 10f64.powf(floor / 10.0)) {
            Some(floor) => scratch.extend(envelope.iter().map(|&p| to_db(without_floor_power(p, floor)))),
            None => scratch.extend(envelope.iter().map(|&p| to_db(p))),
        }
        // The warp, in dB: output bin k reads the input at k / scale (held at the top bin).
        let at = |values: &[f64], position: f64| {
            let position = position.min((bins - 1) as f64);
            let j = (position.floor() as usize).min(bins - 2);
            let t = position - j as f64;
            values[j] * (1.0 - t) + values[j + 1] * t
        };
        for (k, out) in envelope.iter_mut().enumerate() {
            *out = at(scratch, k as f64 / self.scale);
        }
        let warped: [f64; BANDS] = std::array::from_fn(|i| at(envelope, band_hz(i) / hz_per_bin));
        let mut target: [f64; BANDS] = std::array::from_fn(|i| warped[i] + self.model_mean[i] - self.song_mean[i]);
        if voiced && self.blend > 0.0 {
            self.towards_codebook(&mut target);
        }
        let correction: [f64; BANDS] = std::array::from_fn(|i| target[i] - warped[i]);
        for (k, out) in envelope.iter_mut().enumerate() {
            let band = band_of((k as f64 * hz_per_bin).max(LOW_HZ));
            let db = *out + read(&correction, band).clamp(-MAX_CORRECTION_DB, MAX_CORRECTION_DB);
            // 10^(dB / 10), by `exp`, which is several times faster than `powf`.
            *out = (db * std::f64::consts::LN_10 / 10.0).exp();
        }
    }

    /// Moves `frame` (bands, dB) by `blend` towards the codebook shapes that correlate best
    /// with it over the fitted range, at its own level. Correlation rather than distance: a
    /// high singer's envelope comes out of the analysis with its formants flattened (few
    /// harmonics sample them), and a flattened vowel still correlates best with itself.
    fn towards_codebook(&self, frame: &mut [f64; BANDS]) {
        if self.codebook.is_empty() {
            return;
        }
        let level = level(frame);
        let norm = fitted_bands().map(|i| (frame[i] - level).powi(2)).sum::<f64>().sqrt();
        if norm <= 1e-9 {
            return;
        }
        let similarity: Vec<f64> = self
            .codebook
            .iter()
            .map(|(shape, shape_norm)| {
                let dot: f64 = fitted_bands().map(|i| (frame[i] - level) * shape[i]).sum();
                dot / (norm * shape_norm.max(1e-9))
            })
            .collect();
        let best = similarity.iter().copied().fold(f64::MIN, f64::max);
        let weights: Vec<f64> = similarity.iter().map(|s| ((s - best) / MATCH_TEMPERATURE).exp()).collect();
        let total: f64 = weights.iter().sum();
        for (i, value) in frame.iter_mut().enumerate() {
            let matched =
                level + self.codebook.iter().zip(&weights).map(|((shape, _), w)| shape[i] * w).sum::<f64>() / total;
            *value += self.blend * (matched - *value);
        }
    }

    /// The aperiodicity of one frame with the same frequency warp (its values are kept).
    pub fn warp_aperiodicity(&self, aperiodicity: &mut [f64], scratch: &mut Vec<f64>) {
        let bins = aperiodicity.len();
        if bins < 2 {
            return;
        }
        scratch.clear();
        scratch.extend_from_slice(aperiodicity);
        for (k, out) in aperiodicity.iter_mut().enumerate() {
            let source = (k as f64 / self.scale).min((bins - 1) as f64);
            let j = (source.floor() as usize).min(bins - 2);
            let t = source - j as f64;
            *out = (scratch[j] * (1.0 - t) + scratch[j + 1] * t).clamp(0.0, 1.0);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A mean envelope with formant-like bumps at `formants` (Hz), dB on the grid.
    fn curve(formants: &[f64], tilt: f64) -> Vec<f64> {
        (0..BANDS)
            .map(|i| {
                let f = band_hz(i);
                formants.iter().map(|&c| 20.0 * (-((f / c).ln() / 0.12).powi(2)).exp()).sum::<f64>()
                    + tilt * (f / 1000.0).log2()
            })
            .collect()
    }

    #[test]
    fn finds_the_formant_scale_despite_a_tilt() {
        let reference = curve(&[600.0, 1200.0, 2600.0], 0.0);
        for scale in [0.7, 0.95, 1.18, 1.5] {
            let target = curve(&[600.0 * scale, 1200.0 * scale, 2600.0 * scale], -4.0);
            let found = formant_scale(&reference, &target);
            assert!((found / scale - 1.0).abs() < 0.02, "{scale}: {found}");
        }
    }

    #[test]
    fn the_map_moves_a_frame_to_the_model() {
        let rate = 16_000;
        let bins = 513;
        let song = curve(&[600.0, 1200.0, 2600.0], 0.0);
        let model_curve = curve(&[720.0, 1440.0, 3120.0], -3.0);
        let model = Timbre {
            formant_scale: 1.2,
            bands_hz: (0..BANDS).map(band_hz).collect(),
            mean_db: model_curve.clone(),
            spread_db: vec![3.0; BANDS],
            frames: 100,
            scale_history: vec![],
            codebook: vec![],
        };
        let map = EnvelopeMap::new(&song, &model, 0.0, None);
        assert!((map.scale / 1.2 - 1.0).abs() < 0.02, "{}", map.scale);
        // A frame equal to the song's mean becomes the model's mean (up to the level).
        let hz_per_bin = rate as f64 / 2.0 / (bins - 1) as f64;
        let mut frame: Vec<f64> =
            (0..bins).map(|k| 10f64.powf(read(&song, band_of((k as f64 * hz_per_bin).max(LOW_HZ))) / 10.0)).collect();
        map.apply(&mut frame, rate, true, &mut Vec::new());
        let out = bands_of(&frame, rate);
        let offset: Vec<f64> = (0..BANDS)
            .filter(|&i| (300.0..4000.0).contains(&band_hz(i)))
            .map(|i| out[i] as f64 - model_curve[i])
            .collect();
        let mean = offset.iter().sum::<f64>() / offset.len() as f64;
        assert!(offset.iter().all(|o| (o - mean).abs() < 1.0), "{offset:?}");
    }
    /// Frames of three vowels (sharp formants), each sung louder or softer and a little unevenly.
    fn vowel_frames() -> (Vec<Vec<f64>>, Vec<[f32; BANDS]>) {
        let vowels = [vec![730.0, 1090.0, 2440.0], vec![270.0, 2290.0, 3010.0], vec![300.0, 870.0, 2240.0]];
        let shapes: Vec<Vec<f64>> = vowels.iter().map(|f| curve(f, -6.0)).collect();
        let frames = (0..180)
            .map(|k| {
                let (shape, level) = (&shapes[k % 3], ((k * 7) % 11) as f64 - 5.0);
                std::array::from_fn(|i| (shape[i] + level + ((k + i) as f64 * 1.3).sin() * 0.8) as f32)
            })
            .collect();
        (shapes, frames)
    }

    fn rms_over_fitted(a: &[f64], b: &[f64]) -> f64 {
        let d: Vec<f64> = fitted_bands().map(|i| a[i] - b[i]).collect();
        let mean = d.iter().sum::<f64>() / d.len() as f64;
        (d.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / d.len() as f64).sqrt()
    }

    #[test]
    fn the_codebook_holds_each_vowel_and_a_blurred_vowel_takes_it_back() {
        let (shapes, frames) = vowel_frames();
        let codebook = crate::audio::profile::codebook(&frames, 10);
        assert!(!codebook.is_empty() && codebook.len() <= crate::audio::profile::CODEBOOK_SIZE);
        for shape in &shapes {
            let best = codebook.iter().map(|entry| rms_over_fitted(entry, shape)).fold(f64::MAX, f64::min);
            assert!(best < 1.0, "no codebook shape within 1 dB of a vowel: {best}");
        }
        let (mean, spread) = statistics(&frames);
        let model = Timbre {
            formant_scale: 1.0,
            bands_hz: (0..BANDS).map(band_hz).collect(),
            mean_db: mean.clone(),
            spread_db: spread,
            frames: frames.len(),
            scale_history: vec![],
            codebook,
        };
        let map = EnvelopeMap::new(&mean, &model, 1.0, None);
        // The second vowel as a high singer's analysis gives it: formants a third as high, wider.
        let blurred: Vec<f64> = (0..BANDS)
            .map(|i| {
                let f = band_hz(i);
                [270.0, 2290.0, 3010.0].iter().map(|&c| 6.0 * (-((f / c).ln() / 0.3).powi(2)).exp()).sum::<f64>()
                    - 6.0 * (f / 1000.0).log2()
                    + 7.0
            })
            .collect();
        assert!(rms_over_fitted(&blurred, &shapes[1]) > 3.0);
        let (rate, bins) = (16_000, 513);
        let hz_per_bin = rate as f64 / 2.0 / (bins - 1) as f64;
        let frame: Vec<f64> = (0..bins)
            .map(|k| 10f64.powf(read(&blurred, band_of((k as f64 * hz_per_bin).max(LOW_HZ))) / 10.0))
            .collect();
        let mut voiced = frame.clone();
        map.apply(&mut voiced, rate, true, &mut Vec::new());
        let out: Vec<f64> = bands_of(&voiced, rate).iter().map(|&v| v as f64).collect();
        assert!(rms_over_fitted(&out, &shapes[1]) < 1.0, "{}", rms_over_fitted(&out, &shapes[1]));
        assert!((level(&out) - level(&blurred)).abs() < 0.5, "the frame keeps its level");
        // An unvoiced frame has only the statistics' correction, none here.
        let mut unvoiced = frame;
        map.apply(&mut unvoiced, rate, false, &mut Vec::new());
        let out: Vec<f64> = bands_of(&unvoiced, rate).iter().map(|&v| v as f64).collect();
        assert!(rms_over_fitted(&out, &blurred) < 0.3);
    }

    #[test]
    fn finds_and_removes_a_flat_noise_floor() {
        let (_, frames) = vowel_frames();
        // The vowels some 90 dB down, their highs under a flat floor at -100 dB added in power.
        let noisy: Vec<[f32; BANDS]> = frames
            .iter()
            .map(|f| f.map(|v| (10.0 * (10f64.powf((v as f64 - 90.0) / 10.0) + 1e-10).log10()) as f32))
            .collect();
        let floor = noise_floor(&noisy).unwrap();
        assert!((-101.0..-97.0).contains(&floor), "{floor}");
        assert!(without_floor(-100.0, floor) <= -128.0);
        assert!((without_floor(-70.0, floor) + 70.0).abs() < 0.05, "30 dB over the floor, a level stays");
        assert!(noise_floor(&[]).is_none());
    }
}
