//! Test signals, synthesized here independently of the emulator's own synthesizer: an
//! additive harmonic source with vibrato through formant resonators, and the measures
//! the tests apply to outputs.

use std::f64::consts::PI;

/// A sung line: `notes` (Hz, seconds) with vibrato (5 Hz, ±40 cents), as harmonics up to
/// 5 kHz with a 1/k spectrum, through resonators at 700, 1200 and 2600 Hz; peak 0.6.
pub fn sung_line(rate: u32, notes: &[(f64, f64)]) -> Vec<f32> {
    let rate_f = rate as f64;
    let mut out = Vec::new();
    let mut phase = 0.0f64;
    let mut t = 0.0f64;
    for &(hz, seconds) in notes {
        let length = (seconds * rate_f) as usize;
        for i in 0..length {
            let f0 = hz * 2f64.powf(40.0 * (2.0 * PI * 5.0 * t).sin() / 1200.0);
            phase += 2.0 * PI * f0 / rate_f;
            t += 1.0 / rate_f;
            let harmonics = ((5000.0 / f0) as usize).max(1);
            let source: f64 = (1..=harmonics).map(|k| (phase * k as f64).sin() / k as f64).sum();
            let envelope = (i as f64 / (0.03 * rate_f)).min(1.0) * ((length - i) as f64 / (0.03 * rate_f)).min(1.0);
            out.push(source * envelope);
        }
    }
    let mut filtered = formants(&out, rate_f);
    let peak = filtered.iter().fold(0.0f64, |a, s| a.max(s.abs()));
    filtered.iter_mut().for_each(|s| *s *= 0.6 / peak);
    filtered.into_iter().map(|s| s as f32).collect()
}

fn formants(input: &[f64], rate: f64) -> Vec<f64> {
    let mut out = vec![0.0; input.len()];
    for (centre, bandwidth, gain) in [(700.0, 90.0, 1.0), (1200.0, 110.0, 0.5), (2600.0, 160.0, 0.25)] {
        let r = (-PI * bandwidth / rate).exp();
        let (a1, a2) = (-2.0 * r * (2.0 * PI * centre / rate).cos(), r * r);
        let (mut y1, mut y2) = (0.0, 0.0);
        for (o, &x) in out.iter_mut().zip(input) {
            let y = (1.0 - r) * x - a1 * y1 - a2 * y2;
            y2 = y1;
            y1 = y;
            *o += gain * y;
        }
    }
    out
}

/// A 16-bit mono WAV file of `samples`.
pub fn wav_bytes(rate: u32, channels: &[Vec<f32>]) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels: channels.len() as u16,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut cursor = std::io::Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..channels[0].len() {
        for channel in channels {
            writer.write_sample((channel[i].clamp(-1.0, 1.0) * 32767.0) as i16).unwrap();
        }
    }
    writer.finalize().unwrap();
    cursor.into_inner()
}

/// A decoded WAV: rate, channels and the raw 16-bit samples.
pub struct Wav {
    pub rate: u32,
    pub channels: Vec<Vec<f32>>,
    pub peak_raw: i32,
}

impl Wav {
    pub fn seconds(&self) -> f64 {
        self.channels[0].len() as f64 / self.rate as f64
    }

    pub fn mixdown(&self) -> Vec<f32> {
        let n = self.channels.len() as f32;
        (0..self.channels[0].len()).map(|i| self.channels.iter().map(|c| c[i]).sum::<f32>() / n).collect()
    }

    /// The median fundamental, Hz, by the emulator's YIN tracker.
    pub fn median_hz(&self) -> f64 {
        median_hz(&self.mixdown(), self.rate)
    }
}

pub fn read_wav(bytes: &[u8]) -> Wav {
    let reader = hound::WavReader::new(std::io::Cursor::new(bytes)).expect("a WAV file");
    let spec = reader.spec();
    assert_eq!(spec.bits_per_sample, 16);
    let count = spec.channels as usize;
    let raw: Vec<i32> = reader.into_samples::<i16>().map(|s| s.unwrap() as i32).collect();
    let peak_raw = raw.iter().map(|s| s.abs()).max().unwrap_or(0);
    let mut channels = vec![Vec::new(); count];
    for (i, s) in raw.iter().enumerate() {
        channels[i % count].push(*s as f32 / 32768.0);
    }
    Wav { rate: spec.sample_rate, channels, peak_raw }
}

pub fn median_hz(samples: &[f32], rate: u32) -> f64 {
    singing_cloning_emulator::audio::pitch::track(samples, rate).median_hz().expect("a voiced signal")
}

pub fn cents(from: f64, to: f64) -> f64 {
    1200.0 * (to / from).log2()
}
