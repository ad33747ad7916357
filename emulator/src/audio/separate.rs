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
    if audio.channels.len() < 2 || audio.is_empty() {
        return Audio::mono(audio.rate, audio.mixdown());
    }
    let (left, right) = (&audio.channels[0], &audio.channels[1]);
    let length = audio.len();
    let fft = Fft::new(FRAME);
    let window: Vec<f32> =
        (0..FRAME).map(|i| (0.5 - 0.5 * (2.0 * std::f64::consts::PI * i as f64 / FRAME as f64).cos()) as f32).collect();
    let mut output = vec![0.0f32; length + FRAME];
    // Every sample is covered by FRAME / HOP frames (they start a frame before the signal and
    // run past its end), so the window's overlap-add depends only on the sample's phase in a
    // hop: a table of HOP values instead of a second signal-length buffer.
    let norm: Vec<f32> =
        (0..HOP).map(|phase| (0..FRAME / HOP).map(|k| window[phase + k * HOP].powi(2)).sum()).collect();
    let mut l: Vec<Complex> = vec![(0.0, 0.0); FRAME];
    let mut r: Vec<Complex> = vec![(0.0, 0.0); FRAME];
    // Frames start one frame before the signal so that its edges are covered as well.
    let mut start = -(FRAME as isize);
    while start < length as isize {
        for i in 0..FRAME {
            let index = start + i as isize;
            let (a, b) = if index >= 0 && (index as usize) < length {
                (left[index as usize], right[index as usize])
            } else {
                (0.0, 0.0)
            };
            l[i] = (a * window[i], 0.0);
            r[i] = (b * window[i], 0.0);
        }
        fft.forward(&mut l);
        fft.forward(&mut r);
        for i in 0..FRAME {
            let (lr, li) = l[i];
            let (rr, ri) = r[i];
            let energy = lr * lr + li * li + rr * rr + ri * ri;
            let similarity = if energy > 1e-12 { (2.0 * (lr * rr + li * ri) / energy).max(0.0) } else { 0.0 };
            let mask = similarity.powi(SHARPNESS);
            l[i] = (0.5 * (lr + rr) * mask, 0.5 * (li + ri) * mask);
        }
        fft.inverse(&mut l);
        for i in 0..FRAME {
            let index = start + i as isize;
            if index >= 0 && (index as usize) < length {
                output[index as usize] += l[i].0 * window[i];
            }
        }
        start += HOP as isize;
    }
    output.truncate(length);
    for (i, value) in output.iter_mut().enumerate() {
        *value /= norm[i % HOP];
    }
    Audio::mono(audio.rate, output)
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
    }
}
