//! Integer-factor rate changes for the vocoder's working rate (44.1 kHz ↔ 22.05 kHz and the
//! like): a windowed-sinc low-pass (Blackman window), evaluated only at the samples kept.
//! Written here rather than taken from a resampling crate because the conversion works
//! block by block on slices of one long signal, and a stateless FIR evaluated at any index
//! is exactly what that needs; it is a few lines.

use std::f64::consts::PI;

/// Taps on each side of the centre, per unit of the factor.
const HALF_TAPS: usize = 24;

/// The factor to divide `rate` by for the vocoder: WORLD costs in proportion to the rate, and
/// a singing voice's timbre lies below 8–10 kHz, so rates above 32 kHz are halved (or more).
pub fn factor_for(rate: u32) -> usize {
    ((rate / 20_000) as usize).max(1)
}

/// The low-pass kernel for `factor`: cut-off at 0.9 of the lower rate's Nyquist frequency.
fn kernel(factor: usize) -> Vec<f64> {
    let half = HALF_TAPS * factor;
    let cutoff = 0.9 / factor as f64;
    (0..=2 * half)
        .map(|i| {
            let n = i as f64 - half as f64;
            let sinc = if n == 0.0 { cutoff } else { (PI * cutoff * n).sin() / (PI * n) };
            let w = 0.42 - 0.5 * (2.0 * PI * i as f64 / (2 * half) as f64).cos()
                + 0.08 * (4.0 * PI * i as f64 / (2 * half) as f64).cos();
            sinc * w
        })
        .collect()
}

/// `x` at `1 / factor` of its rate: `ceil(len / factor)` samples.
pub fn decimate(x: &[f32], factor: usize) -> Vec<f32> {
    let mut decimator = Decimator::new(factor, x.len());
    x.iter().for_each(|&v| decimator.push(v));
    decimator.finish()
}

/// [`decimate`] fed one sample at a time, so that a signal made on the fly (a mixdown, an
/// extracted vocal) is brought to the lower rate without being held whole at the higher one:
/// it keeps the kernel's span of input and the output.
pub struct Decimator {
    factor: usize,
    kernel: Vec<f64>,
    /// The last `kernel.len()` inputs, by index modulo that length.
    history: Vec<f32>,
    pushed: usize,
    length: usize,
    out: Vec<f32>,
}

impl Decimator {
    /// A decimator by `factor` for a signal of `length` samples (its output is reserved).
    pub fn new(factor: usize, length: usize) -> Self {
        let factor = factor.max(1);
        let kernel = if factor == 1 { vec![1.0] } else { kernel(factor) };
        let out = Vec::with_capacity(length.div_ceil(factor));
        Decimator { factor, history: vec![0.0; kernel.len()], kernel, pushed: 0, length, out }
    }

    /// The next input sample.
    pub fn push(&mut self, value: f32) {
        let span = self.history.len();
        self.history[self.pushed % span] = value;
        self.pushed += 1;
        let half = span / 2;
        // Output j is centred on input j·factor and needs the inputs up to j·factor + half.
        while self.out.len() * self.factor + half < self.pushed {
            let value = self.output(self.out.len());
            self.out.push(value);
        }
    }

    /// Output `j` from the inputs held (zero before the first and after the last pushed).
    fn output(&self, j: usize) -> f32 {
        let (span, half) = (self.history.len(), self.history.len() / 2);
        let centre = j * self.factor;
        self.kernel
            .iter()
            .enumerate()
            .filter_map(|(k, c)| {
                let i = (centre + k).checked_sub(half)?;
                (i < self.pushed && i + span >= self.pushed).then(|| c * self.history[i % span] as f64)
            })
            .sum::<f64>() as f32
    }

    /// The output, `ceil(length / factor)` samples (the end read as silence).
    pub fn finish(mut self) -> Vec<f32> {
        let length = self.length.div_ceil(self.factor);
        while self.out.len() < length {
            let value = self.output(self.out.len());
            self.out.push(value);
        }
        self.out.truncate(length);
        self.out
    }
}

/// The sample at `index` of `x` brought up by `factor` (zero-stuffing and the same low-pass).
pub struct Interpolator {
    factor: usize,
    /// The kernel split into its `factor` phases, each scaled by the factor.
    phases: Vec<Vec<f64>>,
    half: isize,
}

impl Interpolator {
    pub fn new(factor: usize) -> Self {
        let factor = factor.max(1);
        if factor == 1 {
            return Interpolator { factor, phases: vec![vec![1.0]], half: 0 };
        }
        let h = kernel(factor);
        let half = (h.len() / 2) as isize;
        let phases = (0..factor)
            .map(|p| {
                // Output n = m·factor + p takes input j with weight h[half + n - j·factor].
                let mut taps = Vec::new();
                let mut k = (half as usize + p) % factor;
                while k < h.len() {
                    taps.push(h[k] * factor as f64);
                    k += factor;
                }
                taps
            })
            .collect();
        Interpolator { factor, phases, half }
    }

    /// Output sample `n` from the low-rate signal `x`.
    pub fn at(&self, x: &[f32], n: usize) -> f64 {
        if self.factor == 1 {
            return x.get(n).map_or(0.0, |&v| v as f64);
        }
        let f = self.factor as isize;
        let p = n as isize % f;
        // The first tap of phase p is kernel index k0 = (half + p) mod f, for input j0 = (n + half - k0) / f.
        let k0 = (self.half + p) % f;
        let j0 = (n as isize + self.half - k0) / f;
        self.phases[p as usize]
            .iter()
            .enumerate()
            .filter_map(|(t, c)| {
                let j = j0 - t as isize;
                (j >= 0 && (j as usize) < x.len()).then(|| c * x[j as usize] as f64)
            })
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(rate: f64, hz: f64, n: usize) -> Vec<f32> {
        (0..n).map(|i| (2.0 * PI * hz * i as f64 / rate).sin() as f32).collect()
    }

    #[test]
    fn down_and_up_keeps_the_band_and_drops_what_is_above() {
        let x = sine(44_100.0, 1000.0, 8820);
        let low = decimate(&x, 2);
        assert_eq!(low.len(), 4410);
        let expected = sine(22_050.0, 1000.0, 4410);
        for i in 200..4200 {
            assert!((low[i] - expected[i]).abs() < 0.01, "{i}");
        }
        let up = Interpolator::new(2);
        for (n, &sample) in x.iter().enumerate().take(8400).skip(400) {
            assert!((up.at(&low, n) - sample as f64).abs() < 0.02, "{n}: {} vs {sample}", up.at(&low, n));
        }
        // 15 kHz is above the 11 kHz Nyquist frequency of the lower rate: it must vanish, not alias.
        // Fed one sample at a time it is the same, whatever the factor.
        for factor in [1, 2, 3] {
            let kernel = kernel(factor);
            let half = (kernel.len() / 2) as isize;
            let direct: Vec<f32> = (0..x.len().div_ceil(factor))
                .map(|j| {
                    let centre = (j * factor) as isize;
                    let taps = kernel.iter().enumerate().filter_map(|(k, c)| {
                        let i = centre + k as isize - half;
                        (i >= 0 && (i as usize) < x.len()).then(|| c * x[i as usize] as f64)
                    });
                    (if factor == 1 { x[j] as f64 } else { taps.sum::<f64>() }) as f32
                })
                .collect();
            assert_eq!(decimate(&x, factor), direct, "factor {factor}");
        }
        let high = decimate(&sine(44_100.0, 15_000.0, 8820), 2);
        let rms = (high[200..4200].iter().map(|v| v * v).sum::<f32>() / 4000.0).sqrt();
        assert!(rms < 0.01, "{rms}");
    }
}
