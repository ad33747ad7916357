//! Audio: decoding, the voice model (register and timbre), the WORLD vocoder's analysis and
//! synthesis, vocal separation, synthesis of the samples and the WAV writer. Audio travels as
//! plain `f32` buffers; the vocoder works in `f64`, block by block.

pub mod cloning;
pub mod decode;
pub mod fft;
pub mod pitch;
pub mod profile;
pub mod resample;
pub mod separate;
pub mod shift;
pub mod synth;
pub mod timbre;
pub mod wav;
pub mod world;

/// The loudest sample value written, a little under full scale, so that no output clips.
pub const PEAK_CEILING: f32 = 0.89;

/// Decoded audio: one buffer per channel, all of the same length.
#[derive(Debug, Clone, PartialEq)]
pub struct Audio {
    pub rate: u32,
    pub channels: Vec<Vec<f32>>,
}

impl Audio {
    pub fn mono(rate: u32, samples: Vec<f32>) -> Self {
        Audio { rate, channels: vec![samples] }
    }

    /// Frames per channel.
    pub fn len(&self) -> usize {
        self.channels.first().map_or(0, Vec::len)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn seconds(&self) -> f64 {
        self.len() as f64 / self.rate.max(1) as f64
    }

    /// The average of the channels.
    pub fn mixdown(&self) -> Vec<f32> {
        let count = self.channels.len().max(1) as f32;
        (0..self.len()).map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() / count).collect()
    }

    /// The largest absolute sample value.
    pub fn peak(&self) -> f32 {
        self.channels.iter().flatten().fold(0.0f32, |peak, s| peak.max(s.abs()))
    }

    /// Scales the audio down, if needed, so that its peak is at most [`PEAK_CEILING`].
    pub fn limit_peak(&mut self) {
        let peak = self.peak();
        if peak > PEAK_CEILING {
            let gain = PEAK_CEILING / peak;
            self.channels.iter_mut().flatten().for_each(|s| *s *= gain);
        }
    }

    /// The same audio at another sample rate (cubic interpolation).
    pub fn resampled(&self, rate: u32) -> Audio {
        if rate == self.rate || self.is_empty() {
            return Audio { rate, channels: self.channels.clone() };
        }
        let length = ((self.len() as f64) * rate as f64 / self.rate as f64).round().max(1.0) as usize;
        Audio { rate, channels: self.channels.iter().map(|c| stretch_to(c, length)).collect() }
    }
}

/// Reads `samples` at a constant speed so that they fill exactly `length` samples
/// (Catmull-Rom interpolation): a resampler, and with it a change of speed and pitch.
pub fn stretch_to(samples: &[f32], length: usize) -> Vec<f32> {
    if samples.is_empty() || length == 0 {
        return vec![0.0; length];
    }
    let step = samples.len() as f64 / length as f64;
    let at = |i: isize| samples[i.clamp(0, samples.len() as isize - 1) as usize];
    (0..length)
        .map(|n| {
            let position = n as f64 * step;
            let i = position.floor() as isize;
            let t = (position - i as f64) as f32;
            let (p0, p1, p2, p3) = (at(i - 1), at(i), at(i + 1), at(i + 2));
            p1 + 0.5 * t * (p2 - p0 + t * (2.0 * p0 - 5.0 * p1 + 4.0 * p2 - p3 + t * (3.0 * (p1 - p2) + p3 - p0)))
        })
        .collect()
}

/// Joins several clips into one at the first clip's rate; the result is mono unless
/// every clip has the same number of channels.
pub fn concatenate(clips: Vec<Audio>) -> Option<Audio> {
    let first = clips.first()?;
    let rate = first.rate;
    let channels = first.channels.len();
    if clips.len() == 1 {
        return clips.into_iter().next();
    }
    let same_layout = clips.iter().all(|c| c.channels.len() == channels);
    let mut out = vec![Vec::new(); if same_layout { channels } else { 1 }];
    for clip in clips {
        let clip = clip.resampled(rate);
        if same_layout {
            for (o, c) in out.iter_mut().zip(clip.channels) {
                o.extend(c);
            }
        } else {
            out[0].extend(clip.mixdown());
        }
    }
    Some(Audio { rate, channels: out })
}
