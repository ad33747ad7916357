//! Pitch shifting that keeps the duration: a WSOLA time stretch (waveform-similarity
//! overlap-add, Verhelst and Roelands 1993) by the ratio, then a resampling back to the
//! original length. All channels share the same frame alignment, so a stereo image stays.

use super::{stretch_to, Audio};

/// Frame length of the stretch, in seconds.
const FRAME_SECONDS: f64 = 0.03;
/// How far a frame may move from its nominal place to continue the waveform, in seconds.
const TOLERANCE_SECONDS: f64 = 0.006;
/// The rate the alignment search runs at, for speed.
const SEARCH_RATE: u32 = 11_025;

/// `audio` with every frequency multiplied by `ratio` and the same number of samples.
pub fn shift_pitch(audio: &Audio, ratio: f64) -> Audio {
    if audio.is_empty() || !ratio.is_finite() || ratio <= 0.0 || (ratio - 1.0).abs() < 1e-4 {
        return audio.clone();
    }
    let stretched = stretch(audio, ratio);
    let length = audio.len();
    Audio { rate: audio.rate, channels: stretched.iter().map(|c| stretch_to(c, length)).collect() }
}

/// Each channel made `factor` times longer without changing its pitch.
pub fn stretch(audio: &Audio, factor: f64) -> Vec<Vec<f32>> {
    let rate = audio.rate as f64;
    let frame = (((FRAME_SECONDS * rate) as usize) / 2 * 2).max(4);
    let synthesis_hop = frame / 2;
    let analysis_hop = synthesis_hop as f64 / factor;
    let tolerance = (TOLERANCE_SECONDS * rate) as isize;
    let input_length = audio.len();
    let output_length = (input_length as f64 * factor).ceil() as usize;

    let guide = audio.mixdown();
    let coarse_factor = (audio.rate / SEARCH_RATE).max(1) as usize;
    let coarse: Vec<f32> = guide.iter().step_by(coarse_factor).copied().collect();

    let window: Vec<f32> =
        (0..frame).map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / frame as f64).cos()) as f32).collect();
    let mut outputs = vec![vec![0.0f32; output_length + frame]; audio.channels.len()];
    let mut weights = vec![0.0f32; output_length + frame];

    let mut previous: isize = 0;
    let mut k = 0usize;
    while k * synthesis_hop < output_length {
        let nominal = (k as f64 * analysis_hop).round() as isize;
        let position = if k == 0 {
            0
        } else {
            let natural = previous + synthesis_hop as isize;
            best_alignment(&guide, &coarse, coarse_factor, natural, nominal, tolerance, frame)
        };
        let start = k * synthesis_hop;
        for (output, channel) in outputs.iter_mut().zip(&audio.channels) {
            for j in 0..frame {
                output[start + j] += window[j] * sample(channel, position + j as isize);
            }
        }
        for j in 0..frame {
            weights[start + j] += window[j];
        }
        previous = position;
        k += 1;
    }
    for output in outputs.iter_mut() {
        for (value, weight) in output.iter_mut().zip(&weights) {
            if *weight > 1e-3 {
                *value /= weight;
            }
        }
        output.truncate(output_length);
    }
    outputs
}

/// The frame start near `nominal` whose waveform best continues the one at `natural`:
/// a coarse search on the decimated guide, then a fine one around its best.
fn best_alignment(
    guide: &[f32],
    coarse: &[f32],
    factor: usize,
    natural: isize,
    nominal: isize,
    tolerance: isize,
    frame: usize,
) -> isize {
    let f = factor as isize;
    let coarse_frame = frame / factor;
    let mut best = (f32::MIN, nominal);
    let mut delta = -tolerance / f;
    while delta <= tolerance / f {
        let candidate = nominal / f + delta;
        let score = correlation(coarse, candidate, natural / f, coarse_frame, 2);
        if score > best.0 {
            best = (score, candidate * f);
        }
        delta += 1;
    }
    if factor == 1 {
        return best.1.max(0);
    }
    let centre = best.1;
    let mut fine = (f32::MIN, centre);
    for offset in -f..=f {
        let score = correlation(guide, centre + offset, natural, frame, 2);
        if score > fine.0 {
            fine = (score, centre + offset);
        }
    }
    fine.1.max(0)
}

/// The correlation of the `length` samples at `a` with those at `b`, every `step`-th sample.
fn correlation(signal: &[f32], a: isize, b: isize, length: usize, step: usize) -> f32 {
    (0..length).step_by(step).map(|j| sample(signal, a + j as isize) * sample(signal, b + j as isize)).sum()
}

/// The sample at `index`, zero outside the signal.
fn sample(signal: &[f32], index: isize) -> f32 {
    if index < 0 {
        0.0
    } else {
        signal.get(index as usize).copied().unwrap_or(0.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::{pitch, synth};

    #[test]
    fn moves_the_pitch_and_keeps_the_length() {
        let rate = 22_050;
        let input = Audio::mono(rate, synth::sung_tone(rate, 180.0, 1.5, 0));
        for ratio in [0.6, 1.3, 2.1] {
            let output = shift_pitch(&input, ratio);
            assert_eq!(output.len(), input.len());
            let median = pitch::track(&output.channels[0], rate).median_hz().unwrap();
            assert!(pitch::cents(180.0 * ratio, median).abs() < 25.0, "ratio {ratio}: {median} Hz");
        }
    }
}
