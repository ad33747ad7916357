//! Fuzz targets of the SDK's entry points for outside bytes: the JSON parser, `validate`
//! (and `check_request`) and `parseResponse`. Each runs `FUZZ_SECONDS` seconds of seeded
//! mutations of the reference's examples and random bytes (tests/fuzz_engine) and prints
//! `fuzz <name>: <N> inputs, <M> findings`; `scripts/fuzz.sh` runs them in release mode.
#![cfg(not(target_arch = "wasm32"))]

mod fuzz_engine;

use singing_cloning::model::value::{to_value, SyntaxError};
use singing_cloning::*;

/// The parser: never a panic; what it writes parses to the same tree and the same text;
/// serde_json (independent) reads what it writes, and whatever serde_json accepts, it accepts.
#[test]
fn fuzz_json() {
    fuzz_engine::run("json", fuzz_engine::fixtures(), fuzz_engine::JSON_TOKENS, |bytes| {
        let Ok(text) = std::str::from_utf8(bytes) else { return Ok(false) };
        let theirs = serde_json::from_str::<serde_json::Value>(text);
        let value = match Value::parse(text) {
            Ok(value) => value,
            Err(SyntaxError::TooDeep) => return Ok(false),
            Err(error) if theirs.is_ok() => return Err(format!("serde_json reads it, we do not: {error:?}")),
            Err(_) => return Ok(false),
        };
        let written = value.to_json();
        let again = Value::parse(&written).map_err(|e| format!("our own output does not parse ({e:?}): {written}"))?;
        if again.to_json() != written {
            return Err(format!("write, parse, write changed the text: {written}"));
        }
        if again != value {
            return Err(format!("the tree changed through its text: {written}"));
        }
        match serde_json::from_str::<serde_json::Value>(&written) {
            Ok(_) => {}
            // 1e999 is JSON (JSON.parse reads Infinity); serde_json refuses it by design.
            Err(e) if e.to_string().contains("number out of range") => {}
            Err(e) => return Err(format!("serde_json refuses our output ({e}): {written}")),
        }
        Ok(true)
    });
}

/// Validation: never a panic; `check_request` accepts exactly what `validate` finds no
/// issue in; an accepted request, rebuilt from its typed form, is accepted again.
#[test]
fn fuzz_validate() {
    fuzz_engine::run("validate", fuzz_engine::fixtures(), fuzz_engine::JSON_TOKENS, |bytes| {
        let Some(body) = std::str::from_utf8(bytes).ok().and_then(|t| Value::parse(t).ok()) else { return Ok(false) };
        let issues = validate_body(&body);
        if issues.iter().any(|i| i.message.is_empty()) {
            return Err("an issue without a message".into());
        }
        match check_request(&body) {
            Ok(envelope) => {
                if !issues.is_empty() {
                    return Err(format!("check_request accepts a body with issues: {issues:?}"));
                }
                let rebuilt = to_value(&envelope);
                check_request(&rebuilt)
                    .map_err(|i| format!("the rebuilt request is refused: {i:?}: {}", rebuilt.to_json()))?;
            }
            Err(refused) if issues.is_empty() => {
                return Err(format!("check_request refuses a body without issues: {refused:?}"))
            }
            Err(_) => {}
        }
        Ok(true)
    });
}

/// `parseResponse`: never a panic, for every action and status; an accepted answer reads
/// as the typed model too, and its tree (with `status` added) writes valid JSON.
#[test]
fn fuzz_parse_response() {
    const STATUSES: [u16; 9] = [200, 201, 204, 400, 401, 404, 429, 500, 503];
    let actions = [Action::CreateJob, Action::GetJob, Action::ListJobs, Action::ListModels];
    fuzz_engine::run("parse_response", fuzz_engine::fixtures(), fuzz_engine::JSON_TOKENS, |bytes| {
        let text = String::from_utf8_lossy(bytes);
        let status = STATUSES[bytes.len() % STATUSES.len()];
        let mut keep = false;
        for action in actions {
            for status in [200, status] {
                match parse_response(action, status, &text) {
                    Ok(parsed) => {
                        keep = true;
                        parsed.response().map_err(|e| {
                            format!("{action:?}: the check accepts what the typed model refuses: {e:?}")
                        })?;
                        let written = parsed.raw_with_status().to_json();
                        Value::parse(&written)
                            .map_err(|e| format!("{action:?}: the tree writes bad JSON ({e:?}): {written}"))?;
                    }
                    Err(error) => {
                        let _ = (error.to_string(), format!("{error:?}"));
                    }
                }
            }
        }
        Ok(keep)
    });
}
