//! Measures the voice engine for `bench/voice.mjs`; prints one JSON object.
//!
//! - `voice_bench generate SECONDS`: a song of SECONDS (the stereo sample song, repeated) sung
//!   by a model trained on the sample voice, with vocal separation (the whole cover): wall and
//!   CPU time of the generation, real-time factor, and the process's peak resident memory.
//! - `voice_bench separation SEED`: vocal extraction on synthetic mixes (a sung vocal and a
//!   bass in the centre, a plucked arpeggio and an organ panned to the sides): the
//!   scale-invariant SDR of the extracted vocal against the true one, per mix and in the mean.
//!
//! The generation hands its input over (`cloning::convert_owned`, as a job can), so the peak is
//! what a job needs. The baseline figures in `bench/voice.mjs` were measured with this file on
//! the engine of commit 4650749, which had no `convert_owned` (its `convert` borrowed the input
//! and did not copy it): there `convert_owned(song, …)` read `convert(&song, …)`.

use std::f64::consts::PI;
use std::time::Instant;

use singing_cloning_emulator::audio::synth::{self, Note};
use singing_cloning_emulator::audio::{cloning, separate, Audio};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("generate") => generate(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(30.0)),
        Some("separation") => separation(args.get(2).and_then(|s| s.parse().ok()).unwrap_or(1)),
        _ => {
            eprintln!("usage: voice_bench generate SECONDS | separation SEED");
            std::process::exit(2);
        }
    }
}

/// A field of /proc/self/status in kB (VmHWM: peak resident memory).
fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(field)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0)
}

/// CPU seconds used by this process (user + system).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (ticks(11) + ticks(12)) / 100.0
}

fn generate(seconds: f64) {
    let profile = cloning::learn(&synth::voice_sample(), 30, false).expect("a profile");
    let sample = synth::song_sample();
    let length = (seconds * sample.rate as f64) as usize;
    let channels = sample.channels.iter().map(|c| c.iter().copied().cycle().take(length).collect()).collect();
    let song = Audio { rate: sample.rate, channels };
    drop(sample);
    let before_kb = status_kb("VmRSS:");
    let (wall, cpu) = (Instant::now(), cpu_seconds());
    let (length, input_mb) = (song.len(), (song.len() * song.channels.len() * 4) as f64 / 1024.0 / 1024.0);
    let result = cloning::convert_owned(song, &profile, true).expect("a conversion");
    let wall = wall.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    assert_eq!(result.audio.len(), length);
    println!(
        "{{\"seconds\": {seconds}, \"wallSeconds\": {wall:.3}, \"cpuSeconds\": {cpu:.3}, \"rtf\": {:.4}, \
         \"cpuRtf\": {:.4}, \"peakMB\": {:.1}, \"inputMB\": {:.1}, \"rssBeforeMB\": {:.1}, \"channels\": {}}}",
        wall / seconds,
        cpu / seconds,
        status_kb("VmHWM:") as f64 / 1024.0,
        input_mb,
        before_kb as f64 / 1024.0,
        result.audio.channels.len(),
    );
}

/// A small deterministic random source.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn separation(seed: u64) {
    let rate = 44_100u32;
    let mut random = Lcg(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let mut scores = Vec::new();
    for _ in 0..4 {
        let centre = 140.0 + 200.0 * random.next();
        let notes: Vec<Note> = (0..14)
            .map(|i| Note::sung(centre * 2f64.powf(((random.next() * 10.0) as i32 - 5) as f64 / 12.0), 0.4, i))
            .collect();
        let vocal: Vec<f32> = synth::sing(rate, &notes).iter().map(|s| s * 0.5).collect();
        let n = vocal.len();
        let t = |i: usize| i as f64 / rate as f64;
        // A centred bass: a root a fifth or an octave under the vocal, with two harmonics.
        let bass_hz = 41.2 + 40.0 * random.next();
        let bass: Vec<f32> = (0..n)
            .map(|i| {
                let hz = bass_hz * if (t(i) as usize).is_multiple_of(2) { 1.0 } else { 1.5 };
                (0.2 * ((2.0 * PI * hz * t(i)).sin() + 0.4 * (4.0 * PI * hz * t(i)).sin())) as f32
            })
            .collect();
        // Panned instruments: an arpeggio of decaying tones mostly left, an organ mostly right.
        let pan_left = (0.75 + 0.25 * random.next()) as f32;
        let pan_right = (0.75 + 0.25 * random.next()) as f32;
        let arp_root = 300.0 + 300.0 * random.next();
        let arpeggio: Vec<f32> = (0..n)
            .map(|i| {
                let step = (t(i) * 4.0) as usize;
                let hz = arp_root * [1.0, 1.25, 1.5, 2.0][step % 4];
                let age = t(i) - step as f64 / 4.0;
                (0.25 * (2.0 * PI * hz * t(i)).sin() * (-age * 8.0).exp()) as f32
            })
            .collect();
        let organ_root = 200.0 + 150.0 * random.next();
        let organ: Vec<f32> = (0..n)
            .map(|i| {
                let tone: f64 = [1.0, 1.26, 1.5]
                    .iter()
                    .map(|r| {
                        (1..=3).map(|h| (2.0 * PI * organ_root * r * h as f64 * t(i)).sin() / h as f64).sum::<f64>()
                    })
                    .sum();
                (0.06 * tone) as f32
            })
            .collect();
        let left: Vec<f32> =
            (0..n).map(|i| vocal[i] + bass[i] + pan_left * arpeggio[i] + (1.0 - pan_right) * organ[i]).collect();
        let right: Vec<f32> =
            (0..n).map(|i| vocal[i] + bass[i] + (1.0 - pan_left) * arpeggio[i] + pan_right * organ[i]).collect();
        let mix = Audio { rate, channels: vec![left, right] };
        let extracted = separate::extract_vocal(&mix);
        scores.push(si_sdr(&vocal, &extracted.channels[0]));
    }
    let mean = scores.iter().sum::<f64>() / scores.len() as f64;
    let list: Vec<String> = scores.iter().map(|s| format!("{s:.2}")).collect();
    println!("{{\"seed\": {seed}, \"sdrDb\": [{}], \"meanSdrDb\": {mean:.2}}}", list.join(", "));
}

/// Scale-invariant signal-to-distortion ratio of `estimate` against `reference`, dB.
fn si_sdr(reference: &[f32], estimate: &[f32]) -> f64 {
    let n = reference.len().min(estimate.len());
    let dot: f64 = (0..n).map(|i| reference[i] as f64 * estimate[i] as f64).sum();
    let energy: f64 = (0..n).map(|i| (reference[i] as f64).powi(2)).sum();
    let scale = dot / energy.max(1e-12);
    let (mut target, mut noise) = (0.0, 0.0);
    for i in 0..n {
        let s = scale * reference[i] as f64;
        target += s * s;
        noise += (estimate[i] as f64 - s).powi(2);
    }
    10.0 * (target / noise.max(1e-12)).log10()
}
