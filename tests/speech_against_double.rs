//! Speech end to end against the HF test double: a WAV the test makes, transcribed through the
//! router by HF Inference (raw bytes) and by fal (the queue, with timestamps); text to speech by
//! HF Inference (the recorded FLAC) and by Replicate (a prediction polled, its audio downloaded
//! with no credential); each call in the ledger with its task, unknown cost and request id; the
//! runs and their audio after a restart and through export/import; the provider's own key
//! straight to fal; faults (job failed, timeout, not audio) each with its own error code, and no
//! token in any log line. Together and DeepInfra (OpenAI-style audio routes): text to speech and
//! transcripts (multipart), routed and with their own key, with their faults. fal speaks text
//! (its queue, the audio downloaded with no credential) routed and with its own key; Replicate
//! transcribes (a prediction polled, openai/whisper's segments with their times) routed and with
//! its own key; a failed job of each in plain words, and a job the app stops waiting for
//! cancelled at the provider.

mod support;

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use hf_double::{tokens, Fault, FaultKind, Scope};
use support::{pinned, services_on_double, OnDouble};
use switchboard_core::call::{Billing, CallMode, JobStatus, Routing};
use switchboard_core::config::Config;
use switchboard_core::error::{AppError, ErrorCode};
use switchboard_core::history::ledger::{CallKind, CallQuery};
use switchboard_core::providers::{provider_key_entry, ProviderMode};
use switchboard_core::secrets::{MemoryBackend, Secret, Secrets, Storage};
use switchboard_core::service::images::ImageOptions;
use switchboard_core::service::speech::{SpeechExportFormat, SynthesizeRequest, TranscribeRequest};
use switchboard_core::service::Services;
use switchboard_core::speech::{self, SpeechKind};

const WHISPER: &str = "openai/whisper-large-v3";
const WAV2VEC: &str = "jonatasgrosman/wav2vec2-large-xlsr-53-english";
const VITS: &str = "espnet/kan-bayashi_ljspeech_vits";

// ------------------------------------------------------------ every log line, kept

struct Capture(Mutex<Vec<String>>);

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        let line = format!("{} {}: {}", record.level(), record.target(), record.args());
        self.0.lock().unwrap().push(line);
    }
    fn flush(&self) {}
}

fn logs() -> &'static Capture {
    static LOGS: OnceLock<&'static Capture> = OnceLock::new();
    LOGS.get_or_init(|| {
        let c: &'static Capture = Box::leak(Box::new(Capture(Mutex::new(Vec::new()))));
        log::set_logger(c).expect("the only logger");
        log::set_max_level(log::LevelFilter::Trace);
        c
    })
}

fn assert_no_token_anywhere(errors: &[&AppError]) {
    let lines = logs().0.lock().unwrap().clone();
    for secret in [tokens::FREE_TOKEN, tokens::PRO_TOKEN, tokens::PROVIDER_KEY] {
        let piece = &secret[..12];
        for l in &lines {
            assert!(!l.contains(piece), "a log line holds a credential: {l}");
        }
        for e in errors {
            assert!(!e.message.contains(piece), "an error holds a credential");
        }
    }
}

/// One second of a 220 Hz tone, 16 kHz mono: the WAV the tests send.
fn test_wav() -> Vec<u8> {
    let samples: Vec<i16> = (0..16_000)
        .map(|i| ((i as f64 / 16_000.0 * 220.0 * std::f64::consts::TAU).sin() * 6000.0) as i16)
        .collect();
    speech::wav(16_000, &samples)
}

async fn on_double() -> OnDouble {
    logs();
    let f = services_on_double(tokens::FREE_TOKEN).await;
    fast(&f.services);
    f
}

fn fast(s: &Services) {
    s.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        ..ImageOptions::default()
    });
}

fn stt(model: &str, routing: Routing, audio: &str) -> TranscribeRequest {
    TranscribeRequest {
        model: model.into(),
        routing,
        bill_to: None,
        audio: audio.into(),
        audio_name: Some("hello.wav".into()),
    }
}

fn tts(model: &str, routing: Routing, text: &str) -> SynthesizeRequest {
    SynthesizeRequest {
        model: model.into(),
        routing,
        bill_to: None,
        text: text.into(),
        voice: None,
    }
}

fn restart(
    double: &hf_double::HfDouble,
    store: Arc<switchboard_core::settings::MemoryStore>,
    dir: &std::path::Path,
) -> Services {
    let config = Config {
        endpoints: support::endpoints(double),
        data_dir: dir.join("data"),
        chat_timeout_secs: Some(20),
    };
    let secrets = Arc::new(Secrets::new(Box::<MemoryBackend>::default()));
    let s = Services::new(config, store, secrets, dir.to_path_buf()).unwrap();
    fast(&s);
    s
}

#[tokio::test]
async fn a_wav_is_transcribed_by_hf_inference_and_fal_and_spoken_back_and_all_survive_a_restart_and_a_backup(
) {
    let f = on_double().await;
    let wav = test_wav();
    let file = f.dir.path().join("hello.wav");
    std::fs::write(&file, &wav).unwrap();
    let chosen = f.services.speech_audio_from_file(file).await.unwrap();
    assert_eq!(chosen.audio.mime, "audio/wav");
    assert_eq!(chosen.name.as_deref(), Some("hello.wav"));
    // Kept by the hash of its bytes in the data folder's media/.
    let kept = f.services.media_dir().join(&chosen.audio.file);
    assert_eq!(std::fs::read(&kept).unwrap(), wav);

    // HF Inference: the raw bytes, with their type, through the router.
    let a = f
        .services
        .transcribe(stt(WAV2VEC, pinned("hf-inference"), &chosen.audio.file))
        .await
        .unwrap();
    assert_eq!(a.kind, SpeechKind::Stt);
    assert_eq!(a.text, "a man said to the universe sir i exist");
    assert!(a.segments.is_empty());
    assert_eq!((a.mode, a.billing), (CallMode::Routed, Billing::HfCredits));
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, format!("/router/hf-inference/models/{WAV2VEC}"));
    assert_eq!(post.header("content-type"), Some("audio/wav"));
    assert!(post.body.starts_with("RIFF") && post.body.contains("WAVEfmt "));
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
    );

    // fal: the queue, polled; the recorded transcript with its timestamps.
    f.double.clear_requests();
    let b = f
        .services
        .transcribe(stt(WHISPER, pinned("fal-ai"), &chosen.audio.file))
        .await
        .unwrap();
    assert_eq!(b.text, "A man said to the universe, Sir, I exist.");
    assert_eq!(b.segments.len(), 1);
    assert_eq!(
        (b.segments[0].start, b.segments[0].end),
        (Some(0.0), Some(4.08))
    );
    assert_eq!(b.language.as_deref(), Some("en"));
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/router/fal-ai/fal-ai/whisper");
    assert_eq!(post.query.as_deref(), Some("_subdomain=queue"));
    let url = post.json().unwrap()["audio_url"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(url.starts_with("data:audio/wav;base64,"));
    assert!(reqs.iter().any(|r| r.path.ends_with("/status")));

    // Text to speech, HF Inference: the recorded FLAC, kept by its bytes.
    let c = f
        .services
        .synthesize(tts(VITS, pinned("hf-inference"), "Hello world"))
        .await
        .unwrap();
    assert_eq!(c.kind, SpeechKind::Tts);
    assert_eq!(c.audio.mime, "audio/flac");
    assert_eq!(c.text, "Hello world");
    // Text to speech, Replicate (the Hub maps kokoro to its version): polled, downloaded.
    f.double.clear_requests();
    let d = f
        .services
        .synthesize(tts(
            hf_double::speech::KOKORO_HUB_ID,
            pinned("replicate"),
            "Hello again",
        ))
        .await
        .unwrap();
    assert_eq!(d.audio.mime, "audio/wav");
    let made = std::fs::read(f.services.media_dir().join(&d.audio.file)).unwrap();
    assert_eq!(made, hf_double::speech::tts_wav());
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/router/replicate/v1/predictions");
    assert_eq!(
        post.json().unwrap()["version"],
        hf_double::speech::KOKORO_VERSION
    );
    assert_eq!(post.json().unwrap()["input"]["text"], "Hello again");
    // The audio on another host is fetched with no credential.
    let get = reqs
        .iter()
        .find(|r| r.path.starts_with("/ext/replicate.delivery/"))
        .unwrap();
    assert_eq!(get.header("authorization"), None);
    // Its audio plays from a data: URL.
    let data = f
        .services
        .speech_audio_data(d.audio.file.clone())
        .await
        .unwrap();
    assert!(data.starts_with("data:audio/wav;base64,"));

    // The ledger: one row per call, with its task, unknown cost and request id.
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let stt_rows = rows
        .iter()
        .filter(|r| r.kind == CallKind::SpeechToText)
        .collect::<Vec<_>>();
    let tts_rows = rows
        .iter()
        .filter(|r| r.kind == CallKind::TextToSpeech)
        .collect::<Vec<_>>();
    assert_eq!((stt_rows.len(), tts_rows.len()), (2, 2));
    for r in stt_rows.iter().chain(&tts_rows) {
        assert_eq!(r.cost, None);
        assert_eq!(r.status, "complete");
        assert!(r.request_id.is_some());
    }
    drop(h);

    // Exports: the transcript as text (with times) and JSON, the audio as it was made.
    let txt = f
        .services
        .speech_export(b.id.clone(), SpeechExportFormat::Txt)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(txt.bytes).unwrap(),
        "[0:00.0 → 0:04.1] A man said to the universe, Sir, I exist.\n"
    );
    let audio = f
        .services
        .speech_export(d.id.clone(), SpeechExportFormat::Audio)
        .await
        .unwrap();
    assert_eq!(audio.bytes, made);
    assert!(audio.name.ends_with(".wav"));

    let backup = f.services.history_export_all_text().unwrap();
    let OnDouble {
        double,
        services,
        store,
        dir,
    } = f;
    drop(services);
    double.clear_requests();
    let services = restart(&double, store, dir.path());
    let runs = services.speech_list(10).await.unwrap();
    assert_eq!(runs.len(), 4);
    assert_eq!(runs.iter().find(|r| r.id == b.id).unwrap(), &b);
    assert!(double.requests().is_empty(), "shown offline");

    // A fresh data folder: the import brings the runs and their audio back, once.
    let fresh = tempfile::tempdir().unwrap();
    let other = restart(&double, Arc::default(), fresh.path());
    let path = fresh.path().join("backup.json");
    std::fs::write(&path, backup).unwrap();
    let report = other.history_import_file(&path).await.unwrap();
    assert_eq!(report.speech, 4);
    assert_eq!(other.history_import_file(&path).await.unwrap().speech, 0);
    let back = other.speech_list(10).await.unwrap();
    assert_eq!(back.len(), 4);
    let d_back = back.iter().find(|r| r.id == d.id).unwrap();
    assert_eq!(
        std::fs::read(other.media_dir().join(&d_back.audio.file)).unwrap(),
        made
    );
    assert_eq!(
        std::fs::read(other.media_dir().join(&chosen.audio.file)).unwrap(),
        wav
    );
    assert_no_token_anywhere(&[]);
}

#[tokio::test]
async fn an_own_key_goes_straight_to_fals_queue_with_its_key_only() {
    let f = on_double().await;
    f.services
        .provider_set("fal-ai".into(), true, ProviderMode::OwnKey)
        .await
        .unwrap();
    let chosen = f
        .services
        .speech_audio_put(Some("a.wav".into()), base64_of(&test_wav()))
        .await
        .unwrap();
    let route = f
        .services
        .speech_route(SpeechKind::Stt, &pinned("fal-ai"), None);
    assert_eq!(route.mode, CallMode::OwnKey);
    let err = f
        .services
        .transcribe(stt(WHISPER, pinned("fal-ai"), &chosen.audio.file))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ProviderKeyMissing);
    f.services
        .secrets
        .set(
            &provider_key_entry("fal-ai"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    let r = f
        .services
        .transcribe(stt(WHISPER, pinned("fal-ai"), &chosen.audio.file))
        .await
        .unwrap();
    assert_eq!(r.text, "A man said to the universe, Sir, I exist.");
    assert_eq!((r.mode, r.billing), (CallMode::OwnKey, Billing::Provider));
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/direct/fal-ai/fal-ai/whisper");
    assert_eq!(
        post.header("authorization"),
        Some(format!("Key {}", tokens::PROVIDER_KEY).as_str())
    );
    for r in &reqs {
        assert!(!r.body.contains(tokens::FREE_TOKEN));
        assert_ne!(
            r.header("authorization"),
            Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
        );
    }
    assert_no_token_anywhere(&[&err]);
}

/// Together and DeepInfra speak the OpenAI audio routes: each provider's path, routed with the
/// HF token and straight to the provider with its key only.
fn openai_path(provider: &str, kind: SpeechKind) -> &'static str {
    match (provider, kind) {
        ("together", SpeechKind::Tts) => "v1/audio/speech",
        ("together", SpeechKind::Stt) => "v1/audio/transcriptions",
        (_, SpeechKind::Tts) => "v1/openai/audio/speech",
        (_, SpeechKind::Stt) => "v1/openai/audio/transcriptions",
    }
}

fn assert_no_hf_token_sent(reqs: &[hf_double::RecordedRequest]) {
    for r in reqs {
        assert!(!r.body.contains(tokens::FREE_TOKEN));
        for (_, v) in &r.headers {
            assert!(
                !v.contains(tokens::FREE_TOKEN),
                "the HF token went to {}",
                r.path
            );
        }
    }
}

#[tokio::test]
async fn together_and_deepinfra_speak_text_routed_and_with_their_own_key() {
    use hf_double::speech::OPENAI_TTS_HUB_ID;
    let f = on_double().await;
    // The pickers offer the providers the Hub's mapping lists for the model.
    let offered = |kind, model: &'static str| {
        let s = &f.services;
        async move { s.speech_providers(kind, model).await }
    };
    assert_eq!(
        offered(SpeechKind::Tts, OPENAI_TTS_HUB_ID).await,
        ["hf-inference", "together", "deepinfra"]
    );
    assert_eq!(
        offered(SpeechKind::Tts, hf_double::speech::KOKORO_HUB_ID).await,
        ["hf-inference", "fal-ai", "replicate"]
    );
    assert_eq!(
        offered(SpeechKind::Stt, hf_double::speech::OPENAI_STT_HUB_ID).await,
        ["hf-inference", "together", "deepinfra"]
    );
    assert_eq!(
        offered(SpeechKind::Stt, WHISPER).await,
        ["hf-inference", "fal-ai"]
    );
    let mut errors = Vec::new();
    for provider in ["together", "deepinfra"] {
        // Routed: the HF token to {router}/{provider}/{route}.
        f.double.clear_requests();
        let mut req = tts(OPENAI_TTS_HUB_ID, pinned(provider), "Hello from the router");
        req.voice = Some("tara".into());
        let r = f.services.synthesize(req).await.unwrap();
        assert_eq!((r.mode, r.provider.as_str()), (CallMode::Routed, provider));
        assert_eq!(r.audio.mime, "audio/wav");
        assert_eq!(r.voice.as_deref(), Some("tara"));
        let made = std::fs::read(f.services.media_dir().join(&r.audio.file)).unwrap();
        assert_eq!(made, hf_double::speech::tts_wav());
        let reqs = f.double.requests();
        let post = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            post.path,
            format!(
                "/router/{provider}/{}",
                openai_path(provider, SpeechKind::Tts)
            )
        );
        assert_eq!(
            post.json().unwrap(),
            serde_json::json!({"model": OPENAI_TTS_HUB_ID, "input": "Hello from the router", "voice": "tara", "response_format": "wav"})
        );
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
        );

        // Own key: straight to the provider, its key and never the HF token.
        f.services
            .provider_set(provider.into(), true, ProviderMode::OwnKey)
            .await
            .unwrap();
        let e = f
            .services
            .synthesize(tts(OPENAI_TTS_HUB_ID, pinned(provider), "Hi"))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::ProviderKeyMissing);
        errors.push(e);
        f.services
            .secrets
            .set(
                &provider_key_entry(provider),
                &Secret::new(tokens::PROVIDER_KEY.into()),
                Storage::Keyring,
            )
            .unwrap();
        f.double.clear_requests();
        let r = f
            .services
            .synthesize(tts(
                OPENAI_TTS_HUB_ID,
                pinned(provider),
                "Hello with my key",
            ))
            .await
            .unwrap();
        assert_eq!((r.mode, r.billing), (CallMode::OwnKey, Billing::Provider));
        let made = std::fs::read(f.services.media_dir().join(&r.audio.file)).unwrap();
        assert_eq!(made, hf_double::speech::tts_wav());
        let reqs = f.double.requests();
        let post = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            post.path,
            format!(
                "/direct/{provider}/{}",
                openai_path(provider, SpeechKind::Tts)
            )
        );
        assert_eq!(post.json().unwrap()["input"], "Hello with my key");
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {}", tokens::PROVIDER_KEY).as_str())
        );
        assert_no_hf_token_sent(&reqs);

        // Faults: an answer that is not audio, and a 500.
        f.double.push_fault(
            Fault::new(
                Scope::Speech,
                FaultKind::Status {
                    code: 200,
                    body: "<html>this is not audio</html>".into(),
                    content_type: "text/html".into(),
                    headers: Vec::new(),
                },
            )
            .once(),
        );
        let e = f
            .services
            .synthesize(tts(OPENAI_TTS_HUB_ID, pinned(provider), "Hi"))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotAudio, "{}", e.message);
        errors.push(e);
        f.double.push_fault(
            Fault::new(
                Scope::Speech,
                FaultKind::JobFails {
                    message: "CUDA out of memory".into(),
                },
            )
            .once(),
        );
        let e = f
            .services
            .synthesize(tts(OPENAI_TTS_HUB_ID, pinned(provider), "Hi"))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::JobFailed, "{}", e.message);
        assert!(e.message.contains("CUDA out of memory"));
        errors.push(e);
    }
    // The failures are kept too, each with its error in plain words.
    let kept = f.services.speech_list(50).await.unwrap();
    assert_eq!(kept.len(), 8);
    assert_failed_runs_kept(
        &kept,
        &[
            ErrorCode::NotAudio,
            ErrorCode::NotAudio,
            ErrorCode::JobFailed,
            ErrorCode::JobFailed,
        ],
    );
    assert_no_token_anywhere(&errors.iter().collect::<Vec<_>>());
}

#[tokio::test]
async fn together_and_deepinfra_transcribe_routed_and_with_their_own_key() {
    use hf_double::speech::{OPENAI_STT_HUB_ID, OPENAI_TRANSCRIPT};
    let f = on_double().await;
    let mut errors = Vec::new();
    let wav = test_wav();
    let chosen = f
        .services
        .speech_audio_put(Some("hello.wav".into()), base64_of(&wav))
        .await
        .unwrap();
    let file = chosen.audio.file.clone();
    for provider in ["together", "deepinfra"] {
        f.double.clear_requests();
        let r = f
            .services
            .transcribe(stt(OPENAI_STT_HUB_ID, pinned(provider), &file))
            .await
            .unwrap();
        assert_eq!((r.mode, r.provider.as_str()), (CallMode::Routed, provider));
        assert_eq!(r.text, OPENAI_TRANSCRIPT);
        assert_eq!(r.segments.len(), 1);
        assert_eq!(
            (r.segments[0].start, r.segments[0].end),
            (Some(0.0), Some(1.0))
        );
        assert_eq!(r.language.as_deref(), Some("english"));
        let reqs = f.double.requests();
        let post = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            post.path,
            format!(
                "/router/{provider}/{}",
                openai_path(provider, SpeechKind::Stt)
            )
        );
        assert!(post
            .header("content-type")
            .unwrap()
            .starts_with("multipart/form-data; boundary="));
        assert!(post
            .body
            .contains(&format!("name=\"model\"\r\n\r\n{OPENAI_STT_HUB_ID}\r\n")));
        assert!(post
            .body
            .contains("name=\"response_format\"\r\n\r\nverbose_json\r\n"));
        assert!(post
            .body
            .contains("name=\"file\"; filename=\"audio.wav\"\r\nContent-Type: audio/wav"));
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
        );

        f.services
            .provider_set(provider.into(), true, ProviderMode::OwnKey)
            .await
            .unwrap();
        f.services
            .secrets
            .set(
                &provider_key_entry(provider),
                &Secret::new(tokens::PROVIDER_KEY.into()),
                Storage::Keyring,
            )
            .unwrap();
        f.double.clear_requests();
        let r = f
            .services
            .transcribe(stt(OPENAI_STT_HUB_ID, pinned(provider), &file))
            .await
            .unwrap();
        assert_eq!((r.mode, r.billing), (CallMode::OwnKey, Billing::Provider));
        assert_eq!(r.text, OPENAI_TRANSCRIPT);
        let reqs = f.double.requests();
        let post = reqs.iter().find(|r| r.method == "POST").unwrap();
        assert_eq!(
            post.path,
            format!(
                "/direct/{provider}/{}",
                openai_path(provider, SpeechKind::Stt)
            )
        );
        assert_eq!(
            post.header("authorization"),
            Some(format!("Bearer {}", tokens::PROVIDER_KEY).as_str())
        );
        assert_no_hf_token_sent(&reqs);

        // The provider cannot decode the audio; then it fails.
        f.double.push_fault(
            Fault::status(
                400,
                r#"{"error":"Unsupported audio format: the file could not be decoded"}"#,
            )
            .scope(Scope::Speech)
            .once(),
        );
        let e = f
            .services
            .transcribe(stt(OPENAI_STT_HUB_ID, pinned(provider), &file))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::NotAudio, "{}", e.message);
        errors.push(e);
        f.double.push_fault(
            Fault::new(
                Scope::Speech,
                FaultKind::JobFails {
                    message: "CUDA out of memory".into(),
                },
            )
            .once(),
        );
        let e = f
            .services
            .transcribe(stt(OPENAI_STT_HUB_ID, pinned(provider), &file))
            .await
            .unwrap_err();
        assert_eq!(e.code, ErrorCode::JobFailed, "{}", e.message);
        errors.push(e);
    }
    let kept = f.services.speech_list(50).await.unwrap();
    assert_eq!(kept.len(), 8);
    assert_failed_runs_kept(
        &kept,
        &[
            ErrorCode::NotAudio,
            ErrorCode::NotAudio,
            ErrorCode::JobFailed,
            ErrorCode::JobFailed,
        ],
    );
    assert_no_token_anywhere(&errors.iter().collect::<Vec<_>>());
}

/// The runs kept as failed have errors of these codes (in any order), each in words; every
/// other run is complete.
fn assert_failed_runs_kept(
    runs: &[switchboard_core::history::speech::SpeechRecord],
    codes: &[ErrorCode],
) {
    let mut got: Vec<_> = runs
        .iter()
        .filter(|r| r.status == JobStatus::Error)
        .map(|r| {
            let e = r.error.as_ref().expect("a failed run keeps its error");
            assert!(!e.message.is_empty());
            e.code
        })
        .collect();
    let mut want = codes.to_vec();
    got.sort_by_key(|c| format!("{c:?}"));
    want.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(got, want, "failed runs kept");
    assert!(runs
        .iter()
        .filter(|r| r.status != JobStatus::Error)
        .all(|r| r.status == JobStatus::Complete && r.error.is_none()));
}

fn base64_of(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}

#[tokio::test]
async fn failures_each_have_their_own_code_stay_in_the_ledger_and_are_kept_with_their_error() {
    let f = on_double().await;
    let mut errors = Vec::new();
    // Not audio, by its content (the name says .wav): refused before any request.
    let fake = f.dir.path().join("not-audio.wav");
    std::fs::write(&fake, b"<html>this is not a recording</html>").unwrap();
    let e = f.services.speech_audio_from_file(fake).await.unwrap_err();
    assert_eq!(e.code, ErrorCode::NotAudio);
    errors.push(e);
    let e = f
        .services
        .speech_audio_put(None, base64_of(b"\x89PNG\r\n\x1a\nnot audio"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotAudio);
    errors.push(e);
    // A name that is not a kept file's is never read.
    let e = f
        .services
        .transcribe(stt(WAV2VEC, pinned("hf-inference"), "../history.sqlite3"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    errors.push(e);
    assert!(f.double.requests().iter().all(|r| r.method != "POST"));

    let chosen = f
        .services
        .speech_audio_put(None, base64_of(&test_wav()))
        .await
        .unwrap();
    // The provider cannot decode the audio it was sent.
    f.double.push_fault(
        Fault::status(400, r#"{"error":"Malformed soundfile"}"#)
            .scope(Scope::Speech)
            .once(),
    );
    let e = f
        .services
        .transcribe(stt(WAV2VEC, pinned("hf-inference"), &chosen.audio.file))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::NotAudio, "{}", e.message);
    errors.push(e);
    // The fal job fails.
    f.double.push_fault(
        Fault::new(
            Scope::Speech,
            FaultKind::JobFails {
                message: "CUDA out of memory".into(),
            },
        )
        .once(),
    );
    let e = f
        .services
        .transcribe(stt(WHISPER, pinned("fal-ai"), &chosen.audio.file))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::JobFailed, "{}", e.message);
    assert!(e.message.contains("CUDA out of memory"));
    errors.push(e);
    // The Replicate prediction times out at the provider.
    f.double.push_fault(
        Fault::new(
            Scope::Speech,
            FaultKind::JobFails {
                message: "Prediction timed out".into(),
            },
        )
        .once(),
    );
    let e = f
        .services
        .synthesize(tts(
            hf_double::speech::KOKORO_HUB_ID,
            pinned("replicate"),
            "Hi",
        ))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    errors.push(e);
    // A job that never ends: the app stops waiting.
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        job_timeout: Duration::from_millis(300),
        ..ImageOptions::default()
    });
    f.double
        .push_fault(Fault::new(Scope::Speech, FaultKind::JobStall));
    let e = f
        .services
        .transcribe(stt(WHISPER, pinned("fal-ai"), &chosen.audio.file))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    errors.push(e);
    f.double.clear_faults();
    fast(&f.services);
    // A provider the app cannot ask for this task, said before any request.
    let e = f
        .services
        .synthesize(tts(VITS, pinned("nscale"), "Hi"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::ModelUnavailable);
    errors.push(e);
    let e = f
        .services
        .synthesize(tts(VITS, pinned("hf-inference"), "   "))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::InvalidRequest);
    errors.push(e);
    // The router refuses the token.
    f.double
        .push_fault(Fault::unauthorized().scope(Scope::Speech).once());
    let e = f
        .services
        .synthesize(tts(VITS, pinned("hf-inference"), "Hi"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Unauthorized);
    errors.push(e);

    // Every call that reached a provider is in the ledger, failed, with its own code.
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let mut codes = rows
        .iter()
        .filter(|r| matches!(r.kind, CallKind::SpeechToText | CallKind::TextToSpeech))
        .map(|r| {
            assert_eq!(r.status, "error");
            assert_eq!(r.cost, None);
            r.error_code.unwrap()
        })
        .collect::<Vec<_>>();
    codes.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        codes,
        vec![
            ErrorCode::JobFailed,
            ErrorCode::NotAudio,
            ErrorCode::Timeout,
            ErrorCode::Timeout,
            ErrorCode::Unauthorized
        ]
    );
    drop(h);
    // A call refused before any request is not kept; each that reached a provider is kept
    // failed, with the same error the call answered.
    let kept = f.services.speech_list(10).await.unwrap();
    let mut kept_codes: Vec<_> = kept
        .iter()
        .map(|r| {
            assert_eq!(r.status, JobStatus::Error);
            r.error.as_ref().unwrap().code
        })
        .collect();
    kept_codes.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(kept_codes, codes);
    assert!(kept.iter().any(|r| r
        .error
        .as_ref()
        .unwrap()
        .message
        .contains("CUDA out of memory")));
    let refs = errors.iter().collect::<Vec<_>>();
    assert_no_token_anywhere(&refs);
    // The next call works.
    let ok = f
        .services
        .transcribe(stt(WAV2VEC, pinned("hf-inference"), &chosen.audio.file))
        .await
        .unwrap();
    assert!(!ok.text.is_empty());
}

#[tokio::test]
async fn deleting_a_run_deletes_its_audio_once_no_other_run_names_it() {
    let f = on_double().await;
    let chosen = f
        .services
        .speech_audio_put(Some("a.wav".into()), base64_of(&test_wav()))
        .await
        .unwrap();
    let path = f.services.media_dir().join(&chosen.audio.file);
    let one = f
        .services
        .transcribe(stt(WAV2VEC, pinned("hf-inference"), &chosen.audio.file))
        .await
        .unwrap();
    let two = f
        .services
        .transcribe(stt(WAV2VEC, pinned("hf-inference"), &chosen.audio.file))
        .await
        .unwrap();
    f.services.speech_delete(one.id.clone()).await.unwrap();
    assert!(path.exists(), "still named by the other run");
    assert_eq!(f.services.speech_list(10).await.unwrap(), vec![two.clone()]);
    f.services.speech_delete(two.id.clone()).await.unwrap();
    assert!(!path.exists());
    assert!(f.services.speech_list(10).await.unwrap().is_empty());
    // Twice is fine.
    f.services.speech_delete(two.id).await.unwrap();
}

/// The requests to the double's external hosts (the audio downloads) carry no credential.
fn assert_downloads_bare(reqs: &[hf_double::RecordedRequest], host: &str) {
    let gets: Vec<_> = reqs
        .iter()
        .filter(|r| r.path.starts_with(&format!("/ext/{host}/")))
        .collect();
    assert_eq!(gets.len(), 1, "one download from {host}");
    for g in gets {
        assert_eq!(g.method, "GET");
        assert_eq!(g.header("authorization"), None);
        for (_, v) in &g.headers {
            for secret in [tokens::FREE_TOKEN, tokens::PROVIDER_KEY] {
                assert!(!v.contains(secret), "a credential went to {}", g.path);
            }
        }
    }
}

#[tokio::test]
async fn fal_speaks_text_through_its_queue_routed_and_with_its_own_key() {
    use hf_double::speech::{tts_wav, FAL_TTS, KOKORO_HUB_ID};
    let f = on_double().await;
    let mut errors = Vec::new();

    // Routed: the HF token to the router's fal queue; polled; the audio fetched bare.
    let mut req = tts(KOKORO_HUB_ID, pinned("fal-ai"), "Hello from fal");
    req.voice = Some("af_heart".into());
    let r = f.services.synthesize(req).await.unwrap();
    assert_eq!((r.mode, r.provider.as_str()), (CallMode::Routed, "fal-ai"));
    assert_eq!(r.billing, Billing::HfCredits);
    assert_eq!(
        (r.kind, r.text.as_str()),
        (SpeechKind::Tts, "Hello from fal")
    );
    assert_eq!(r.voice.as_deref(), Some("af_heart"));
    assert_eq!(r.audio.mime, "audio/wav");
    let made = std::fs::read(f.services.media_dir().join(&r.audio.file)).unwrap();
    assert_eq!(made, tts_wav(), "kept as made, by its bytes");
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, format!("/router/fal-ai/{FAL_TTS}"));
    assert_eq!(post.query.as_deref(), Some("_subdomain=queue"));
    assert_eq!(
        post.json().unwrap(),
        serde_json::json!({"text": "Hello from fal", "voice": "af_heart"})
    );
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
    );
    let polls = reqs.iter().filter(|r| r.path.ends_with("/status")).count();
    assert!(polls >= 2, "the job waits a few polls ({polls})");
    assert!(reqs.iter().any(|r| r.method == "GET"
        && r.path
            .starts_with(&format!("/router/fal-ai/{FAL_TTS}/requests/"))
        && !r.path.ends_with("/status")));
    assert_downloads_bare(&reqs, "v3.fal.media");

    // Own key: straight to fal's queue with `Key …`, never the HF token; the audio fetched bare.
    f.services
        .provider_set("fal-ai".into(), true, ProviderMode::OwnKey)
        .await
        .unwrap();
    f.services
        .secrets
        .set(
            &provider_key_entry("fal-ai"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    f.double.clear_requests();
    let r = f
        .services
        .synthesize(tts(KOKORO_HUB_ID, pinned("fal-ai"), "Hello with my key"))
        .await
        .unwrap();
    assert_eq!((r.mode, r.billing), (CallMode::OwnKey, Billing::Provider));
    let made = std::fs::read(f.services.media_dir().join(&r.audio.file)).unwrap();
    assert_eq!(made, tts_wav());
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, format!("/direct/fal-ai/{FAL_TTS}"));
    assert_eq!(post.json().unwrap()["text"], "Hello with my key");
    assert_eq!(
        post.header("authorization"),
        Some(format!("Key {}", tokens::PROVIDER_KEY).as_str())
    );
    assert!(reqs
        .iter()
        .filter(|r| r.path.starts_with("/direct/"))
        .all(
            |r| r.header("authorization") == Some(format!("Key {}", tokens::PROVIDER_KEY).as_str())
        ));
    assert_no_hf_token_sent(&reqs);
    assert_downloads_bare(&reqs, "v3.fal.media");

    // The job fails: the provider's words, plainly; the run kept with them, no audio.
    f.double.push_fault(
        Fault::new(
            Scope::Speech,
            FaultKind::JobFails {
                message: "CUDA out of memory".into(),
            },
        )
        .once(),
    );
    let e = f
        .services
        .synthesize(tts(KOKORO_HUB_ID, pinned("fal-ai"), "Hi"))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::JobFailed, "{}", e.message);
    assert_eq!(e.message, "The job failed at fal: “CUDA out of memory”.");
    let kept = f.services.speech_list(10).await.unwrap();
    assert_eq!(kept.len(), 3);
    assert_failed_runs_kept(&kept, &[ErrorCode::JobFailed]);
    assert_eq!(kept[0].error.as_ref(), Some(&e));
    assert_eq!((kept[0].text.as_str(), kept[0].audio.bytes), ("Hi", 0));
    errors.push(e);
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let tts_rows: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == CallKind::TextToSpeech)
        .collect();
    assert_eq!(tts_rows.len(), 3);
    assert!(tts_rows
        .iter()
        .all(|r| r.provider.as_deref() == Some("fal-ai") && r.cost.is_none()));
    drop(h);
    assert_no_token_anywhere(&errors.iter().collect::<Vec<_>>());
}

#[tokio::test]
async fn replicate_transcribes_with_segments_routed_and_with_its_own_key() {
    use hf_double::speech::{
        REPLICATE_SEGMENTS, REPLICATE_STT_HUB_ID, REPLICATE_TRANSCRIPT, REPLICATE_WHISPER_VERSION,
    };
    let f = on_double().await;
    let mut errors = Vec::new();
    assert_eq!(
        f.services
            .speech_providers(SpeechKind::Stt, REPLICATE_STT_HUB_ID)
            .await,
        ["hf-inference", "replicate"]
    );
    let wav = test_wav();
    let chosen = f
        .services
        .speech_audio_put(Some("hello.wav".into()), base64_of(&wav))
        .await
        .unwrap();
    let file = chosen.audio.file.clone();

    // Routed: a prediction by the Hub's version, `Prefer: wait`, the audio as a data: URL; it
    // starts, is polled, and its output read with the segments' times.
    let r = f
        .services
        .transcribe(stt(REPLICATE_STT_HUB_ID, pinned("replicate"), &file))
        .await
        .unwrap();
    assert_eq!(
        (r.mode, r.provider.as_str()),
        (CallMode::Routed, "replicate")
    );
    assert_eq!(r.kind, SpeechKind::Stt);
    assert_eq!(r.text, REPLICATE_TRANSCRIPT);
    let segs: Vec<_> = r
        .segments
        .iter()
        .map(|s| (s.start.unwrap(), s.end.unwrap(), s.text.as_str()))
        .collect();
    assert_eq!(segs, REPLICATE_SEGMENTS);
    assert_eq!(r.language.as_deref(), Some("english"));
    assert_eq!(r.audio.file, file);
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/router/replicate/v1/predictions");
    assert_eq!(post.header("prefer"), Some("wait"));
    let body = post.json().unwrap();
    assert_eq!(body["version"], REPLICATE_WHISPER_VERSION);
    assert_eq!(
        body["input"]["audio"],
        format!("data:audio/wav;base64,{}", base64_of(&wav)),
        "the very bytes of the WAV"
    );
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
    );
    let polls = reqs
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with("/router/replicate/v1/predictions/"))
        .count();
    assert!(polls >= 2, "the prediction waits a few polls ({polls})");
    // Its transcript exports with the times.
    let txt = f
        .services
        .speech_export(r.id.clone(), SpeechExportFormat::Txt)
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(txt.bytes).unwrap(),
        "[0:00.0 → 0:01.2] A man said to the universe,\n[0:01.2 → 0:02.4] Sir, I exist.\n"
    );

    // Own key: straight to Replicate with its key, never the HF token.
    f.services
        .provider_set("replicate".into(), true, ProviderMode::OwnKey)
        .await
        .unwrap();
    f.services
        .secrets
        .set(
            &provider_key_entry("replicate"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    f.double.clear_requests();
    let r = f
        .services
        .transcribe(stt(REPLICATE_STT_HUB_ID, pinned("replicate"), &file))
        .await
        .unwrap();
    assert_eq!((r.mode, r.billing), (CallMode::OwnKey, Billing::Provider));
    assert_eq!(r.text, REPLICATE_TRANSCRIPT);
    assert_eq!(r.segments.len(), 2);
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/direct/replicate/v1/predictions");
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {}", tokens::PROVIDER_KEY).as_str())
    );
    assert_no_hf_token_sent(&reqs);

    // The prediction fails: the provider's words, plainly.
    f.double.push_fault(
        Fault::new(
            Scope::Speech,
            FaultKind::JobFails {
                message: "CUDA out of memory".into(),
            },
        )
        .once(),
    );
    let e = f
        .services
        .transcribe(stt(REPLICATE_STT_HUB_ID, pinned("replicate"), &file))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::JobFailed, "{}", e.message);
    assert_eq!(
        e.message,
        "The job failed at Replicate: “CUDA out of memory”."
    );
    errors.push(e);

    // A prediction that never ends: the app stops waiting and cancels it at Replicate.
    f.services.images.set_options(ImageOptions {
        poll_interval: Duration::from_millis(20),
        job_timeout: Duration::from_millis(300),
        ..ImageOptions::default()
    });
    f.double
        .push_fault(Fault::new(Scope::Speech, FaultKind::JobStall));
    f.double.clear_requests();
    let e = f
        .services
        .transcribe(stt(REPLICATE_STT_HUB_ID, pinned("replicate"), &file))
        .await
        .unwrap_err();
    assert_eq!(e.code, ErrorCode::Timeout, "{}", e.message);
    errors.push(e);
    f.double.clear_faults();
    let reqs = f.double.requests();
    let cancel = reqs
        .iter()
        .find(|r| r.path.ends_with("/cancel"))
        .expect("the prediction cancelled");
    assert_eq!(cancel.method, "POST");
    assert!(cancel.path.starts_with("/direct/replicate/v1/predictions/"));
    assert_eq!(
        cancel.header("authorization"),
        Some(format!("Bearer {}", tokens::PROVIDER_KEY).as_str())
    );
    fast(&f.services);

    let kept = f.services.speech_list(10).await.unwrap();
    assert_eq!(kept.len(), 4);
    let failed: Vec<_> = kept
        .iter()
        .filter_map(|r| r.error.as_ref().map(|e| e.code))
        .collect();
    assert_eq!(
        failed,
        [ErrorCode::Timeout, ErrorCode::JobFailed],
        "newest first"
    );
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let mut codes: Vec<_> = rows
        .iter()
        .filter(|r| r.kind == CallKind::SpeechToText)
        .map(|r| r.error_code)
        .collect();
    codes.sort_by_key(|c| format!("{c:?}"));
    assert_eq!(
        codes,
        vec![
            None,
            None,
            Some(ErrorCode::JobFailed),
            Some(ErrorCode::Timeout)
        ]
    );
    drop(h);
    assert_no_token_anywhere(&errors.iter().collect::<Vec<_>>());
}

/// Drives `call` until the newest kept run reads `until` (the call still going), then drops it:
/// the app ends in the middle of the call. Answers the run as saved then.
async fn cut_when<F: std::future::Future>(
    s: &Services,
    call: F,
    until: JobStatus,
) -> switchboard_core::history::speech::SpeechRecord
where
    F::Output: std::fmt::Debug,
{
    let h = s.history.wait().await.unwrap();
    tokio::pin!(call);
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            tokio::select! {
                r = &mut call => panic!("the call ended before it was cut: {r:?}"),
                _ = tokio::time::sleep(Duration::from_millis(10)) => {
                    if let Some(r) = h.speech_runs(1).unwrap().pop() {
                        if r.status == until {
                            return r;
                        }
                    }
                }
            }
        }
    })
    .await
    .expect("the run was saved open")
}

#[tokio::test]
async fn a_job_resumes_after_the_app_ends_mid_job() {
    let f = on_double().await;
    let chosen = f
        .services
        .speech_audio_put(Some("hello.wav".into()), base64_of(&test_wav()))
        .await
        .unwrap();
    let file = chosen.audio.file.clone();
    // fal's queue job stalls; the app ends while it waits on it.
    f.double
        .push_fault(Fault::new(Scope::Speech, FaultKind::JobStall));
    let saved = cut_when(
        &f.services,
        f.services.transcribe(stt(WHISPER, pinned("fal-ai"), &file)),
        JobStatus::Queued,
    )
    .await;
    // Saved before the request went out, with the provider's job before the app waited.
    assert_eq!(
        (saved.kind, saved.provider.as_str()),
        (SpeechKind::Stt, "fal-ai")
    );
    assert_eq!(saved.audio.file, file);
    assert_eq!(saved.audio_name.as_deref(), Some("hello.wav"));
    assert!(saved.text.is_empty() && saved.error.is_none());
    let h = f.services.history.wait().await.unwrap();
    let open = h.open_speech_runs().unwrap();
    assert_eq!(open.len(), 1);
    let job = open[0].1.provider_job.clone().expect("the provider's job");
    assert!(job.poll_url.is_some() && job.id.is_some());
    drop(h);
    // A transcript from HF Inference (no job to come back to) cut the same way.
    f.double.clear_faults();
    f.double
        .push_fault(Fault::new(Scope::Speech, FaultKind::Hang));
    let lost = cut_when(
        &f.services,
        f.services
            .transcribe(stt(WAV2VEC, pinned("hf-inference"), &file)),
        JobStatus::Submitting,
    )
    .await;
    assert_eq!(lost.provider, "hf-inference");
    f.double.clear_faults();

    let OnDouble {
        double,
        services,
        store,
        dir,
    } = f;
    drop(services);
    double.clear_requests();

    // The app starts again on the same data folder, not signed in yet: the job the provider
    // holds stays open for later, nothing is sent; the cut synchronous call is interrupted.
    let services = restart(&double, store, dir.path());
    let marked = services.speech_resume().await.unwrap();
    assert_eq!(marked.len(), 1);
    assert_eq!(marked[0].id, lost.id);
    assert!(double.requests().is_empty(), "{:?}", double.requests());
    let runs = services.speech_list(10).await.unwrap();
    let still = runs.iter().find(|r| r.id == saved.id).unwrap();
    assert_eq!(still.status, JobStatus::Queued);
    let cut = runs.iter().find(|r| r.id == lost.id).unwrap();
    assert_eq!(cut.status, JobStatus::Interrupted);
    let e = cut.error.as_ref().unwrap();
    assert_eq!(e.code, ErrorCode::JobFailed);
    assert!(
        e.message.starts_with("Switchboard closed before the provider answered, and this provider gives no job to come back to:")
            && e.message.ends_with("Send it again."),
        "{}",
        e.message
    );

    // Signed in: polled again and finished, never sent again.
    services
        .sign_in(tokens::FREE_TOKEN.to_string(), true)
        .await
        .unwrap();
    double.clear_requests();
    let done = tokio::time::timeout(Duration::from_secs(20), services.speech_resume())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.len(), 1);
    let r = &done[0];
    assert_eq!(r.id, saved.id);
    assert_eq!(r.status, JobStatus::Complete, "{:?}", r.error);
    assert_eq!(r.text, "A man said to the universe, Sir, I exist.");
    assert_eq!(r.segments.len(), 1);
    assert_eq!(r.audio.file, file);
    assert!(r.total_ms.is_some());
    assert_eq!(
        services.speech_list(10).await.unwrap()[..]
            .iter()
            .find(|x| x.id == r.id),
        Some(r)
    );
    let reqs = double.requests();
    assert!(reqs.iter().all(|q| q.method != "POST"), "never sent again");
    assert!(reqs.iter().any(|q| q.path.ends_with("/status")));
    // Its ledger row, once, when it ended.
    let h = services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let stt_rows: Vec<_> = rows
        .iter()
        .filter(|q| q.kind == CallKind::SpeechToText && q.status == "complete")
        .collect();
    assert_eq!(stt_rows.len(), 1);
    assert_eq!(stt_rows[0].provider.as_deref(), Some("fal-ai"));
    assert!(h.open_speech_runs().unwrap().is_empty());
    drop(h);
    // Nothing left to resume; the open run was never exported, the finished one is.
    assert!(services.speech_resume().await.unwrap().is_empty());
    let backup = services.history_export_all_text().unwrap();
    let file = switchboard_core::history::export::from_json(backup.as_bytes()).unwrap();
    let mut ids: Vec<_> = file.speech.iter().map(|x| x.id.clone()).collect();
    ids.sort();
    let mut want = vec![saved.id.clone(), lost.id.clone()];
    want.sort();
    assert_eq!(ids, want);
    assert_no_token_anywhere(&[]);
}

/// A run still waiting on its provider is not in a backup.
#[tokio::test]
async fn an_open_run_is_not_exported() {
    let f = on_double().await;
    let chosen = f
        .services
        .speech_audio_put(Some("hello.wav".into()), base64_of(&test_wav()))
        .await
        .unwrap();
    f.double
        .push_fault(Fault::new(Scope::Speech, FaultKind::JobStall));
    let saved = cut_when(
        &f.services,
        f.services
            .transcribe(stt(WHISPER, pinned("fal-ai"), &chosen.audio.file)),
        JobStatus::Queued,
    )
    .await;
    f.double.clear_faults();
    let backup = f.services.history_export_all_text().unwrap();
    let file = switchboard_core::history::export::from_json(backup.as_bytes()).unwrap();
    assert!(file.speech.iter().all(|r| r.id != saved.id));
    assert!(file.media.is_empty(), "no audio of an open run");
}

/// Text to speech through fal's queue, cut while it waits: the next start polls the job again,
/// downloads the audio made (with no credential) and keeps it; never sent again.
#[tokio::test]
async fn speech_made_resumes_after_the_app_ends_mid_job() {
    use hf_double::speech::{tts_wav, KOKORO_HUB_ID};
    let f = on_double().await;
    f.double
        .push_fault(Fault::new(Scope::Speech, FaultKind::JobStall));
    let mut req = tts(KOKORO_HUB_ID, pinned("fal-ai"), "Hello after a restart");
    req.voice = Some("af_heart".into());
    let saved = cut_when(&f.services, f.services.synthesize(req), JobStatus::Queued).await;
    assert_eq!(saved.kind, SpeechKind::Tts);
    assert_eq!(saved.text, "Hello after a restart");
    assert_eq!(saved.voice.as_deref(), Some("af_heart"));
    assert_eq!((saved.audio.file.as_str(), saved.audio.bytes), ("", 0));
    f.double.clear_faults();
    let OnDouble {
        double,
        services,
        store,
        dir,
    } = f;
    drop(services);
    let services = restart(&double, store, dir.path());
    services
        .sign_in(tokens::FREE_TOKEN.to_string(), true)
        .await
        .unwrap();
    double.clear_requests();
    let done = tokio::time::timeout(Duration::from_secs(20), services.speech_resume())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.len(), 1);
    let r = &done[0];
    assert_eq!(r.id, saved.id);
    assert_eq!(r.status, JobStatus::Complete, "{:?}", r.error);
    assert_eq!(r.audio.mime, "audio/wav");
    let made = std::fs::read(services.media_dir().join(&r.audio.file)).unwrap();
    assert_eq!(made, tts_wav());
    let reqs = double.requests();
    assert!(reqs.iter().all(|q| q.method != "POST"), "never sent again");
    assert_downloads_bare(&reqs, "v3.fal.media");
    assert_eq!(services.speech_list(10).await.unwrap(), vec![r.clone()]);
    let h = services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    assert_eq!(
        rows.iter()
            .filter(|q| q.kind == CallKind::TextToSpeech && q.status == "complete")
            .count(),
        1
    );
}
