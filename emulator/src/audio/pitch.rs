//! Pitch tracking with YIN (de Cheveigné and Kawahara, 2002) on a decimated copy of the signal.

/// The lowest and highest fundamental the tracker looks for.
pub const MIN_HZ: f64 = 65.0;
pub const MAX_HZ: f64 = 1000.0;

/// The rate the tracker works at: the input is decimated to about this rate.
const ANALYSIS_RATE: u32 = 11_025;
/// Seconds between frames.
pub const HOP_SECONDS: f64 = 0.01;
/// YIN's threshold on the cumulative mean normalized difference.
const THRESHOLD: f32 = 0.15;
/// Frames quieter than this fraction of the loudest frame count as unvoiced.
const SILENCE_RATIO: f32 = 0.03;

/// The fundamental of each frame, `None` where the frame is unvoiced or silent.
#[derive(Debug, Clone, PartialEq)]
pub struct PitchTrack {
    pub hop_seconds: f64,
    pub frames: Vec<Option<f64>>,
}

impl PitchTrack {
    /// The voiced frames' fundamentals, in time order.
    pub fn voiced(&self) -> Vec<f64> {
        self.frames.iter().flatten().copied().collect()
    }

    /// The share of frames that are voiced.
    pub fn voiced_fraction(&self) -> f64 {
        if self.frames.is_empty() {
            return 0.0;
        }
        self.frames.iter().filter(|f| f.is_some()).count() as f64 / self.frames.len() as f64
    }

    /// The median fundamental of the voiced frames.
    pub fn median_hz(&self) -> Option<f64> {
        median(&self.voiced())
    }
}

/// The median of `values`, `None` when empty.
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 })
}

/// The distance from `from` to `to` in cents (hundredths of a semitone).
pub fn cents(from: f64, to: f64) -> f64 {
    1200.0 * (to / from).log2()
}

/// Tracks the fundamental of a mono signal.
pub fn track(samples: &[f32], rate: u32) -> PitchTrack {
    let factor = (rate / ANALYSIS_RATE).max(1) as usize;
    let signal = decimate(samples, factor);
    let rate = rate as f64 / factor as f64;
    let tau_min = (rate / MAX_HZ).floor().max(2.0) as usize;
    let tau_max = (rate / MIN_HZ).ceil() as usize;
    let window = tau_max + tau_max / 2;
    let hop = (rate * HOP_SECONDS).round().max(1.0) as usize;
    let span = window + tau_max + 1;
    if signal.len() < span {
        return PitchTrack { hop_seconds: hop as f64 / rate, frames: Vec::new() };
    }
    let starts: Vec<usize> = (0..=(signal.len() - span)).step_by(hop).collect();
    let loudness: Vec<f32> = starts
        .iter()
        .map(|&s| (signal[s..s + window].iter().map(|x| x * x).sum::<f32>() / window as f32).sqrt())
        .collect();
    let loudest = loudness.iter().fold(0.0f32, |a, &b| a.max(b));
    let mut difference = vec![0.0f32; tau_max + 1];
    let frames = starts
        .iter()
        .zip(&loudness)
        .map(|(&start, &level)| {
            if level < loudest * SILENCE_RATIO || level < 1e-4 {
                return None;
            }
            yin_frame(&signal[start..start + span], window, tau_min, tau_max, &mut difference).map(|tau| rate / tau)
        })
        .collect();
    PitchTrack { hop_seconds: hop as f64 / rate, frames }
}

/// The period of one frame in samples (fractional), or `None` when it is not periodic.
fn yin_frame(frame: &[f32], window: usize, tau_min: usize, tau_max: usize, difference: &mut [f32]) -> Option<f64> {
    difference[0] = 0.0;
    for tau in 1..=tau_max {
        let (a, b) = (&frame[..window], &frame[tau..tau + window]);
        difference[tau] = a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum();
    }
    // Cumulative mean normalized difference, in place.
    let raw: Vec<f32> = difference.to_vec();
    let mut running = 0.0f32;
    difference[0] = 1.0;
    for tau in 1..=tau_max {
        running += raw[tau];
        difference[tau] = if running > 0.0 { raw[tau] * tau as f32 / running } else { 1.0 };
    }
    let mut tau = tau_min;
    while tau < tau_max && difference[tau] >= THRESHOLD {
        tau += 1;
    }
    if tau >= tau_max {
        return None;
    }
    while tau + 1 < tau_max && difference[tau + 1] < difference[tau] {
        tau += 1;
    }
    // Parabolic interpolation around the dip.
    let (left, centre, right) = (difference[tau - 1] as f64, difference[tau] as f64, difference[tau + 1] as f64);
    let curvature = left - 2.0 * centre + right;
    let offset = if curvature.abs() > 1e-12 { (0.5 * (left - right) / curvature).clamp(-1.0, 1.0) } else { 0.0 };
    Some(tau as f64 + offset)
}

/// Low-passes with two passes of a moving average and keeps every `factor`-th sample.
fn decimate(samples: &[f32], factor: usize) -> Vec<f32> {
    if factor <= 1 {
        return samples.to_vec();
    }
    let smooth = |input: &[f32]| -> Vec<f32> {
        let mut out = Vec::with_capacity(input.len());
        let mut sum = 0.0f32;
        for i in 0..input.len() {
            sum += input[i];
            if i >= factor {
                sum -= input[i - factor];
            }
            out.push(sum / factor as f32);
        }
        out
    };
    smooth(&smooth(samples)).into_iter().step_by(factor).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::synth;

    #[test]
    fn finds_the_fundamental_of_a_sung_tone() {
        for (rate, hz) in [(44_100, 110.0), (44_100, 392.0), (22_050, 220.0), (16_000, 523.25), (48_000, 180.0)] {
            let samples = synth::sung_tone(rate, hz, 1.0, 0);
            let median = track(&samples, rate).median_hz().expect("voiced");
            assert!(cents(hz, median).abs() < 15.0, "{rate} Hz rate, {hz} Hz tone: measured {median}");
        }
    }

    #[test]
    fn silence_is_unvoiced() {
        let track = track(&vec![0.0; 22_050], 22_050);
        assert!(track.median_hz().is_none());
    }
}
