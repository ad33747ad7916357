//! Synthesis of a singing voice (a band-limited glottal-like source with vibrato through
//! vowel formant filters) and of a small song with a stereo-wide accompaniment. It makes
//! the sample clips and the audio of a text (`sourceData`) input; it is deterministic.

use std::f64::consts::PI;

use super::Audio;

/// The rate of the samples and of text inputs.
pub const SAMPLE_RATE: u32 = 44_100;
/// The rate text inputs are sung at (lower, as they are only a melody).
pub const TEXT_RATE: u32 = 22_050;
/// The longest text input's song.
pub const MAX_TEXT_SECONDS: f64 = 8.0;

/// The first three formants (Hz) of the vowels a, e, i, o, u.
const VOWELS: [[f64; 3]; 5] = [
    [800.0, 1150.0, 2900.0],
    [400.0, 1700.0, 2600.0],
    [300.0, 2200.0, 3000.0],
    [450.0, 800.0, 2830.0],
    [325.0, 700.0, 2530.0],
];

/// One sung note, or a rest when `hz` is `None`.
#[derive(Debug, Clone, Copy)]
pub struct Note {
    pub hz: Option<f64>,
    pub seconds: f64,
    /// Index into a, e, i, o, u.
    pub vowel: usize,
}

impl Note {
    pub fn sung(hz: f64, seconds: f64, vowel: usize) -> Self {
        Note { hz: Some(hz), seconds, vowel: vowel % VOWELS.len() }
    }
    pub fn rest(seconds: f64) -> Self {
        Note { hz: None, seconds, vowel: 0 }
    }
}

/// One note of `seconds` at `hz` on vowel `vowel` (0 = a … 4 = u).
pub fn sung_tone(rate: u32, hz: f64, seconds: f64, vowel: usize) -> Vec<f32> {
    sing(rate, &[Note::sung(hz, seconds, vowel)])
}

/// Who sings: the vocal tract's length as a scale of every formant (1 = the vowel table's,
/// an adult male's; about 1.2 for a soprano) and the source's darkness (a one-pole low-pass
/// coefficient on the glottal source, 0 = none).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Singer {
    pub formant_scale: f64,
    pub darkness: f64,
}

impl Singer {
    /// The `default` model's voice.
    pub const DEFAULT: Singer = Singer { formant_scale: 1.0, darkness: 0.3 };
    /// The voice of the training sample: a soprano, shorter tract, brighter source.
    pub const SOPRANO: Singer = Singer { formant_scale: 1.2, darkness: 0.0 };
    /// The singer of the song sample: a baritone, longer tract, darker source.
    pub const BARITONE: Singer = Singer { formant_scale: 0.92, darkness: 0.5 };
}

/// Sings `notes` with vibrato and gliding between notes in the default voice; peak 0.5.
pub fn sing(rate: u32, notes: &[Note]) -> Vec<f32> {
    sing_as(rate, notes, Singer::DEFAULT)
}

/// Sings `notes` as `singer`, with vibrato and gliding between notes; peak 0.5.
pub fn sing_as(rate: u32, notes: &[Note], singer: Singer) -> Vec<f32> {
    let rate_f = rate as f64;
    let mut out = Vec::new();
    let mut phase = 0.0f64;
    let mut hz = notes.iter().find_map(|n| n.hz).unwrap_or(220.0);
    let mut vibrato_phase = 0.0f64;
    let mut dark = 0.0f64;
    for note in notes {
        let length = (note.seconds * rate_f).round() as usize;
        let Some(target) = note.hz else {
            out.extend(std::iter::repeat_n(0.0, length));
            continue;
        };
        let formants = VOWELS[note.vowel % VOWELS.len()].map(|f| f * singer.formant_scale);
        let mut filter = FormantFilter::new(rate_f, formants);
        let attack = (0.04 * rate_f) as usize;
        let release = (0.06 * rate_f) as usize;
        for i in 0..length {
            let t = i as f64 / rate_f;
            // Glide towards the note, then vibrato (5.5 Hz, ±35 cents) fading in.
            hz += (target - hz) * (1.0 - (-1.0 / (0.02 * rate_f)).exp());
            let depth = 35.0 * ((t - 0.15) / 0.2).clamp(0.0, 1.0);
            vibrato_phase += 2.0 * PI * 5.5 / rate_f;
            let f0 = hz * 2f64.powf(depth * vibrato_phase.sin() / 1200.0);
            let dt = f0 / rate_f;
            phase += dt;
            phase -= phase.floor();
            let saw = 2.0 * phase - 1.0 - poly_blep(phase, dt);
            let envelope = (i as f64 / attack as f64).min(1.0) * ((length - i) as f64 / release as f64).min(1.0);
            dark += (1.0 - singer.darkness) * (-saw - dark);
            out.push((filter.process(dark) * envelope) as f32);
        }
    }
    normalize(&mut out, 0.5);
    out
}

/// The correction that band-limits the sawtooth's jump (PolyBLEP).
fn poly_blep(t: f64, dt: f64) -> f64 {
    if t < dt {
        let t = t / dt;
        t + t - t * t - 1.0
    } else if t > 1.0 - dt {
        let t = (t - 1.0) / dt;
        t * t + t + t + 1.0
    } else {
        0.0
    }
}

/// Three band-pass resonators in parallel, one per formant.
struct FormantFilter {
    bands: Vec<(Biquad, f64)>,
}

impl FormantFilter {
    fn new(rate: f64, formants: [f64; 3]) -> Self {
        let gains = [1.0, 0.6, 0.3];
        let widths = [80.0, 100.0, 140.0];
        let bands = (0..3)
            .filter(|&i| formants[i] < rate * 0.45)
            .map(|i| (Biquad::band_pass(rate, formants[i], formants[i] / widths[i]), gains[i]))
            .collect();
        FormantFilter { bands }
    }

    fn process(&mut self, x: f64) -> f64 {
        self.bands.iter_mut().map(|(band, gain)| band.process(x) * *gain).sum::<f64>() + 0.05 * x
    }
}

/// A second-order filter (RBJ cookbook).
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    x: [f64; 2],
    y: [f64; 2],
}

impl Biquad {
    fn band_pass(rate: f64, centre: f64, q: f64) -> Self {
        let w = 2.0 * PI * centre / rate;
        let alpha = w.sin() / (2.0 * q);
        let a0 = 1.0 + alpha;
        Biquad {
            b: [alpha / a0, 0.0, -alpha / a0],
            a: [-2.0 * w.cos() / a0, (1.0 - alpha) / a0],
            x: [0.0; 2],
            y: [0.0; 2],
        }
    }

    fn process(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.b[1] * self.x[0] + self.b[2] * self.x[1]
            - self.a[0] * self.y[0]
            - self.a[1] * self.y[1];
        self.x = [x, self.x[0]];
        self.y = [y, self.y[0]];
        y
    }
}

fn normalize(samples: &mut [f32], peak: f32) {
    let loudest = samples.iter().fold(0.0f32, |a, s| a.max(s.abs()));
    if loudest > 0.0 {
        samples.iter_mut().for_each(|s| *s *= peak / loudest);
    }
}

/// The training sample: a soprano (formants 20% above the default's, a bright source) singing
/// a melody around G4 (median 392 Hz) on every vowel, mono, 4 s.
pub fn voice_sample() -> Audio {
    let melody = [392.0, 440.0, 392.0, 329.63, 392.0, 493.88, 440.0, 392.0];
    let notes: Vec<Note> = melody.iter().enumerate().map(|(i, &hz)| Note::sung(hz, 0.5, i)).collect();
    Audio::mono(SAMPLE_RATE, sing_as(SAMPLE_RATE, &notes, Singer::SOPRANO))
}

/// The `default` model's voice: the default singer around A3 (220 Hz) on every vowel, 3 s at
/// 22.05 kHz; its timbre is the reference formant scales are measured against.
pub fn default_voice() -> Audio {
    let melody = [220.0, 246.94, 220.0, 196.0, 220.0, 261.63];
    let notes: Vec<Note> = melody.iter().enumerate().map(|(i, &hz)| Note::sung(hz, 0.5, i)).collect();
    Audio::mono(TEXT_RATE, sing_as(TEXT_RATE, &notes, Singer::DEFAULT))
}

/// The median pitch the voice sample is sung at.
pub const VOICE_SAMPLE_MEDIAN_HZ: f64 = 392.0;
/// The median pitch of the song sample's vocal.
pub const SONG_SAMPLE_MEDIAN_HZ: f64 = 164.81;

/// The conversion sample: a baritone melody (median E3, 165 Hz) in the centre, a plucked
/// arpeggio hard left and a soft organ chord hard right; stereo, 6 s.
pub fn song_sample() -> Audio {
    let rate = SAMPLE_RATE;
    let melody = [146.83, 164.81, 196.0, 164.81, 146.83, 130.81, 146.83, 164.81, 196.0, 220.0, 196.0, 164.81];
    let notes: Vec<Note> = melody.iter().enumerate().map(|(i, &hz)| Note::sung(hz, 0.5, i * 2)).collect();
    let vocal = sing_as(rate, &notes, Singer::BARITONE);
    let length = vocal.len();
    let left = pluck_arpeggio(rate, length, &[587.33, 739.99, 880.0, 739.99]);
    let right = organ_chord(rate, length, &[261.63, 329.63, 392.0]);
    let left_channel = vocal.iter().zip(&left).map(|(v, a)| 0.55 * v + 0.35 * a).collect();
    let right_channel = vocal.iter().zip(&right).map(|(v, a)| 0.55 * v + 0.35 * a).collect();
    Audio { rate, channels: vec![left_channel, right_channel] }
}

/// Karplus-Strong plucks, a quarter of a second apart, cycling through `notes`; peak 1.
fn pluck_arpeggio(rate: u32, length: usize, notes: &[f64]) -> Vec<f32> {
    let mut out = vec![0.0f32; length];
    let step = rate as usize / 4;
    let mut noise = Lcg(0x5eed);
    for (k, start) in (0..length).step_by(step).enumerate() {
        let period = (rate as f64 / notes[k % notes.len()]).round() as usize;
        let mut line: Vec<f32> = (0..period).map(|_| noise.next_signed()).collect();
        for (i, sample) in out[start..].iter_mut().take(rate as usize).enumerate() {
            let j = i % period;
            let next = line[(j + 1) % period];
            let value = line[j];
            line[j] = 0.996 * 0.5 * (value + next);
            *sample += value;
        }
    }
    normalize(&mut out, 1.0);
    out
}

/// A sustained chord of soft tones (three harmonics each); peak 1.
fn organ_chord(rate: u32, length: usize, notes: &[f64]) -> Vec<f32> {
    let mut out: Vec<f32> = (0..length)
        .map(|i| {
            let t = i as f64 / rate as f64;
            let tone: f64 = notes
                .iter()
                .map(|hz| (1..=3).map(|h| (2.0 * PI * hz * h as f64 * t).sin() / h as f64).sum::<f64>())
                .sum();
            let swell = 0.7 + 0.3 * (2.0 * PI * 0.5 * t).sin();
            (tone * swell) as f32
        })
        .collect();
    normalize(&mut out, 1.0);
    out
}

/// Sings a text: each letter or digit is a note of a pentatonic scale from G3 on the
/// vowel nearest the letter, a space is a short rest; at most [`MAX_TEXT_SECONDS`].
pub fn sing_text(text: &str) -> Audio {
    const SCALE: [f64; 10] = [0.0, 2.0, 4.0, 7.0, 9.0, 12.0, 14.0, 16.0, 19.0, 21.0];
    let mut notes = Vec::new();
    let mut total = 0.0;
    for c in text.chars().map(|c| c.to_ascii_lowercase()) {
        let note = match c {
            'a'..='z' | '0'..='9' => {
                let index = if c.is_ascii_digit() { c as usize - '0' as usize } else { c as usize - 'a' as usize };
                let vowel = match c {
                    'e' | 'y' => 1,
                    'i' | 'j' => 2,
                    'o' | 'w' => 3,
                    'u' | 'v' => 4,
                    _ => 0,
                };
                Note::sung(196.0 * 2f64.powf(SCALE[index % SCALE.len()] / 12.0), 0.3, vowel)
            }
            ' ' => Note::rest(0.15),
            _ => continue,
        };
        if total + note.seconds > MAX_TEXT_SECONDS {
            break;
        }
        total += note.seconds;
        notes.push(note);
    }
    if notes.iter().all(|n| n.hz.is_none()) {
        notes = vec![Note::sung(196.0, 1.0, 0)];
    }
    Audio::mono(TEXT_RATE, sing(TEXT_RATE, &notes))
}

/// A tiny deterministic noise source.
struct Lcg(u64);

impl Lcg {
    fn next_signed(&mut self) -> f32 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
    }
}
