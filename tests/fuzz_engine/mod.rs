//! A small seeded fuzzing loop for the `fuzz*.rs` targets: mutations of valid examples
//! (tests/fixtures) and random bytes, for `FUZZ_SECONDS` seconds (default 2) from seed
//! `FUZZ_SEED` (default fixed, so that a run can be repeated). Written here rather than
//! taken from cargo-fuzz, which needs a nightly toolchain; it runs under plain `cargo test`.
//!
//! A target returns `Ok(keep)` (keep: the input is worth mutating further) or `Err(why)`
//! for a broken invariant; a panic is a finding too. The run prints one line,
//! `fuzz <name>: <N> inputs, <M> findings`, and fails with the first findings' inputs.

#![allow(dead_code)]

use std::panic::{self, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// xorshift64*: small, seeded, good enough to pick mutations.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, one_in: usize) -> bool {
        self.below(one_in) == 0
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

pub fn seconds() -> f64 {
    std::env::var("FUZZ_SECONDS").ok().and_then(|s| s.parse().ok()).filter(|s: &f64| *s >= 0.0).unwrap_or(2.0)
}

pub fn seed() -> u64 {
    std::env::var("FUZZ_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(0x5eed_2026_1111).max(1)
}

/// Every JSON file of tests/fixtures, with the reference's placeholders filled in.
pub fn fixtures() -> Vec<Vec<u8>> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("tests/fixtures")
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .map(|p| (p.display().to_string(), std::fs::read_to_string(&p).expect("a fixture")))
        .map(|(name, text)| (name, fill(&text).into_bytes()))
        .collect();
    out.sort();
    out.into_iter().map(|(_, bytes)| bytes).collect()
}

/// The reference's placeholders filled with values that satisfy its rules.
pub fn fill(text: &str) -> String {
    text.replace("{url}", "https://media.example.com/voice.mp3")
        .replace("{callback}", "https://hooks.example.com/singing")
        .replace("{customId}", "lesson_42")
        .replace("{secretId}", "AKIDexample")
        .replace("{secretKey}", "example-key")
        .replace("{contentId}", "repo-1")
        .replace("{outputPrefix}", "cover_")
        .replace("{destination}", "/output")
        .replace("{id}", "13f342e4-6866-450e-b44e-3151431c578b")
}

/// Bytes that matter to JSON and to the proxy's inputs.
pub const JSON_TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b",",
    b":",
    b"\\",
    b"\\u",
    b"\\ud800",
    b"\\udc00",
    b"\\ud83c\\udfb5",
    b"\\u0000",
    b"null",
    b"true",
    b"false",
    b"-0",
    b"1e999",
    b"-1e-999",
    b"1.7976931348623157e308",
    b"9007199254740993",
    b"0.30000000000000004",
    b"00",
    b"1.",
    b".5",
    b"1e",
    b"\x00",
    b"\xff",
    b"\xc3\xa9",
    b"\xf0\x9f",
    b" ",
    b"\t\n",
    b"{\"a\":1,\"a\":2}",
    b"[[[[[[[[[[[[[[[[",
    b"]]]]]]]]]]]]]]]]",
    b"\"secretId\"",
    b"\"action\"",
    b"\"CreateJob\"",
    b"\"GetJob\"",
    b"\"ListJobs\"",
    b"\"ListModels\"",
    b"\"state\"",
    b"\"customId\"",
    b"\"callback\"",
    b"4294967296",
    b"-1",
    b"2",
    b"51",
    b"\"u\"",
    b"http://127.0.0.1/",
    b"https://[::1]/",
    b"\"modelName\"",
];

/// One mutation (or a few) of `input`.
pub fn mutate(rng: &mut Rng, input: &[u8], corpus: &[Vec<u8>], tokens: &[&[u8]]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(8) {
            0 if !out.is_empty() => {
                let i = rng.below(out.len());
                out[i] ^= 1 << rng.below(8);
            }
            1 if !out.is_empty() => {
                let end = (at + 1 + rng.below(16)).min(out.len());
                out.drain(at.min(end)..end);
            }
            2 => {
                let byte = rng.next() as u8;
                out.insert(at, byte);
            }
            3 if !out.is_empty() => {
                let start = rng.below(out.len());
                let end = (start + 1 + rng.below(64)).min(out.len());
                let copy = out[start..end].to_vec();
                out.splice(at..at, copy);
            }
            4 if !corpus.is_empty() => {
                let other = rng.pick(corpus);
                let start = rng.below(other.len() + 1);
                let end = (start + rng.below(128)).min(other.len());
                out.splice(at..at, other[start..end].iter().copied());
            }
            _ => {
                let token = rng.pick(tokens);
                out.splice(at..at, token.iter().copied());
            }
        }
    }
    out
}

/// Runs `target` on mutated and random inputs for [`seconds`]; fails on a finding.
pub fn run(name: &str, mut corpus: Vec<Vec<u8>>, tokens: &[&[u8]], target: impl Fn(&[u8]) -> Result<bool, String>) {
    let mut rng = Rng(seed());
    let budget = Duration::from_secs_f64(seconds());
    let started = Instant::now();
    let seeds = corpus.len();
    let (mut inputs, mut findings) = (0u64, 0u64);
    let mut examples: Vec<String> = Vec::new();
    let hook = panic::take_hook();
    panic::set_hook(Box::new(|_| {}));
    // The seeds themselves first, then mutations; a check of the clock every 64 inputs.
    while inputs < seeds as u64 || inputs % 64 != 0 || started.elapsed() < budget {
        let input = if (inputs as usize) < seeds {
            corpus[inputs as usize].clone()
        } else if rng.chance(16) {
            (0..rng.below(256)).map(|_| rng.next() as u8).collect()
        } else {
            let base = rng.pick(&corpus).clone();
            mutate(&mut rng, &base, &corpus, tokens)
        };
        inputs += 1;
        let outcome = panic::catch_unwind(AssertUnwindSafe(|| target(&input)));
        let why = match outcome {
            Ok(Ok(keep)) => {
                if keep && corpus.len() < 4096 && input.len() < 16 * 1024 {
                    corpus.push(input);
                }
                continue;
            }
            Ok(Err(why)) => why,
            Err(payload) => {
                let message = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned());
                format!("panic: {}", message.unwrap_or_default())
            }
        };
        findings += 1;
        if examples.len() < 5 {
            examples.push(format!("{why}\n    input: {:?}", String::from_utf8_lossy(&input)));
        }
    }
    panic::set_hook(hook);
    println!("fuzz {name}: {inputs} inputs, {findings} findings");
    assert!(
        findings == 0,
        "fuzz {name}: {findings} findings (seed {}), first ones:\n  {}",
        seed(),
        examples.join("\n  ")
    );
}
