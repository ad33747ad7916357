//! The WORLD vocoder (Morise, Yokomori and Ozawa, 2016) through the `rsworld` bindings, which
//! build WORLD's own C++ from source: DIO + StoneMask for the fundamental, CheapTrick for the
//! spectral envelope, D4C for the aperiodicity, and WORLD's synthesis. WORLD was chosen as the
//! best-studied open vocoder that separates exactly what a voice conversion changes (F0 and
//! envelope) from what it keeps; DIO + StoneMask rather than Harvest because it is several
//! times faster, which the real-time budget of generation needs.
//!
//! This module is the only one that calls WORLD: it guards every call against the inputs the
//! C++ does not check (empty or too short signals, empty frame lists), so nothing here panics
//! or reads out of bounds on any audio a job may bring.

use rsworld_sys::{CheapTrickOption, D4COption, DioOption};

/// Milliseconds between analysis frames.
pub const FRAME_MS: f64 = 10.0;
/// The range the fundamental is searched in, Hz.
pub const F0_FLOOR: f64 = 65.0;
pub const F0_CEIL: f64 = 1100.0;
/// The F0 floor CheapTrick's FFT size is chosen for: lower than the fundamentals searched, so
/// that the FFT is 2048 points at 22.05 kHz rather than 1024. WORLD's synthesis from a
/// 1024-point envelope leaks some 90 dB under a low voice's formants, above a 16-bit file's
/// floor: the highs of a voice that has none came out 5–6 dB too loud (measured with pyworld
/// on a resynthesised synthetic singer: mean envelope 2.0 dB from the original, 0.5 dB at 2048).
const ENVELOPE_F0_FLOOR: f64 = 40.0;
/// The shortest signal analysed, in frames: WORLD's filters need a little context.
const MIN_FRAMES: usize = 4;

/// Samples per analysis frame at `rate` (fractional where the rate is not a multiple of 100 Hz).
pub fn frame_samples(rate: u32) -> f64 {
    rate as f64 * FRAME_MS / 1000.0
}

/// The FFT size CheapTrick and D4C use at `rate`; envelopes have `fft_size / 2 + 1` bins.
pub fn fft_size(rate: u32) -> usize {
    cheaptrick_option(rate).fft_size.max(2) as usize
}

/// CheapTrick's options at `rate`, its FFT size the one for [`ENVELOPE_F0_FLOOR`].
fn cheaptrick_option(rate: u32) -> CheapTrickOption {
    let mut option = CheapTrickOption::new(rate as i32);
    option.f0_floor = ENVELOPE_F0_FLOOR;
    // WORLD's GetFFTSizeForCheapTrick, whose result the binding declares void and drops: the
    // power of two above three periods of the floor.
    option.fft_size = 2i32.pow(1 + (3.0 * rate as f64 / ENVELOPE_F0_FLOOR + 1.0).log2() as u32);
    option
}

/// The fundamental of each frame (0 where unvoiced), one every [`FRAME_MS`] from the first sample.
pub fn fundamental(x: &[f64], rate: u32) -> Vec<f64> {
    if x.len() < (MIN_FRAMES as f64 * frame_samples(rate)) as usize || rate < 8_000 {
        return vec![0.0; frames_for(x.len(), rate)];
    }
    let mut option = DioOption::new();
    option.frame_period = FRAME_MS;
    option.f0_floor = F0_FLOOR;
    option.f0_ceil = F0_CEIL;
    // DIO decimates internally by `speed`; 2 keeps its working rate above 2 × F0_CEIL for
    // inputs of 22.05 kHz and more, and halves its cost.
    option.speed = if rate >= 22_050 { 2 } else { 1 };
    let x = x.to_vec();
    let (positions, f0) = rsworld::dio(&x, rate as i32, &option);
    let refined = rsworld::stonemask(&x, rate as i32, &positions, &f0);
    refined.into_iter().map(|f| if f.is_finite() && f > 0.0 { f } else { 0.0 }).collect()
}

/// How many frames WORLD gives a signal of `length` samples.
pub fn frames_for(length: usize, rate: u32) -> usize {
    (length as f64 / frame_samples(rate)) as usize + 1
}

/// The times of the frames `frames` (indices from the first sample of the signal), seconds.
fn positions(frames: &[usize]) -> Vec<f64> {
    frames.iter().map(|&k| k as f64 * FRAME_MS / 1000.0).collect()
}

/// The spectral envelope (power, linear) of the frames `frames` of `x`, whose fundamentals are `f0`.
pub fn envelope(x: &[f64], rate: u32, frames: &[usize], f0: &[f64]) -> Vec<Vec<f64>> {
    if f0.is_empty() || f0.len() != frames.len() || x.len() < 16 {
        return Vec::new();
    }
    rsworld::cheaptrick(&x.to_vec(), rate as i32, &positions(frames), &f0.to_vec(), &mut cheaptrick_option(rate))
}

/// The aperiodicity (0 periodic … 1 noise) of the frames `frames` of `x`, whose fundamentals
/// are `f0`, on the envelope's bins (`fft_size(rate) / 2 + 1`).
pub fn aperiodicity(x: &[f64], rate: u32, frames: &[usize], f0: &[f64]) -> Vec<Vec<f64>> {
    if f0.is_empty() || f0.len() != frames.len() || x.len() < 16 {
        return Vec::new();
    }
    let mut frames = rsworld::d4c(&x.to_vec(), rate as i32, &positions(frames), &f0.to_vec(), &D4COption::new());
    // The binding runs D4C at WORLD's default FFT size; the aperiodicity is smooth along
    // frequency (D4C interpolates it between a few bands), so it is read onto the finer bins.
    let bins = fft_size(rate) / 2 + 1;
    for frame in &mut frames {
        if frame.len() >= 2 && frame.len() != bins {
            let step = (frame.len() - 1) as f64 / (bins - 1) as f64;
            *frame = (0..bins)
                .map(|k| {
                    let position = k as f64 * step;
                    let j = (position as usize).min(frame.len() - 2);
                    let t = position - j as f64;
                    frame[j] * (1.0 - t) + frame[j + 1] * t
                })
                .collect();
        }
    }
    frames
}

/// The waveform of the frames: `f0` (0 = unvoiced), envelopes and aperiodicities as the
/// analysis gives them (all the same number of frames, all of `fft_size(rate) / 2 + 1` bins).
/// Takes the frames by value: the binding reads them as they are, and a copy of a long
/// block's would double what the block holds.
pub fn synthesise(f0: &[f64], envelope: Vec<Vec<f64>>, aperiodicity: Vec<Vec<f64>>, rate: u32) -> Vec<f64> {
    let bins = fft_size(rate) / 2 + 1;
    let consistent = !f0.is_empty()
        && envelope.len() == f0.len()
        && aperiodicity.len() == f0.len()
        && envelope.iter().chain(aperiodicity.iter()).all(|frame| frame.len() == bins);
    // Beyond this many frames the binding's i32 output length overflows.
    let fits = (f0.len() as f64) * FRAME_MS * rate as f64 / 1000.0 < i32::MAX as f64 / 2.0;
    if !consistent || !fits {
        return Vec::new();
    }
    rsworld::synthesis(&f0.to_vec(), &envelope, &aperiodicity, FRAME_MS, rate as i32)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: u32, hz: f64, seconds: f64) -> Vec<f64> {
        (0..(rate as f64 * seconds) as usize)
            .map(|i| {
                let t = i as f64 / rate as f64;
                (1..=10).map(|k| (2.0 * std::f64::consts::PI * hz * k as f64 * t).sin() / k as f64).sum::<f64>() * 0.2
            })
            .collect()
    }

    #[test]
    fn analyses_and_resynthesises_a_tone() {
        let rate = 16_000;
        let x = tone(rate, 180.0, 1.0);
        let f0 = fundamental(&x, rate);
        assert_eq!(f0.len(), frames_for(x.len(), rate));
        let voiced: Vec<f64> = f0.iter().copied().filter(|f| *f > 0.0).collect();
        assert!(voiced.len() > f0.len() * 3 / 4);
        let mean = voiced.iter().sum::<f64>() / voiced.len() as f64;
        assert!((mean / 180.0 - 1.0).abs() < 0.01, "{mean}");
        let frames: Vec<usize> = (0..f0.len()).collect();
        let sp = envelope(&x, rate, &frames, &f0);
        let ap = aperiodicity(&x, rate, &frames, &f0);
        assert_eq!(sp[0].len(), fft_size(rate) / 2 + 1);
        let y = synthesise(&f0, sp, ap, rate);
        assert!((y.len() as f64 - x.len() as f64).abs() <= frame_samples(rate) * 2.0);
    }

    #[test]
    fn refuses_what_the_cpp_would_not_survive() {
        assert!(fundamental(&[], 16_000).iter().all(|f| *f == 0.0));
        assert!(fundamental(&[0.1; 10], 16_000).iter().all(|f| *f == 0.0));
        assert!(envelope(&[], 16_000, &[0], &[100.0]).is_empty());
        assert!(envelope(&[0.1; 1000], 16_000, &[0, 1], &[100.0]).is_empty());
        assert!(synthesise(&[], vec![], vec![], 16_000).is_empty());
        assert!(synthesise(&[100.0], vec![vec![1.0; 3]], vec![vec![0.0; 3]], 16_000).is_empty());
    }
}
