//! Audio, checked by measurement on signals the tests synthesize: generation moves the
//! singer's median pitch to the model's (within 50 cents), keeps the duration (within
//! 1%) and never clips; training learns a register that generation then sings in;
//! separation, MP3, FLAC, text and URL inputs; inputs that fail end the job in ERROR.

mod common;

use std::time::Duration;

use axum::http::header;
use axum::routing::get;
use axum::Router;
use common::signal::{cents, read_wav, sung_line, wav_bytes, Wav};
use common::{start, start_with, Harness};
use serde_json::{json, Value};

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
            "outputs": [{"inputSelectors": [0], "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "high_voice"}}}]
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
async fn separation_sings_the_centre_vocal_of_the_sample_song() {
    let h = start(20).await;
    let song = read_wav(&h.file("samples", "/song.wav").await);
    assert_eq!(song.channels.len(), 2);
    let output = generate(&h, json!({"url": format!("{}/cos/samples/song.wav", h.origin)}), "default", true).await;
    assert_eq!(output.channels.len(), 1, "the extracted vocal is mono");
    assert_sung_as(&output, 220.0, song.seconds());
    // Without separation the whole stereo mix is converted.
    let whole = generate(&h, json!({"source": {"contentId": "samples", "path": "/song.wav"}}), "default", false).await;
    assert_eq!(whole.channels.len(), 2);
    assert!((whole.seconds() - song.seconds()).abs() / song.seconds() < 0.01);
    assert!(whole.peak_raw < 32767);
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
    let output = generate(&h, json!({"sourceData": "hello world"}), "default", false).await;
    assert!(cents(220.0, output.median_hz()).abs() < 50.0);
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
        "outputs": [{"inputSelectors": [0], "smartContentDescriptor": {"singingCloning": {"type": 2, "modelName": "silent"}}}]
    });
    let id = h.create(training).await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 4);
    let id = h.create(common::text_training("la la", "silent")).await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 3);
    h.stop().await;
}
