//! The voice model over the API: training stores a timbre (formant scale and envelope
//! statistics per band) with the register, it survives a restart unchanged, a model saved
//! before timbre existed still generates, and a cover of the sample song with a model of the
//! sample voice moves the song's formants up by the two singers' tract ratio. The timbre's
//! quality is measured independently (pyworld) by `tests/voice/check_voice.py`.

mod common;

use std::time::Duration;

use common::signal::{cents, read_wav};
use common::{start_with, Harness};
use serde_json::{json, Value};
use singing_cloning_emulator::audio::{separate, Audio};

const WAIT: Duration = Duration::from_secs(60);

async fn train_sample_voice(h: &Harness, name: &str, epochs: u32) {
    let id = h
        .create(json!({
            "inputs": [{"source": {"contentId": "samples", "path": "/voice.wav"}}],
            "outputs": [{"inputSelectors": [0], "smartContentDescriptor": {
                "singingCloning": {"type": 2, "modelName": name, "totalEpoch": epochs}}}]
        }))
        .await;
    assert_eq!(h.wait_final(&id, WAIT).await["state"], 3);
}

async fn profile(h: &Harness, name: &str) -> Value {
    let models: Value = h.get("/admin/models").await.json().await.unwrap();
    models["models"].as_array().unwrap().iter().find(|m| m["name"] == name).expect("the model")["profile"].clone()
}

/// Generates the sample song (separated or not) with `model`; the result's samples.
async fn cover(h: &Harness, model: &str, separate: bool) -> common::signal::Wav {
    let mut cloning = json!({"type": 1, "modelName": model});
    if separate {
        cloning["useSeparate"] = json!(2);
    }
    let id = h
        .create(json!({
            "inputs": [{"source": {"contentId": "samples", "path": "/song.wav"}}],
            "outputs": [{"contentId": "out", "inputSelectors": [0],
                         "smartContentDescriptor": {"singingCloning": cloning}}]
        }))
        .await;
    let job = h.wait_final(&id, WAIT).await;
    assert_eq!(job["state"], 3, "{job} {}", h.admin_jobs().await);
    let song = job["outputs"][0]["smartContentResult"]["singingCloning"]["songName"].as_str().unwrap();
    read_wav(&h.file("out", &format!("/{song}")).await)
}

#[tokio::test]
async fn a_model_is_register_and_timbre_and_survives_a_restart() {
    let config = common::config(20);
    let data_dir = config.data_dir.clone().unwrap();
    let h = start_with(config.clone()).await;
    train_sample_voice(&h, "soprano", 12).await;
    let learned = profile(&h, "soprano").await;
    assert!(cents(392.0, learned["medianHz"].as_f64().unwrap()).abs() < 50.0, "{learned}");
    let timbre = &learned["timbre"];
    assert_eq!(timbre["meanDb"].as_array().unwrap().len(), 64);
    assert_eq!(timbre["spreadDb"].as_array().unwrap().len(), 64);
    assert_eq!(timbre["bandsHz"].as_array().unwrap().len(), 64);
    assert_eq!(timbre["scaleHistory"].as_array().unwrap().len(), 12, "one formant scale per epoch");
    // The sample soprano's tract is synthesized 1.2 times shorter than the default singer's.
    let scale = timbre["formantScale"].as_f64().unwrap();
    assert!(scale > 1.08 && scale < 1.3, "formant scale {scale}");
    // The default model has the default singer's timbre, the reference of every scale.
    assert_eq!(profile(&h, "default").await["timbre"]["formantScale"], 1.0);
    h.emulator.stop().await;

    let h = start_with(singing_cloning_emulator::Config { data_dir: Some(data_dir.clone()), ..config.clone() }).await;
    assert_eq!(profile(&h, "soprano").await, learned, "the profile is the same after a restart");
    let sung = cover(&h, "soprano", false).await;
    assert!(cents(learned["medianHz"].as_f64().unwrap(), sung.median_hz()).abs() < 50.0);
    h.emulator.stop().await;

    // A model saved before timbre was learned (no `timbre` in models.json) still sings: the
    // register moves, the song's own envelope stays.
    let file = data_dir.join("models.json");
    let mut models: Value = serde_json::from_slice(&std::fs::read(&file).unwrap()).unwrap();
    models["models"][0]["profile"].as_object_mut().unwrap().remove("timbre");
    std::fs::write(&file, serde_json::to_vec(&models).unwrap()).unwrap();
    let h = start_with(singing_cloning_emulator::Config { data_dir: Some(data_dir), ..config }).await;
    assert!(profile(&h, "soprano").await.get("timbre").is_none());
    let sung = cover(&h, "soprano", false).await;
    assert!(cents(learned["medianHz"].as_f64().unwrap(), sung.median_hz()).abs() < 50.0);
    h.stop().await;
}

#[tokio::test]
async fn the_sample_cover_is_whole_and_in_the_model_register() {
    let h = common::start(20).await;
    train_sample_voice(&h, "sample_voice", 10).await;
    let song = read_wav(&h.file("samples", "/song.wav").await);
    let whole = cover(&h, "sample_voice", true).await;
    assert_eq!(whole.channels.len(), 2);
    assert_eq!(whole.channels[0].len(), song.channels[0].len());
    assert!(whole.peak_raw < 32767);
    let model = profile(&h, "sample_voice").await["medianHz"].as_f64().unwrap();
    // The centre of the cover (the accompaniment is panned to the sides) is the model singing.
    let centre = separate::extract_vocal(&Audio { rate: whole.rate, channels: whole.channels.clone() });
    let measured = common::signal::median_hz(&centre.channels[0], whole.rate);
    assert!(cents(model, measured).abs() < 50.0, "cover median {measured:.1} Hz, model {model:.1} Hz");
    h.stop().await;
}
