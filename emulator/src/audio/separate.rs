//! Vocal extraction for `useSeparate: 2`: the vocal of a mix is usually panned to the
//! centre, so each time-frequency bin keeps the part that is alike in both channels
//! (same level, same phase) and drops what is only on one side or out of phase.

use super::fft::{Complex, Fft};
use super::Audio;

const FRAME: usize = 2048;
const HOP: usize = FRAME / 4;
/// How sharply the mask favours the centre: similarity to this power.
const SHARPNESS: i32 = 4;

/// The centre (vocal) of a stereo mix as mono; a mono input is returned as it is.
pub fn extract_vocal(audio: &Audio) -> Audio {
    let mut vocal = Vec::with_capacity(audio.len());
    vocal_stream(audio, |v| vocal.push(v));
    Audio::mono(audio.rate, vocal)
}

/// Each sample of the vocal of `audio` (see [`extract_vocal`]) in order, given to `sink`:
/// the vocal is never held whole.
pub fn vocal_stream(audio: &Audio, mut sink: impl FnMut(f32)) {
    if audio.channels.len() < 2 {
        for i in 0..audio.len() {
            sink(audio.channels.iter().map(|c| c[i]).sum::<f32>() / audio.channels.len().max(1) as f32);
        }
        return;
    }
    let mut centre = Centre::new(audio.len());
    while let Some((_, hop)) = centre.next_hop(&audio.channels[0], &audio.channels[1]) {
        hop.iter().for_each(|&v| sink(v));
    }
}

/// Splits a stereo (or wider) mix in place: each sample of its vocal (see [`extract_vocal`])
/// is given to `sink` in order and taken out of every channel, which are left with the
/// accompaniment. Neither the vocal nor a copy of the mix is held whole. A mono input is
/// left as it is and given to `sink` whole.
pub fn split(audio: &mut Audio, mut sink: impl FnMut(f32)) {
    if audio.channels.len() < 2 {
        return vocal_stream(audio, sink);
    }
    let mut centre = Centre::new(audio.len());
    // A hop's samples are final once given, and no later frame reads them: they can leave
    // the channels at once.
    while let Some((first, hop)) = centre.next_hop(&audio.channels[0], &audio.channels[1]) {
        for (i, &v) in hop.iter().enumerate() {
            sink(v);
            audio.channels.iter_mut().for_each(|c| c[first + i] -= v);
        }
    }
}

/// The centre mask run frame by frame: each frame (one hop further) is masked and
/// overlap-added, and the hop of samples no later frame reaches is given out.
struct Centre {
    fft: Fft,
    window: Vec<f32>,
    /// The window's overlap-add at each phase of a hop: frames start a frame before the
    /// signal and run past its end, so every sample is covered by FRAME / HOP of them.
    norm: Vec<f32>,
    l: Vec<Complex>,
    r: Vec<Complex>,
    /// The overlap-add of the frames so far, from the current frame's start on.
    sum: Vec<f32>,
    hop: Vec<f32>,
    /// Where the next frame starts: a frame before the signal at first.
    start: isize,
    /// The signal's length in samples.
    length: usize,
}

impl Centre {
    fn new(length: usize) -> Self {
        let window: Vec<f32> = (0..FRAME)
            .map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / FRAME as f64).cos()) as f32)
            .collect();
        let norm = (0..HOP).map(|phase| (0..FRAME / HOP).map(|k| window[phase + k * HOP].powi(2)).sum()).collect();
        Centre {
            fft: Fft::new(FRAME),
            window,
            norm,
            l: vec![(0.0, 0.0); FRAME],
            r: vec![(0.0, 0.0); FRAME],
            sum: vec![0.0; FRAME],
            hop: vec![0.0; HOP],
            start: -(FRAME as isize),
            length,
        }
    }

    /// The next hop of the vocal within the signal, as the index of its first sample and
    /// the samples, now final; `None` past the signal's end.
    fn next_hop(&mut self, left: &[f32], right: &[f32]) -> Option<(usize, &[f32])> {
        while self.start < self.length as isize {
            let start = self.start;
            self.start += HOP as isize;
            self.step(left, right, start);
            // The first hops lie before the signal (their frames reach into it).
            let first = start.max(0);
            let end = (start + HOP as isize).min(self.length as isize);
            if first < end {
                let skip = (first - start) as usize;
                return Some((first as usize, &self.hop[skip..skip + (end - first) as usize]));
            }
        }
        None
    }

    /// Adds the frame of `left` and `right` starting at `start` (a multiple of HOP, zero
    /// outside the signal) and leaves the samples `start..start + HOP`, now final, in `hop`.
    fn step(&mut self, left: &[f32], right: &[f32], start: isize) {
        for i in 0..FRAME {
            let index = start + i as isize;
            let (a, b) = if index >= 0 && (index as usize) < left.len().min(right.len()) {
                (left[index as usize], right[index as usize])
            } else {
                (0.0, 0.0)
            };
            self.l[i] = (a * self.window[i], 0.0);
            self.r[i] = (b * self.window[i], 0.0);
        }
        self.fft.forward(&mut self.l);
        self.fft.forward(&mut self.r);
        for i in 0..FRAME {
            let (lr, li) = self.l[i];
            let (rr, ri) = self.r[i];
            let energy = lr * lr + li * li + rr * rr + ri * ri;
            let similarity = if energy > 1e-12 { (2.0 * (lr * rr + li * ri) / energy).max(0.0) } else { 0.0 };
            let mask = similarity.powi(SHARPNESS);
            self.l[i] = (0.5 * (lr + rr) * mask, 0.5 * (li + ri) * mask);
        }
        self.fft.inverse(&mut self.l);
        for i in 0..FRAME {
            self.sum[i] += self.l[i].0 * self.window[i];
        }
        for i in 0..HOP {
            self.hop[i] = self.sum[i] / self.norm[i];
        }
        self.sum.copy_within(HOP.., 0);
        self.sum[FRAME - HOP..].fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_centre_and_drops_the_sides() {
        let rate = 16_000;
        let tone = |hz: f64| -> Vec<f32> {
            (0..rate).map(|i| (2.0 * std::f64::consts::PI * hz * i as f64 / rate as f64).sin() as f32 * 0.3).collect()
        };
        let (centre, side) = (tone(300.0), tone(1100.0));
        let left: Vec<f32> = centre.iter().zip(&side).map(|(c, s)| c + s).collect();
        let mix = Audio { rate: rate as u32, channels: vec![left, centre.clone()] };
        let vocal = extract_vocal(&mix);
        let error: f32 =
            vocal.channels[0].iter().zip(&centre).skip(2048).take(8000).map(|(a, b)| (a - b).powi(2)).sum();
        let energy: f32 = centre.iter().skip(2048).take(8000).map(|c| c * c).sum();
        assert!(error / energy < 0.05, "residual {}", error / energy);

        // In place, the same vocal comes out and what is left is the mix without it.
        let mut split_mix = mix.clone();
        let mut streamed = Vec::new();
        split(&mut split_mix, |v| streamed.push(v));
        assert_eq!(streamed, vocal.channels[0]);
        for (left, (original, v)) in split_mix.channels[0].iter().zip(mix.channels[0].iter().zip(&streamed)) {
            assert_eq!(*left, original - v);
        }
    }
}
