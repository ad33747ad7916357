//! Hardening of the emulator against inputs and clients that mean harm (issue #11):
//! a WAV that crashed the decoder, a job that crashed the process on every restart,
//! oversized API bodies, downloads outside the job limit, admin routes readable by any web
//! page, and symbolic links out of the content store.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::routing::get;
use axum::Router;
use common::signal::{sung_line, wav_bytes};
use common::{envelope, start, start_with, text_job, Harness};
use serde_json::{json, Value};
use singing_cloning_emulator::audio::decode;
use singing_cloning_emulator::Config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const WAIT: Duration = Duration::from_secs(30);

/// A valid 16-bit mono WAV (hound's 44-byte header: `fmt ` at 12, 16 bytes; `data` at 36).
fn valid_wav() -> Vec<u8> {
    wav_bytes(8_000, &[sung_line(8_000, &[(220.0, 0.4)])])
}

/// `valid_wav()` with the little-endian `value` of `width` bytes written at `offset`.
fn patched(offset: usize, width: usize, value: u32) -> Vec<u8> {
    let mut bytes = valid_wav();
    bytes[offset..offset + width].copy_from_slice(&value.to_le_bytes()[..width]);
    bytes
}

/// A generation of the file at `/<path>` in repository `uploads`.
fn source_job(path: &str) -> Value {
    json!({
        "inputs": [{"source": {"contentId": "uploads", "path": path}}],
        "outputs": [{
            "contentId": "out",
            "inputSelectors": [0],
            "smartContentDescriptor": {"singingCloning": {"type": 1, "modelName": "default"}}
        }]
    })
}

/// The `errorMessage` of a job, as `/admin/jobs` shows it.
async fn error_message(h: &Harness, id: &str) -> String {
    let admin = h.admin_jobs().await;
    let job = admin["jobs"].as_array().unwrap().iter().find(|j| j["id"] == id).unwrap().clone();
    job["errorMessage"].as_str().unwrap_or_default().to_string()
}

#[test]
fn every_zero_or_absurd_wav_header_field_is_refused_before_decoding() {
    assert!(decode::decode(valid_wav(), Some("wav")).is_ok(), "the unpatched file decodes");
    let cases: &[(&str, usize, usize, u32)] = &[
        // (what, offset, width, value): the fmt chunk's fields, then the chunk sizes.
        ("sample rate 0", 24, 4, 0),
        ("sample rate 4294967295", 24, 4, u32::MAX),
        ("sample rate 1", 24, 4, 1),
        ("sample rate 10000000", 24, 4, 10_000_000),
        ("0 channels", 22, 2, 0),
        ("65535 channels", 22, 2, 65_535),
        ("0 bits", 34, 2, 0),
        ("13 bits", 34, 2, 13),
        ("block align 0", 32, 2, 0),
        ("block align 65535", 32, 2, 65_535),
        ("byte rate 0", 28, 4, 0),
        ("fmt chunk size 4294967295", 16, 4, u32::MAX),
        ("fmt chunk size 8", 16, 4, 8),
        ("RIFF size 0", 4, 4, 0),
        ("data size 0", 40, 4, 0),
        ("format tag 0x0002 (ADPCM) with 16 bits", 20, 2, 2),
    ];
    for &(what, offset, width, value) in cases {
        let result = std::panic::catch_unwind(|| decode::decode(patched(offset, width, value), Some("wav")));
        match result {
            Ok(Err(message)) => assert!(message.contains("WAV"), "{what}: {message}"),
            Ok(Ok(audio)) => panic!("{what}: decoded as {} Hz, {} channels", audio.rate, audio.channels.len()),
            Err(_) => panic!("{what}: the decoder panicked"),
        }
    }
    // An IMA ADPCM header whose block align would overflow symphonia's u16 arithmetic.
    let mut adpcm = valid_wav();
    adpcm[20..22].copy_from_slice(&0x11u16.to_le_bytes());
    adpcm[32..34].copy_from_slice(&60_000u16.to_le_bytes());
    adpcm[34..36].copy_from_slice(&4u16.to_le_bytes());
    assert!(decode::decode(adpcm, None).unwrap_err().contains("ADPCM"));
    // A bad header after some junk, where symphonia's probe would look for it too: refused
    // without a panic (the container is told by the first bytes).
    let mut hidden = b"junk before the file ".to_vec();
    hidden.extend(patched(24, 4, 0));
    assert!(std::panic::catch_unwind(|| decode::decode(hidden, None)).expect("no panic").is_err());
}

#[tokio::test]
async fn a_wav_with_a_zero_sample_rate_ends_its_job_in_error_and_the_server_lives_on() {
    let h = start(20).await;
    h.put_file("uploads", "/rate0.wav", patched(24, 4, 0)).await;
    let id = h.create(source_job("/rate0.wav")).await;
    let job = h.wait_final(&id, WAIT).await;
    assert_eq!(job["state"], 4, "{job}");
    let message = error_message(&h, &id).await;
    assert!(message.contains("sample rate 0 Hz"), "{message}");
    // The server still works: the same job with a good file completes.
    h.put_file("uploads", "/good.wav", valid_wav()).await;
    let id = h.create(source_job("/good.wav")).await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 3);
    h.stop().await;
}

#[tokio::test]
async fn a_panic_in_blocking_work_becomes_an_error() {
    let result: Result<(), String> = singing_cloning_emulator::blocking::run_blocking(|| panic!("a decoder bug")).await;
    let message = result.unwrap_err();
    assert!(message.contains("internal error") && !message.contains("a decoder bug"), "{message}");
}

/// The emulator contains a job's panic by unwinding; a release build with `panic = "abort"`
/// would end the whole server on it. Cargo cannot set `panic` per package, so the
/// workspace's release profile must not abort (wasm32-unknown-unknown aborts by itself).
#[test]
fn the_release_profile_unwinds() {
    let manifest = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml")).unwrap();
    let mut section = String::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
        } else if section.starts_with("[profile.release") && line.starts_with("panic") {
            assert!(!line.contains("abort"), "{section} has {line:?}: a panic in one job would end the emulator");
        }
    }
}

/// Copies a directory tree (the state a crash leaves: every file is written atomically).
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[tokio::test]
async fn a_job_the_process_died_on_is_not_tried_again_but_a_cleanly_stopped_one_is() {
    let config = Config { job_ms: 1_500, ..common::config(0) };
    let data_dir = config.data_dir.clone().unwrap();
    let h = start_with(config.clone()).await;
    let id = h.create(text_job("la la", "default")).await;
    h.wait_state(&id, 2, WAIT).await;
    // Wait until the job is marked as attempted on disk, then take the data directory as
    // a crash at this moment would leave it.
    let file = data_dir.join("jobs").join(format!("{id}.json"));
    let started = Instant::now();
    while !std::fs::read_to_string(&file).unwrap().contains("\"attempted\": true") {
        assert!(started.elapsed() < WAIT, "the job was never marked attempted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let crashed_dir = common::temp_dir();
    copy_tree(&data_dir, &crashed_dir);
    h.emulator.stop().await;

    // After the crash: the job ends in ERROR at once, and says why.
    let crashed = start_with(Config { job_ms: 30, data_dir: Some(crashed_dir), ..config.clone() }).await;
    let job = crashed.wait_final(&id, WAIT).await;
    assert_eq!(job["state"], 4, "{job}");
    assert!(error_message(&crashed, &id).await.contains("stopped abruptly"));
    crashed.stop().await;

    // After the clean stop: the job is processed again and completes.
    let resumed = start_with(Config { job_ms: 30, data_dir: Some(data_dir), ..config }).await;
    assert_eq!(resumed.wait_final(&id, WAIT).await["state"], 3);
    resumed.stop().await;
}

#[tokio::test]
async fn an_oversized_api_body_is_refused_before_it_is_parsed() {
    let h = start_with(Config { max_body_bytes: 4_096, ..common::config(20) }).await;
    // 500 KB of valid JSON with wrong credentials: it used to be parsed (15 s) before the 401.
    let mut body = envelope("CreateJob", text_job("la", "default"));
    body["secretKey"] = json!("wrong");
    body["padding"] = json!(vec!["x"; 100_000]);
    let started = Instant::now();
    let answer = h.post_raw("/job", body.to_string(), None).await.unwrap();
    assert_eq!(answer.status, 413, "{}", answer.text);
    assert_eq!(answer.json()["error"]["code"], "RequestSizeLimitExceeded");
    assert!(started.elapsed() < Duration::from_secs(2), "{:?}", started.elapsed());
    // Without Content-Length (chunked), it is cut off at the limit.
    let mut stream = tokio::net::TcpStream::connect(h.emulator.addr()).await.unwrap();
    let head = "POST /release/job HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    for _ in 0..100 {
        let chunk = format!("3e8\r\n{}\r\n", "x".repeat(1_000));
        if stream.write_all(chunk.as_bytes()).await.is_err() {
            break;
        }
    }
    let mut answer = vec![0u8; 12];
    stream.read_exact(&mut answer).await.unwrap();
    assert_eq!(&answer, b"HTTP/1.1 413");
    // Under the limit, everything works as before.
    let (status, _) = h.call("CreateJob", text_job("la", "default")).await;
    assert_eq!(status, 200);
    assert_eq!(h.admin_jobs().await["total"], 1);
    h.stop().await;
}

#[tokio::test]
async fn url_inputs_are_downloaded_within_the_job_limit() {
    // A file server that counts the downloads in progress; each takes 150 ms.
    let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (n, p) = (Arc::clone(&now), Arc::clone(&peak));
    let app = Router::new().route(
        "/voice.wav",
        get(move || {
            let (n, p) = (Arc::clone(&n), Arc::clone(&p));
            async move {
                p.fetch_max(n.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(150)).await;
                n.fetch_sub(1, Ordering::SeqCst);
                valid_wav()
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/voice.wav", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let h = start_with(Config { concurrent_jobs: 1, ..common::config(10) }).await;
    let mut ids = Vec::new();
    for _ in 0..4 {
        let mut request = text_job("", "default");
        request["inputs"] = json!([{"url": url}]);
        ids.push(h.create(request).await);
    }
    for id in &ids {
        h.wait_final(id, WAIT).await;
    }
    assert_eq!(peak.load(Ordering::SeqCst), 1, "downloads at once with one job slot");
    h.stop().await;
}

#[tokio::test]
async fn admin_routes_refuse_cross_origin_requests_and_send_no_cors_headers() {
    let h = start(2_000).await;
    let id = h.create(text_job("la", "default")).await;
    let admin = |method: reqwest::Method, path: &str| h.client.request(method, format!("{}{path}", h.origin));
    let cancel = format!("/admin/jobs/{id}/cancel");

    // A web page of another origin can neither cancel nor read.
    let refused = [
        admin(reqwest::Method::POST, &cancel).header("origin", "http://evil.example"),
        admin(reqwest::Method::POST, &cancel).header("origin", "null"),
        admin(reqwest::Method::GET, "/admin/jobs").header("origin", "http://evil.example"),
        admin(reqwest::Method::GET, "/admin/jobs").header("sec-fetch-site", "cross-site"),
        // DNS rebinding: the page's own name, pointing at the emulator.
        admin(reqwest::Method::GET, "/admin/jobs")
            .header("host", "evil.example")
            .header("sec-fetch-site", "same-origin"),
    ];
    for request in refused {
        let response = request.send().await.unwrap();
        assert_eq!(response.status().as_u16(), 403);
        assert!(response.headers().get("access-control-allow-origin").is_none());
    }
    let preflight = admin(reqwest::Method::OPTIONS, &cancel).header("origin", "http://evil.example").send().await;
    let preflight = preflight.unwrap();
    assert!(preflight.headers().get("access-control-allow-origin").is_none());
    assert_eq!(h.get_job(&id).await["state"], 1, "the job was not canceled");

    // Programs (no Origin) and same-origin requests work, still without CORS headers.
    let jobs = admin(reqwest::Method::GET, "/admin/jobs").send().await.unwrap();
    assert_eq!(jobs.status().as_u16(), 200);
    assert!(jobs.headers().get("access-control-allow-origin").is_none());
    let same = admin(reqwest::Method::POST, &cancel)
        .header("origin", &h.origin)
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .unwrap();
    assert_eq!(same.status().as_u16(), 200);
    assert_eq!(h.get_job(&id).await["state"], 5);

    // The public API keeps its CORS.
    let api = h.client.post(format!("{}/job", h.api)).header("origin", "http://page.example").body("{}");
    let api = api.send().await.unwrap();
    assert_eq!(api.headers()["access-control-allow-origin"], "*");
    let preflight = h.client.request(reqwest::Method::OPTIONS, format!("{}/job", h.api)).send().await.unwrap();
    assert_eq!(
        (preflight.status().as_u16(), &preflight.headers()["access-control-allow-origin"]),
        (204, &"*".parse().unwrap())
    );
    h.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn the_content_store_never_follows_a_symbolic_link() {
    use std::os::unix::fs::symlink;
    let h = start(20).await;
    let outside = common::temp_dir();
    std::fs::create_dir_all(&outside).unwrap();
    std::fs::write(outside.join("secret.wav"), valid_wav()).unwrap();
    let cos = h.emulator.data_dir().join("cos");
    std::fs::create_dir_all(cos.join("uploads")).unwrap();
    symlink(outside.join("secret.wav"), cos.join("uploads/link.wav")).unwrap();
    symlink(&outside, cos.join("uploads/dir")).unwrap();
    symlink(&outside, cos.join("escape")).unwrap();

    for path in ["/cos/uploads/link.wav", "/cos/uploads/dir/secret.wav", "/cos/escape/secret.wav"] {
        let response = h.get(path).await;
        assert_ne!(response.status().as_u16(), 200, "{path}");
        assert!(response.bytes().await.unwrap().len() < 1_000, "{path}: the file was served");
    }
    for path in ["/cos/uploads/dir/planted.wav", "/cos/escape/planted.wav", "/cos/escape/new/planted.wav"] {
        let response = h.client.put(format!("{}{path}", h.origin)).body(valid_wav()).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 400, "{path}");
    }
    assert!(!outside.join("planted.wav").exists() && !outside.join("new").exists(), "a PUT wrote outside the store");
    // Nor over a link to a file.
    let response = h.client.put(format!("{}/cos/uploads/link.wav", h.origin)).body(vec![1, 2, 3]).send().await;
    assert_eq!(response.unwrap().status().as_u16(), 400);
    assert_eq!(std::fs::read(outside.join("secret.wav")).unwrap(), valid_wav());

    // A job's `source` input through a link ends in ERROR.
    for path in ["/dir/secret.wav", "/link.wav"] {
        let id = h.create(source_job(path)).await;
        assert_eq!(h.wait_final(&id, WAIT).await["state"], 4);
        assert!(error_message(&h, &id).await.contains("symbolic link"), "{}", error_message(&h, &id).await);
    }
    // A job's result is never written through a link either.
    let mut request = text_job("la", "default");
    request["outputs"][0]["contentId"] = json!("escape");
    let id = h.create(request).await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 4);
    assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 1, "only secret.wav is outside");
    let _ = std::fs::remove_dir_all(outside);
    h.stop().await;
}

/// SIGTERM (what `kill` and the Node test harnesses send) is a clean stop: the binary exits
/// at once, and a job it was processing is not taken for one it crashed on.
#[cfg(unix)]
#[tokio::test]
async fn sigterm_stops_the_binary_cleanly_and_at_once() {
    use std::io::BufRead;
    let data_dir = common::temp_dir();
    /// Kills the emulator if the test fails before it exits.
    struct Running(std::process::Child);
    impl Drop for Running {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_singing-cloning-emulator"))
        .args(["--port", "0", "--job-ms", "1500", "--data-dir"])
        .arg(&data_dir)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut child = Running(child);
    let mut first = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap()).read_line(&mut first).unwrap();
    let api = first.trim().rsplit(' ').next().unwrap().to_string();
    let body = envelope("CreateJob", text_job("la la", "default"));
    let answer: Value =
        reqwest::Client::new().post(format!("{api}/job")).json(&body).send().await.unwrap().json().await.unwrap();
    let id = answer["createJobResponse"]["job"]["id"].as_str().unwrap().to_string();
    let file = data_dir.join("jobs").join(format!("{id}.json"));
    let started = Instant::now();
    while !std::fs::read_to_string(&file).unwrap().contains("\"attempted\": true") {
        assert!(started.elapsed() < WAIT, "the job was never marked attempted");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    assert_eq!(unsafe { libc::kill(child.0.id() as i32, libc::SIGTERM) }, 0);
    let stopping = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break status;
        }
        assert!(stopping.elapsed() < Duration::from_secs(5), "still running 5 s after SIGTERM");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    assert!(status.success(), "{status}");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!((saved["job"]["state"].as_i64(), saved.get("attempted")), (Some(2), None), "{saved}");
    let _ = std::fs::remove_dir_all(data_dir);
}
