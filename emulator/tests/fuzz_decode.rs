//! Fuzz target of the audio decoder that every job input goes through
//! (`audio::decode::decode`): random bytes and mutations of valid WAV (several sample
//! formats), MP3 and FLAC files must never panic, never take long, and never allocate
//! absurdly. Runs for `FUZZ_SECONDS` seconds (default 2) from seed `FUZZ_SEED` (default
//! fixed, so a run is reproducible) and prints `fuzz decode: <N> inputs, <M> findings`.
//!
//! Written with a small seeded generator rather than a fuzzing engine so that it runs
//! under plain `cargo test`, offline, everywhere the other tests run.

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Cursor;
use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use singing_cloning_emulator::audio::decode;

/// Counts the bytes allocated, so that a decode's peak can be measured.
struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            let live = LIVE.fetch_add(layout.size(), Ordering::Relaxed) + layout.size();
            PEAK.fetch_max(live, Ordering::Relaxed);
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, size: usize) -> *mut u8 {
        let moved = unsafe { System.realloc(pointer, layout, size) };
        if !moved.is_null() {
            if size >= layout.size() {
                let live = LIVE.fetch_add(size - layout.size(), Ordering::Relaxed) + size - layout.size();
                PEAK.fetch_max(live, Ordering::Relaxed);
            } else {
                LIVE.fetch_sub(layout.size() - size, Ordering::Relaxed);
            }
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The tests here measure allocations process-wide: one at a time.
static ALONE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// xorshift64*: small, seeded, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }
}

/// Values that break headers: zeros, ones, extremes, powers of two around common limits.
const INTERESTING: [u32; 14] = [0, 1, 2, 3, 4, 7, 8, 0x7f, 0x80, 0xff, 0xffff, 0x7fff_ffff, 0xffff_ffff, 0x1_0000];

fn wav(rate: u32, channels: u16, bits: u16, float: bool) -> Vec<u8> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: bits,
        sample_format: if float { hound::SampleFormat::Float } else { hound::SampleFormat::Int },
    };
    let mut cursor = Cursor::new(Vec::new());
    let mut writer = hound::WavWriter::new(&mut cursor, spec).unwrap();
    for i in 0..(rate / 10) * channels as u32 {
        let x = (i as f32 * 0.05).sin() * 0.5;
        match (float, bits) {
            (true, _) => writer.write_sample(x).unwrap(),
            (false, 8) => writer.write_sample((x * 127.0) as i8).unwrap(),
            (false, 16) => writer.write_sample((x * 32_767.0) as i16).unwrap(),
            (false, _) => writer.write_sample((x * ((1 << (bits - 1)) - 1) as f32) as i32).unwrap(),
        }
    }
    writer.finalize().unwrap();
    cursor.into_inner()
}

/// An ADPCM WAV by hand (hound writes none): IMA (`tag` 0x11) or Microsoft (`tag` 2),
/// mono, 8 kHz, 256-byte blocks, with pseudo-random nibbles.
fn adpcm_wav(tag: u16) -> Vec<u8> {
    let (align, header) = (256u16, if tag == 2 { 7 } else { 4 });
    let per_block: u16 = if tag == 2 { (align - 7) * 2 + 2 } else { (align - 4) * 2 + 1 };
    let mut extra: Vec<u8> = per_block.to_le_bytes().to_vec();
    if tag == 2 {
        extra.extend(7u16.to_le_bytes());
        for (a, b) in [(256i16, 0i16), (512, -256), (0, 0), (192, 64), (240, 0), (460, -208), (392, -232)] {
            extra.extend(a.to_le_bytes());
            extra.extend(b.to_le_bytes());
        }
    }
    let mut fmt = Vec::new();
    fmt.extend(tag.to_le_bytes());
    fmt.extend(1u16.to_le_bytes());
    fmt.extend(8_000u32.to_le_bytes());
    fmt.extend((8_000 * align as u32 / per_block as u32).to_le_bytes());
    fmt.extend(align.to_le_bytes());
    fmt.extend(4u16.to_le_bytes());
    fmt.extend((extra.len() as u16).to_le_bytes());
    fmt.extend(extra);
    let mut data = Vec::new();
    let mut x = 0x1234_5678u32;
    for _ in 0..8 {
        let mut block = vec![0u8; header];
        if tag == 2 {
            block[1] = 16; // the initial delta
        }
        for _ in header..align as usize {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            block.push((x >> 16) as u8);
        }
        data.extend(block);
    }
    let mut wav = b"RIFF".to_vec();
    wav.extend((4 + 8 + fmt.len() as u32 + 8 + data.len() as u32).to_le_bytes());
    wav.extend(b"WAVEfmt ");
    wav.extend((fmt.len() as u32).to_le_bytes());
    wav.extend(fmt);
    wav.extend(b"data");
    wav.extend((data.len() as u32).to_le_bytes());
    wav.extend(data);
    wav
}

/// The valid files mutations start from, with the extension a job would pass.
fn seeds() -> Vec<(Vec<u8>, Option<&'static str>)> {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    vec![
        (wav(8_000, 1, 16, false), Some("wav")),
        (wav(22_050, 2, 8, false), Some("wav")),
        (wav(16_000, 2, 24, false), None),
        (wav(11_025, 1, 32, true), Some("wav")),
        (adpcm_wav(0x11), Some("wav")),
        (std::fs::read(fixtures.join("tone300.mp3")).unwrap(), Some("mp3")),
        (std::fs::read(fixtures.join("tone300.flac")).unwrap(), Some("flac")),
    ]
}

/// One mutated input: a few mutations of a seed, biased towards the headers.
fn mutate(rng: &mut Rng, seeds: &[(Vec<u8>, Option<&'static str>)]) -> (Vec<u8>, Option<&'static str>) {
    let (seed, extension) = &seeds[rng.below(seeds.len())];
    if rng.chance(20) {
        // Random bytes behind a format's magic, or none.
        let magic: &[&[u8]] = &[b"RIFF\x24\x00\x00\x00WAVEfmt ", b"fLaC", b"ID3\x03\x00", b"\xff\xfb", b""];
        let mut bytes = magic[rng.below(magic.len())].to_vec();
        let length = rng.below(2_048);
        bytes.extend((0..length).map(|_| rng.next() as u8));
        return (bytes, *extension);
    }
    let mut bytes = seed.clone();
    for _ in 0..1 + rng.below(6) {
        if bytes.is_empty() {
            break;
        }
        // Headers and the first frames hold most of what a decoder trusts.
        let span = if rng.chance(3) { bytes.len() } else { bytes.len().min(128) };
        let at = rng.below(span);
        match rng.below(9) {
            0 => bytes[at] ^= 1 << rng.below(8),
            1 => bytes[at] = rng.next() as u8,
            2 | 3 => {
                let value = if rng.chance(2) { INTERESTING[rng.below(INTERESTING.len())] } else { rng.next() as u32 };
                let width = [1, 2, 4][rng.below(3)];
                for (i, byte) in value.to_le_bytes()[..width].iter().enumerate() {
                    if let Some(slot) = bytes.get_mut(at + i) {
                        *slot = *byte;
                    }
                }
            }
            4 => bytes.truncate(at),
            5 => {
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            6 => {
                let insert: Vec<u8> = (0..rng.below(64)).map(|_| rng.next() as u8).collect();
                bytes.splice(at..at, insert);
            }
            7 => {
                // A copy of a region somewhere else (repeated chunks and frames).
                let end = (at + rng.below(256)).min(bytes.len());
                let region = bytes[at..end].to_vec();
                let to = rng.below(bytes.len());
                bytes.splice(to..to, region);
            }
            _ => {
                // Another seed's head spliced in (a WAV header before MP3 frames, …).
                let (other, _) = &seeds[rng.below(seeds.len())];
                let take = rng.below(other.len().min(256));
                bytes.splice(at..at, other[..take].iter().copied());
            }
        }
    }
    (bytes, *extension)
}

/// What went wrong with one input.
fn check(bytes: Vec<u8>, extension: Option<&str>) -> Option<String> {
    let length = bytes.len();
    let before = LIVE.load(Ordering::Relaxed);
    PEAK.store(before, Ordering::Relaxed);
    let started = Instant::now();
    let result = std::panic::catch_unwind(AssertUnwindSafe(|| decode::decode(bytes, extension)));
    let took = started.elapsed();
    let peak = PEAK.load(Ordering::Relaxed).saturating_sub(before);
    // The decoded audio itself is at most 4 bytes a sample and, from a small file, small;
    // anything past 64 MB plus 64 bytes per input byte is an allocation the header asked for.
    let allowed = 64 * 1024 * 1024 + 64 * length;
    match result {
        Err(payload) => {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            Some(format!("panic: {message}"))
        }
        Ok(_) if peak > allowed => Some(format!("allocated {peak} bytes for a {length}-byte input")),
        Ok(_) if took > Duration::from_secs(5) => Some(format!("took {took:?}")),
        Ok(_) => None,
    }
}

/// The FLAC fixture with `patch` (offset, bytes) applied.
fn patched_flac(patch: &[(usize, &[u8])]) -> Vec<u8> {
    let mut flac =
        std::fs::read(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tone300.flac")).unwrap();
    for (offset, bytes) in patch {
        flac[*offset..*offset + bytes.len()].copy_from_slice(bytes);
    }
    flac
}

/// Findings of `fuzz_decode`: symphonia allocates what a FLAC or ID3v2 length field says
/// before reading (up to 4 GB; 1.7 GB from a 99-byte file), and a sample rate of 0 panics
/// in FLAC as in WAV. Each is refused before symphonia reads it, with no allocation to speak of.
#[test]
fn flac_and_id3_length_fields_are_checked_before_symphonia_allocates_by_them() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let fixture = patched_flac(&[]);
    assert_eq!(&fixture[..8], b"fLaC\x00\x00\x00\x22", "STREAMINFO first");
    // Where the fixture's VORBIS_COMMENT block (type 4) is: after STREAMINFO and SEEKTABLE.
    let comment = 4 + 4 + 34 + 4 + 0x12;
    assert_eq!(fixture[comment] & 0x7f, 4, "the fixture's third block is VORBIS_COMMENT");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("a vendor length of 2 GB", patched_flac(&[(comment + 4, &[0, 0, 0, 0x7f])])),
        ("a block length past the end", patched_flac(&[(comment + 1, &[0x7f, 0xff, 0xff])])),
        ("a sample rate of 0", patched_flac(&[(18, &[0, 0, 0])])),
        ("a largest block of 0", patched_flac(&[(10, &[0, 0])])),
        ("an APPLICATION block of 0 bytes", {
            let mut flac = b"fLaC".to_vec();
            flac.extend(&fixture[4..42]);
            flac.extend([0x82, 0, 0, 0]);
            flac
        }),
        ("an ID3v2 tag larger than the file", [b"ID3\x03\x00\x00\x7f\x7f\x7f\x7f".as_slice(), &fixture].concat()),
        ("an ID3v2 size that is not synchsafe", [b"ID3\x03\x00\x00\xff\xff\xff\xff".as_slice(), &fixture].concat()),
    ];
    for (what, bytes) in cases {
        assert_eq!(check(bytes.clone(), Some("flac")), None, "{what}");
        let message = decode::decode(bytes, Some("flac")).expect_err(what);
        assert!(message.starts_with("not a valid FLAC file") || message.contains("ID3v2"), "{what}: {message}");
    }
    // A FLAC behind a well-formed ID3v2 tag still decodes.
    let tagged = [b"ID3\x03\x00\x00\x00\x00\x00\x04".as_slice(), b"abcd", &fixture].concat();
    assert!(decode::decode(tagged, Some("flac")).is_ok());
}

/// Findings of this target: symphonia's Microsoft ADPCM decoder overflows (`i32`, a panic
/// in debug builds) on this valid-looking file, and its IMA ADPCM decoder reaches
/// `unreachable!()` on more than two channels; both are refused before decoding.
#[test]
fn adpcm_that_symphonia_cannot_decode_is_refused_without_a_panic() {
    let mut three_channels = adpcm_wav(0x11);
    three_channels[22] = 3;
    for (what, bytes, expected) in
        [("Microsoft", adpcm_wav(2), "Microsoft ADPCM"), ("IMA, 3 channels", three_channels, "3 channels")]
    {
        let result = std::panic::catch_unwind(|| decode::decode(bytes, Some("wav")));
        let message = result.unwrap_or_else(|_| panic!("{what}: a panic")).expect_err(what);
        assert!(message.contains(expected), "{what}: {message}");
    }
}

#[test]
fn fuzz_decode() {
    let _alone = ALONE.lock().unwrap_or_else(|p| p.into_inner());
    let seconds: f64 = std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(2.0);
    let seed: u64 = std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_dec0de);
    let seeds = seeds();
    for (bytes, extension) in &seeds {
        let decoded = decode::decode(bytes.clone(), *extension);
        assert!(decoded.is_ok(), "a seed does not decode: {decoded:?}");
    }
    let mut rng = Rng(seed | 1);
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    // Panics are expected to be caught here; keep their messages out of the output.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let (mut inputs, mut findings) = (0u64, Vec::new());
    while Instant::now() < deadline {
        let (bytes, extension) = mutate(&mut rng, &seeds);
        let kept = if findings.len() < 10 { Some(bytes.clone()) } else { None };
        inputs += 1;
        if let Some(finding) = check(bytes, extension) {
            findings.push((finding, kept, extension));
        }
    }
    std::panic::set_hook(hook);
    println!("fuzz decode: {inputs} inputs, {} findings", findings.len());
    for (finding, bytes, extension) in findings.iter().take(10) {
        let head: String = bytes.iter().flatten().take(96).map(|b| format!("{b:02x}")).collect();
        let length = bytes.as_ref().map_or(0, Vec::len);
        println!("  {finding} ({extension:?}, {length} bytes, starting {head})");
    }
    assert!(findings.is_empty(), "seed {seed}: {} findings", findings.len());
}
