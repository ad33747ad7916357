//! A small in-place radix-2 complex FFT, enough for the short-time spectra of the separator.

use std::f64::consts::PI;

/// A complex number as (re, im).
pub type Complex = (f32, f32);

/// A reusable FFT plan of one power-of-two size.
pub struct Fft {
    size: usize,
    twiddles: Vec<Complex>,
}

impl Fft {
    /// A plan for `size` points; `size` must be a power of two.
    pub fn new(size: usize) -> Self {
        assert!(size.is_power_of_two(), "FFT size must be a power of two");
        let twiddles = (0..size / 2)
            .map(|k| {
                let angle = -2.0 * PI * k as f64 / size as f64;
                (angle.cos() as f32, angle.sin() as f32)
            })
            .collect();
        Fft { size, twiddles }
    }

    pub fn size(&self) -> usize {
        self.size
    }

    /// The forward transform, in place.
    pub fn forward(&self, data: &mut [Complex]) {
        self.transform(data, false);
    }

    /// The inverse transform, in place, scaled by 1/size.
    pub fn inverse(&self, data: &mut [Complex]) {
        self.transform(data, true);
        let scale = 1.0 / self.size as f32;
        for value in data.iter_mut() {
            value.0 *= scale;
            value.1 *= scale;
        }
    }

    fn transform(&self, data: &mut [Complex], inverse: bool) {
        let n = self.size;
        debug_assert_eq!(data.len(), n);
        // Bit-reversal permutation.
        let mut j = 0;
        for i in 1..n {
            let mut bit = n >> 1;
            while j & bit != 0 {
                j ^= bit;
                bit >>= 1;
            }
            j |= bit;
            if i < j {
                data.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= n {
            let step = n / len;
            for start in (0..n).step_by(len) {
                for k in 0..len / 2 {
                    let (wr, wi) = self.twiddles[k * step];
                    let wi = if inverse { -wi } else { wi };
                    let (ar, ai) = data[start + k];
                    let (br, bi) = data[start + k + len / 2];
                    let tr = br * wr - bi * wi;
                    let ti = br * wi + bi * wr;
                    data[start + k] = (ar + tr, ai + ti);
                    data[start + k + len / 2] = (ar - tr, ai - ti);
                }
            }
            len <<= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_single_bin() {
        let fft = Fft::new(64);
        let signal: Vec<Complex> = (0..64).map(|i| (((2.0 * PI * 5.0 * i as f64 / 64.0).cos()) as f32, 0.0)).collect();
        let mut data = signal.clone();
        fft.forward(&mut data);
        let peak = (0..32).max_by(|&a, &b| data[a].0.hypot(data[a].1).total_cmp(&data[b].0.hypot(data[b].1))).unwrap();
        assert_eq!(peak, 5);
        fft.inverse(&mut data);
        for (a, b) in data.iter().zip(&signal) {
            assert!((a.0 - b.0).abs() < 1e-4 && a.1.abs() < 1e-4);
        }
    }
}
