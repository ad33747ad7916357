//! Decoding of WAV, MP3 and FLAC (and what else symphonia's enabled formats read) to [`Audio`].
//!
//! Job inputs come from anyone who can reach the emulator, so nothing in a file is trusted:
//! WAV headers are checked field by field before symphonia sees them (symphonia 0.5 panics
//! on a sample rate of 0, and does unchecked `u16` arithmetic on ADPCM block sizes), and
//! what the decoder reports (rate, channels, length) is checked again, packet by packet,
//! against fixed bounds, so that a small file can neither crash a job nor make it allocate
//! without bound.

use std::io::Cursor;

use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{DecoderOptions, CODEC_TYPE_NULL};
use symphonia::core::errors::Error as SymphoniaError;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::MediaSourceStream;
use symphonia::default::formats::{FlacReader, MpaReader, WavReader};

use super::Audio;

/// The longest input decoded, in seconds; longer inputs are refused.
pub const MAX_SECONDS: f64 = 300.0;
/// The lowest sample rate accepted, Hz.
pub const MIN_RATE: u32 = 4_000;
/// The highest sample rate accepted, Hz.
pub const MAX_RATE: u32 = 192_000;
/// The most channels accepted.
pub const MAX_CHANNELS: usize = 8;
/// The most samples (all channels together) a decode may produce: 300 s of 48 kHz stereo,
/// 115 MB as `f32`. Bounds the memory of one input whatever its rate and channels claim.
pub const MAX_SAMPLES: usize = 300 * 48_000 * 2;
/// The largest `fmt ` chunk read; real ones are 16 to 40 bytes.
const MAX_FMT_CHUNK: u32 = 1024;
/// The largest ADPCM block: symphonia computes frames per block in `u16`, which larger
/// blocks overflow (a panic in debug builds, garbage in release ones).
const MAX_ADPCM_BLOCK: u16 = 8192;

/// Decodes a whole file. The container is told by its first bytes (after any ID3v2 tags),
/// not by the file's extension (still taken, and unused): symphonia's probe, which used it
/// as a hint, searches the first megabyte for any format's marker, and so would reach
/// headers this module never checked.
pub fn decode(mut bytes: Vec<u8>, _extension: Option<&str>) -> Result<Audio, String> {
    let start = skip_id3v2(&bytes)?;
    bytes.drain(..start);
    let kind = if bytes.starts_with(b"RIFF") && bytes.get(8..12) == Some(b"WAVE") {
        check_wav_header(&bytes).map_err(|e| format!("not a valid WAV file: {e}"))?;
        Container::Wav
    } else if bytes.starts_with(b"fLaC") {
        check_flac_metadata(&bytes).map_err(|e| format!("not a valid FLAC file: {e}"))?;
        Container::Flac
    } else {
        Container::Mpeg
    };
    let stream = MediaSourceStream::new(Box::new(Cursor::new(bytes)), Default::default());
    let options = FormatOptions::default();
    let opened: Result<Box<dyn FormatReader>, SymphoniaError> = match kind {
        Container::Wav => WavReader::try_new(stream, &options).map(|r| Box::new(r) as Box<dyn FormatReader>),
        Container::Flac => FlacReader::try_new(stream, &options).map(|r| Box::new(r) as Box<dyn FormatReader>),
        Container::Mpeg => MpaReader::try_new(stream, &options).map(|r| Box::new(r) as Box<dyn FormatReader>),
    };
    let mut format = opened.map_err(|e| format!("not a readable audio file (WAV, MP3 or FLAC): {e}"))?;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or("the file has no audio track")?;
    let track_id = track.id;
    if let Some(rate) = track.codec_params.sample_rate {
        check_rate(rate)?;
    }
    if let Some(channels) = track.codec_params.channels {
        check_channels(channels.count())?;
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(&track.codec_params, &DecoderOptions::default())
        .map_err(|e| format!("unsupported audio codec: {e}"))?;
    let mut rate = 0;
    let mut channels: Vec<Vec<f32>> = Vec::new();
    let mut total = 0usize;
    let mut buffer: Option<SampleBuffer<f32>> = None;
    loop {
        let packet = match format.next_packet() {
            Ok(packet) => packet,
            Err(SymphoniaError::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(SymphoniaError::ResetRequired) => break,
            Err(e) => return Err(format!("cannot read the audio: {e}")),
        };
        if packet.track_id() != track_id {
            continue;
        }
        let decoded = match decoder.decode(&packet) {
            Ok(decoded) => decoded,
            // A damaged packet is skipped, as players do.
            Err(SymphoniaError::DecodeError(_)) => continue,
            Err(e) => return Err(format!("cannot decode the audio: {e}")),
        };
        let spec = *decoded.spec();
        check_rate(spec.rate)?;
        if rate != 0 && spec.rate != rate {
            return Err("the sample rate changes within the file".into());
        }
        rate = spec.rate;
        let count = spec.channels.count();
        check_channels(count)?;
        if channels.is_empty() {
            channels = vec![Vec::new(); count];
        }
        if count != channels.len() {
            return Err("the number of channels changes within the file".into());
        }
        let frames = decoded.frames();
        total = total.saturating_add(frames.saturating_mul(count));
        if total > MAX_SAMPLES || (channels[0].len() + frames) as f64 / rate as f64 > MAX_SECONDS {
            return Err(format!("the audio is longer than {MAX_SECONDS} seconds (or too large)"));
        }
        let needed = decoded.capacity() as u64;
        if buffer.as_ref().is_none_or(|b| (b.capacity() as u64) < needed * count as u64) {
            buffer = Some(SampleBuffer::new(needed, spec));
        }
        let Some(buffer) = buffer.as_mut() else {
            continue;
        };
        buffer.copy_interleaved_ref(decoded);
        for (i, sample) in buffer.samples().iter().enumerate() {
            channels[i % count].push(*sample);
        }
    }
    if channels.is_empty() || channels[0].is_empty() || rate == 0 {
        return Err("the file holds no audio".into());
    }
    Ok(Audio { rate, channels })
}

fn check_rate(rate: u32) -> Result<(), String> {
    if (MIN_RATE..=MAX_RATE).contains(&rate) {
        Ok(())
    } else {
        Err(format!("the sample rate {rate} Hz is outside {MIN_RATE}..={MAX_RATE} Hz"))
    }
}

fn check_channels(count: usize) -> Result<(), String> {
    if (1..=MAX_CHANNELS).contains(&count) {
        Ok(())
    } else {
        Err(format!("{count} channels is outside 1..={MAX_CHANNELS}"))
    }
}

/// The containers read.
enum Container {
    Wav,
    Flac,
    /// MPEG audio (MP3), whose reader finds the first frame itself.
    Mpeg,
}

/// Where the file starts after the ID3v2 tags in front of it (MP3s have them, some FLACs
/// too). They are skipped, not read: symphonia's ID3v2 reader allocates what a frame's size
/// field says before it reads, up to 4 GB.
fn skip_id3v2(bytes: &[u8]) -> Result<usize, String> {
    let mut at = 0usize;
    while bytes.get(at..at + 3) == Some(b"ID3") {
        let header = bytes.get(at..at + 10).ok_or("the file ends inside an ID3v2 header")?;
        if header[6..10].iter().any(|b| b & 0x80 != 0) {
            return Err("an ID3v2 tag's size is not synchsafe".into());
        }
        let size = header[6..10].iter().fold(0usize, |size, b| (size << 7) | *b as usize);
        let footer = if header[5] & 0x10 != 0 { 10 } else { 0 };
        at += 10 + size + footer;
        if at > bytes.len() {
            return Err("an ID3v2 tag is larger than the file".into());
        }
    }
    Ok(at)
}

/// Checks the metadata blocks of a FLAC file (`flac` starts with `fLaC`): every length
/// symphonia allocates by before reading (a block's, a Vorbis comment's, a picture's
/// fields) must fit in what holds it, and STREAMINFO's fields must be sane.
fn check_flac_metadata(flac: &[u8]) -> Result<(), String> {
    let mut at = 4usize;
    let mut first = true;
    loop {
        let header = flac.get(at..at + 4).ok_or("the file ends inside its metadata")?;
        let (last, kind) = (header[0] & 0x80 != 0, header[0] & 0x7f);
        let length = (header[1] as usize) << 16 | (header[2] as usize) << 8 | header[3] as usize;
        let block = flac.get(at + 4..at + 4 + length).ok_or("a metadata block is larger than the file")?;
        if first && kind != 0 {
            return Err("the first metadata block is not STREAMINFO".into());
        }
        match kind {
            0 => check_stream_info(block)?,
            // APPLICATION: an id of 4 bytes, then data (symphonia subtracts 4 unchecked).
            2 if length < 4 => return Err("an APPLICATION block is shorter than its id".into()),
            4 => check_vorbis_comment(block)?,
            6 => check_picture(block)?,
            127 => return Err("a metadata block has the invalid type 127".into()),
            _ => {}
        }
        first = false;
        at += 4 + length;
        if last {
            return Ok(());
        }
    }
}

fn check_stream_info(block: &[u8]) -> Result<(), String> {
    if block.len() != 34 {
        return Err(format!("STREAMINFO has {} bytes, not 34", block.len()));
    }
    let max_block = u16::from_be_bytes([block[2], block[3]]);
    let rate = (block[10] as u32) << 12 | (block[11] as u32) << 4 | (block[12] as u32) >> 4;
    let channels = ((block[12] >> 1) & 0x07) as usize + 1;
    let bits = (((block[12] & 0x01) << 4) | (block[13] >> 4)) + 1;
    if max_block < 16 {
        return Err(format!("the largest block of {max_block} samples is under 16"));
    }
    if bits < 4 {
        return Err(format!("{bits} bits per sample is under 4"));
    }
    check_rate(rate)?;
    check_channels(channels)
}

/// A `u32` length at `at` (advanced past it) that must fit, with what it counts, in `block`.
fn take_length(block: &[u8], at: &mut usize, little_endian: bool) -> Result<usize, String> {
    let bytes = block.get(*at..*at + 4).ok_or("a metadata field is cut off")?;
    let bytes = [bytes[0], bytes[1], bytes[2], bytes[3]];
    let length = if little_endian { u32::from_le_bytes(bytes) } else { u32::from_be_bytes(bytes) } as usize;
    *at += 4;
    if length > block.len() - *at {
        return Err(format!("a metadata field's length {length} exceeds its block"));
    }
    Ok(length)
}

fn check_vorbis_comment(block: &[u8]) -> Result<(), String> {
    let mut at = 0;
    let vendor = take_length(block, &mut at, true)?;
    at += vendor;
    let count = block.get(at..at + 4).ok_or("a Vorbis comment is cut off")?;
    let count = u32::from_le_bytes([count[0], count[1], count[2], count[3]]) as usize;
    at += 4;
    // Each comment takes at least its 4-byte length.
    if count > (block.len() - at) / 4 {
        return Err(format!("{count} Vorbis comments cannot fit in their block"));
    }
    for _ in 0..count {
        let length = take_length(block, &mut at, true)?;
        at += length;
    }
    Ok(())
}

fn check_picture(block: &[u8]) -> Result<(), String> {
    let mut at = 4; // the picture type
    let mime = take_length(block, &mut at, false)?;
    at += mime;
    let description = take_length(block, &mut at, false)?;
    at += description + 16; // width, height, depth, colours
    if at > block.len() {
        return Err("a PICTURE block is cut off".into());
    }
    take_length(block, &mut at, false).map(|_| ())
}

fn u16_at(bytes: &[u8], at: usize) -> u16 {
    u16::from_le_bytes([bytes[at], bytes[at + 1]])
}

fn u32_at(bytes: &[u8], at: usize) -> u32 {
    u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]])
}

/// Checks the header of one WAV file (`wav` starts with `RIFF`): the chunk sizes, and every
/// field of the `fmt ` chunk, which must come before `data`.
fn check_wav_header(wav: &[u8]) -> Result<(), String> {
    if u32_at(wav, 4) < 4 {
        return Err("the RIFF size is too small".into());
    }
    let mut at = 12usize;
    let mut format_seen = false;
    loop {
        let Some(header) = wav.get(at..at + 8) else {
            return Err("the file ends before its data chunk".into());
        };
        let size = u32_at(header, 4);
        let body = at + 8;
        let left = wav.len() - body;
        match &header[..4] {
            b"data" => {
                if !format_seen {
                    return Err("the data chunk comes before the fmt chunk".into());
                }
                if size == 0 {
                    return Err("the data chunk is empty".into());
                }
                // A data chunk may claim more than the file holds (a file cut short, or
                // written as a stream): the decoder stops at the end of the bytes.
                return Ok(());
            }
            b"fmt " => {
                if !(16..=MAX_FMT_CHUNK).contains(&size) || size as usize > left {
                    return Err(format!("the fmt chunk size {size} is not 16..={MAX_FMT_CHUNK} within the file"));
                }
                if format_seen {
                    return Err("the file has two fmt chunks".into());
                }
                check_format(&wav[body..body + size as usize])?;
                format_seen = true;
            }
            _ => {
                if size as usize > left {
                    return Err(format!("a chunk's size {size} exceeds the file"));
                }
            }
        }
        // Chunks are padded to an even size.
        at = body + size as usize + (size as usize & 1);
    }
}

/// Checks the fields of a `fmt ` chunk (at least 16 bytes).
fn check_format(fmt: &[u8]) -> Result<(), String> {
    let tag = u16_at(fmt, 0);
    let channels = u16_at(fmt, 2);
    let rate = u32_at(fmt, 4);
    let byte_rate = u32_at(fmt, 8);
    let block_align = u16_at(fmt, 12);
    let bits = u16_at(fmt, 14);
    check_channels(channels as usize)?;
    check_rate(rate)?;
    if byte_rate == 0 {
        return Err("the byte rate is 0".into());
    }
    if block_align == 0 {
        return Err("the block align is 0".into());
    }
    let frame = |bits_allowed: &[u16]| -> Result<(), String> {
        if !bits_allowed.contains(&bits) {
            return Err(format!("{bits} bits per sample is not one of {bits_allowed:?} for format {tag:#06x}"));
        }
        if block_align as u32 != channels as u32 * (bits as u32 / 8) {
            return Err(format!("the block align {block_align} is not {channels} channels × {bits} bits"));
        }
        Ok(())
    };
    match tag {
        // PCM.
        0x0001 => frame(&[8, 16, 24, 32]),
        // WAVE_FORMAT_EXTENSIBLE: these are the container bits, integer or float.
        0xfffe => frame(&[8, 16, 24, 32, 64]),
        // IEEE float.
        0x0003 => frame(&[32, 64]),
        // A-law, mu-law.
        0x0006 | 0x0007 => frame(&[8]),
        // Microsoft ADPCM: symphonia's decoder lets its step size grow without bound, an
        // `i32` overflow (a panic in debug builds) on a few hundred random nibbles.
        0x0002 => Err("Microsoft ADPCM WAV files are not supported".into()),
        // IMA ADPCM: 4 header bytes per channel. symphonia decodes mono and stereo only
        // (`unreachable!()` for more).
        0x0011 => {
            if channels > 2 {
                return Err(format!("IMA ADPCM with {channels} channels is not supported"));
            }
            let header = 4 * channels as u32;
            if bits != 4 {
                return Err(format!("{bits} bits per sample is not 4 for ADPCM"));
            }
            if (block_align as u32) <= header || block_align > MAX_ADPCM_BLOCK {
                return Err(format!("the ADPCM block align {block_align} is not {}..={MAX_ADPCM_BLOCK}", header + 1));
            }
            Ok(())
        }
        other => Err(format!("the WAV format {other:#06x} is not supported")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audio::wav;

    #[test]
    fn reads_what_the_wav_writer_writes() {
        let audio = Audio { rate: 8_000, channels: vec![vec![0.0, 0.5, -0.5, 0.25], vec![0.1, 0.2, 0.3, 0.4]] };
        let bytes = wav::encode(&audio).unwrap();
        let decoded = decode(bytes, Some("wav")).unwrap();
        assert_eq!(decoded.rate, 8_000);
        assert_eq!(decoded.channels.len(), 2);
        for (a, b) in decoded.channels.iter().flatten().zip(audio.channels.iter().flatten()) {
            assert!((a - b).abs() < 1e-3);
        }
    }

    #[test]
    fn refuses_what_is_not_audio() {
        assert!(decode(b"<html>nope</html>".to_vec(), None).is_err());
        assert!(decode(Vec::new(), Some("mp3")).is_err());
    }
}
