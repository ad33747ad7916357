//! Audio, checked by measurement on signals the tests synthesize: generation moves the
//! singer's median pitch to the model's (within 50 cents), keeps the duration (within
//! 1%) and never clips; training learns a register that generation then sings in;
//! separation makes a cover over the song's own accompaniment; MP3, FLAC, text and URL
//! inputs; inputs that fail end the job in ERROR. The timbre is measured independently of
//! the engine by `tests/voice/check_voice.py` (pyworld).

mod common;

use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use common::signal::{cents, read_wav, sung_line, wav_bytes, Wav};
use common::{start, start_with, Harness};
use serde_json::{json, Value};
use singing_cloning_emulator::audio::{separate, Audio};

const WAIT: Duration = Duration::from_secs(30);

/// Serves `files` (path, bytes) over HTTP on a free port, plus `/slow` that never answers.
async fn serve_files(files: Vec<(&'static str, Vec<u8>)>) -> String {
    let mut app = Router::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(60)).await;
            "late"
        }),
    );
    for (path, bytes) in files {
        app = app.route(path, get(move || async move { ([(header::CONTENT_TYPE, "audio/wav")], bytes) }));
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    origin
}

fn generation(input: Value, model: &str, separate: bool) -> Value {
    let mut cloning = json!({"type": 1, "modelName": model});
    if separate {
        cloning["useSeparate"] = json!(2);
    }
    json!({
        "inputs": [input],
        "outputs": [{"contentId": "results", "destination": "/covers", "inputSelectors": [0],
                     "smartContentDescriptor": {"outputPrefix": "take_", "singingCloning": cloning}}]
    })
}

/// Runs a generation to COMPLETED and reads its WAV from the content store.
async fn generate(h: &Harness, input: Value, model: &str, separate: bool) -> Wav {
    let id = h.create(generation(input, model, separate)).await;
    let job = h.wait_final(&id, WAIT).await;
    assert_eq!(job["state"], 3, "{job} {}", h.admin_jobs().await);
    let song = job["outputs"][0]["smartContentResult"]["singingCloning"]["songName"].as_str().unwrap();
    assert_eq!(song, format!("take_{id}.wav"));
    let response = h.get(&format!("/cos/results/covers/{song}")).await;
    assert_eq!(response.headers()["content-type"], "audio/wav");
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    read_wav(&response.bytes().await.unwrap())
}

/// The checks every generation must pass.
fn assert_sung_as(output: &Wav, model_hz: f64, input_seconds: f64) {
    let measured = output.median_hz();
    assert!(cents(model_hz, measured).abs() < 50.0, "output median {measured:.1} Hz, model {model_hz:.1} Hz");
    let drift = (output.seconds() - input_seconds).abs() / input_seconds;
    assert!(drift < 0.01, "output {:.3} s, input {input_seconds:.3} s", output.seconds());
    assert!(output.peak_raw < 32767, "the output clips");
}

/// The voice profile of a model, as /admin/models gives it.
async fn profile_median(h: &Harness, name: &str) -> f64 {
    let models: Value = h.get("/admin/models").await.json().await.unwrap();
    let model = models["models"].as_array().unwrap().iter().find(|m| m["name"] == name).expect("the model").clone();
    model["profile"]["medianHz"].as_f64().unwrap()
}

#[tokio::test]
async fn generation_moves_a_url_input_to_the_default_model() {
    let h = start(20).await;
    let rate = 22_050;
    let notes = [(311.13, 0.6), (293.66, 0.6), (329.63, 0.6), (311.13, 0.7)];
    let input = sung_line(rate, &notes);
    let input_seconds = input.len() as f64 / rate as f64;
    assert!(cents(311.13, common::signal::median_hz(&input, rate)).abs() < 30.0, "the measure reads the test signal");
    let origin = serve_files(vec![("/singer.wav", wav_bytes(rate, &[input]))]).await;

    let output = generate(&h, json!({"url": format!("{origin}/singer.wav")}), "default", false).await;
    assert_eq!((output.rate, output.channels.len()), (rate, 1));
    assert_sung_as(&output, profile_median(&h, "default").await, input_seconds);
    assert_eq!(profile_median(&h, "default").await, 220.0);
    h.stop().await;
}

#[tokio::test]
async fn training_then_generation_with_the_trained_model() {
    let h = start(20).await;
    let rate = 22_050;
    // A high singer to train on, uploaded to the content store.
    let singer = sung_line(rate, &[(415.3, 0.5), (466.16, 0.5), (415.3, 0.5), (392.0, 0.5), (415.3, 0.6)]);
    h.put_file("voices", "/high.wav", wav_bytes(rate, &[singer])).await;
    let id = h
        .create(json!({
            "inputs": [{"source": {"contentId": "voices", "path": "/high.wav"}}],
            "outputs": [{
                "inputSelectors": [0],
                "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "high_voice"}}
            }]
        }))
        .await;
    let job = h.wait_final(&id, WAIT).await;
    assert_eq!(job["state"], 3, "{job}");
    assert_eq!(job["outputs"][0]["smartContentResult"]["singingCloning"]["modelName"], "high_voice");
    let (_, models) = h.call("ListModels", json!({"offset": 0, "limit": 10, "type": 2})).await;
    let listed = &models["listModelsResponse"]["models"][1];
    assert_eq!(listed["name"], "high_voice");
    assert!(listed["createdAt"].as_str().unwrap().parse::<u64>().unwrap() >= common::millis(&job, "startedAt"));
    let learned = profile_median(&h, "high_voice").await;
    assert!(cents(415.3, learned).abs() < 50.0, "learned {learned} Hz");
    let trained: Value = h.get("/admin/models").await.json().await.unwrap();
    assert_eq!(trained["models"][1]["profile"]["epochs"], 30, "totalEpoch defaults to 30");
    assert_eq!(trained["models"][1]["profile"]["history"].as_array().unwrap().len(), 30);

    // A low song, sung by the trained voice.
    let low = sung_line(rate, &[(146.83, 0.7), (164.81, 0.7), (130.81, 0.8)]);
    let low_seconds = low.len() as f64 / rate as f64;
    let origin = serve_files(vec![("/low.wav", wav_bytes(rate, &[low]))]).await;
    let output = generate(&h, json!({"url": format!("{origin}/low.wav")}), "high_voice", false).await;
    assert_sung_as(&output, learned, low_seconds);
    h.stop().await;
}

#[tokio::test]
async fn separation_makes_a_cover_and_without_it_the_input_is_a_vocal() {
    let h = start(20).await;
    let song = read_wav(&h.file("samples", "/song.wav").await);
    assert_eq!(song.channels.len(), 2);
    let cover = generate(&h, json!({"url": format!("{}/cos/samples/song.wav", h.origin)}), "default", true).await;
    assert_eq!(cover.channels.len(), 2, "a cover keeps the song's channels");
    assert_eq!(cover.channels[0].len(), song.channels[0].len(), "to the sample");
    assert!(cover.peak_raw < 32767, "the cover clips");
    // The accompaniment is mixed back where it was: the side signal (left minus right, which the
    // centred vocal does not reach) is the song's own.
    let side = |w: &Wav| -> Vec<f32> { w.channels[0].iter().zip(&w.channels[1]).map(|(l, r)| l - r).collect() };
    let (ours, theirs) = (side(&cover), side(&song));
    let dot: f64 = ours.iter().zip(&theirs).map(|(a, b)| *a as f64 * *b as f64).sum();
    let norm = |x: &[f32]| x.iter().map(|v| (*v as f64).powi(2)).sum::<f64>().sqrt();
    let correlation = dot / (norm(&ours) * norm(&theirs));
    assert!(correlation > 0.9, "the accompaniment's side signal correlates {correlation:.3} with the song's");
    // The vocal in the centre (extracted again from the cover) sings in the model's register.
    let centre = separate::extract_vocal(&Audio { rate: cover.rate, channels: cover.channels.clone() });
    assert_sung_as(&Wav { rate: cover.rate, channels: centre.channels, peak_raw: 0 }, 220.0, song.seconds());
    // Without separation the input is taken as a vocal: the result is the converted vocal, mono.
    let vocal = generate(&h, json!({"source": {"contentId": "samples", "path": "/song.wav"}}), "default", false).await;
    assert_eq!(vocal.channels.len(), 1);
    assert_eq!(vocal.channels[0].len(), song.channels[0].len());
    assert!(vocal.peak_raw < 32767);
    h.stop().await;
}

#[tokio::test]
async fn mp3_flac_and_text_inputs_are_sung() {
    let h = start(20).await;
    for name in ["tone300.mp3", "tone300.flac"] {
        let bytes = std::fs::read(format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
        h.put_file("fixtures", &format!("/{name}"), bytes).await;
        let output =
            generate(&h, json!({"source": {"contentId": "fixtures", "path": format!("/{name}")}}), "default", false)
                .await;
        let measured = output.median_hz();
        assert!(cents(220.0, measured).abs() < 50.0, "{name}: {measured} Hz");
        // 1.5 s of audio; MP3 adds its encoder's padding.
        assert!((output.seconds() - 1.5).abs() < 0.08, "{name}: {} s", output.seconds());
        assert!(output.peak_raw < 32767);
    }
    // "hello" sings 494, 330, 220, 220 and 330 Hz: a median (330 Hz) that no tracker can read as
    // another note, unlike a text whose notes split evenly around the middle.
    let output = generate(&h, json!({"sourceData": "hello"}), "default", false).await;
    assert!(cents(220.0, output.median_hz()).abs() < 50.0, "text: {} Hz", output.median_hz());
    assert!(output.seconds() > 1.0);
    h.stop().await;
}

#[tokio::test]
async fn inputs_that_fail_end_the_job_in_error() {
    let h = start_with(singing_cloning_emulator::Config {
        download_timeout_ms: 400,
        max_input_bytes: 100_000,
        ..common::config(20)
    })
    .await;
    let rate = 22_050;
    let big = wav_bytes(rate, &[sung_line(rate, &[(220.0, 3.0)])]);
    let silence = wav_bytes(rate, &[vec![0.0; rate as usize]]);
    let origin =
        serve_files(vec![("/big.wav", big), ("/silence.wav", silence), ("/text.wav", b"<html>no</html>".to_vec())])
            .await;
    let cases = [
        (json!({"url": format!("{origin}/missing.wav")}), "HTTP 404"),
        (json!({"url": format!("{origin}/slow")}), "longer than"),
        (json!({"url": format!("{origin}/big.wav")}), "larger than"),
        (json!({"url": format!("{origin}/text.wav")}), "not a readable audio file"),
        (json!({"url": format!("{origin}/silence.wav")}), "no singing voice"),
        (json!({"url": "https://unreachable.invalid/a.wav"}), "cannot download"),
        (json!({"source": {"contentId": "nowhere", "path": "/a.wav"}}), "no file"),
    ];
    let mut ids = Vec::new();
    for (input, _) in &cases {
        ids.push(h.create(generation(input.clone(), "default", false)).await);
    }
    for (id, (_, expected)) in ids.iter().zip(&cases) {
        assert_eq!(h.wait_final(id, WAIT).await["state"], 4);
        let admin = h.admin_jobs().await;
        let job = admin["jobs"].as_array().unwrap().iter().find(|j| j["id"] == id.as_str()).unwrap().clone();
        assert!(job["errorMessage"].as_str().unwrap().contains(expected), "{expected}: {job}");
    }
    // A training that fails frees its name.
    let training = json!({
        "inputs": [{"url": format!("{origin}/silence.wav")}],
        "outputs": [{
            "inputSelectors": [0],
            "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "silent"}}
        }]
    });
    let id = h.create(training).await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 4);
    let id = h.create(common::text_training("la la", "silent")).await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 3);
    h.stop().await;
}
