//! Speech to text and text to speech, from the recorded `automatic_speech_recognition*.yaml` and
//! `text_to_speech*.yaml` cassettes, with the faults of [`Scope::Speech`].
//!
//! - hf-inference, speech to text: `POST hf-inference/models/{model}` with the audio's raw bytes
//!   answers the recorded `{"text": …}` (the model's own recording, else the recorded
//!   wav2vec2 one); bytes that are not audio (by their content) answer 400
//!   `{"error": "Malformed soundfile"}`.
//! - hf-inference, text to speech: `POST hf-inference/models/{model}` `{"inputs": text}` for a
//!   text-to-speech model answers the recorded FLAC bytes (`audio/flac`).
//! - fal-ai, speech to text (`fal-ai/whisper`, routed or direct): `{audio_url: data:…}`. With
//!   the queue (routed `?_subdomain=queue`, always direct): `{request_id, status_url,
//!   response_url, cancel_url}`, then `…/status` (`IN_QUEUE`, `IN_PROGRESS`, `COMPLETED`) and
//!   the recorded transcript (text, chunks with timestamps) at the response URL. A routed POST
//!   without the queue answers the recording at once. Audio that is not audio answers 422.
//! - replicate, text to speech (`jaaari/kokoro-82m`, by version or model route): the recorded
//!   `starting` prediction (202), then `GET v1/predictions/{id}` answers `processing` and then
//!   `succeeded` with an output URL under `/ext/replicate.delivery/…` serving a WAV the double
//!   makes ([`tts_wav`]: the recording stops before the prediction ended).
//!
//! - fal-ai, text to speech ([`FAL_TTS`], routed or direct, not recorded): `{text, voice?}`;
//!   the queue as for speech to text, then `{audio: {url, content_type, file_name,
//!   file_size}}` at the response URL, the URL under `/ext/v3.fal.media/speech/{id}/output.wav`
//!   serving [`tts_wav`]; a routed POST without the queue answers the audio object at once.
//!   No `text` answers 422.
//! - replicate, speech to text ([`REPLICATE_WHISPER`], by version or model route, not
//!   recorded): `{input: {audio: data:…}}` answers 201 `starting`, then `GET
//!   v1/predictions/{id}` `processing` and `succeeded` with openai/whisper's output
//!   ([`replicate_whisper_output`]: `transcription`, two `segments` with times,
//!   `detected_language`); audio that is not audio answers 422.
//!
//! - together, deepinfra (OpenAI-style, routed or direct; together `v1/audio/…`, deepinfra
//!   `v1/openai/audio/…`), not recorded: text to speech (`…/speech`, `{model, input}`) answers
//!   the WAV the double makes ([`tts_wav`], `audio/wav`); speech to text (`…/transcriptions`,
//!   multipart with a `file` part) answers [`OPENAI_TRANSCRIPT`] (`verbose_json`, segments),
//!   and a `file` that is not audio 400. The models: [`OPENAI_TTS_HUB_ID`] and
//!   [`OPENAI_STT_HUB_ID`], mapped to both providers ([`synthetic_hub_model`]).
//!
//! Faults ([`Scope::Speech`]): a status or a hang on the first request; `JobFails` (fal: the
//! result answers 500 `{"detail"}`; Replicate: `failed`; HF Inference: 500 `{"error"}`),
//! `JobPending`, `JobStall`.

use crate::fault::{FaultKind, Scope};
use crate::lock;
use crate::Shared;
use axum::body::Bytes;
use axum::http::Method;
use axum::response::Response;
use base64::Engine as _;
use serde_json::{json, Value};
use std::sync::Arc;

/// The recorded Replicate text-to-speech model (kokoro) and its version.
pub const KOKORO: &str = "jaaari/kokoro-82m";
pub const KOKORO_VERSION: &str = "dfdf537ba482b029e0a761699e6f55e9162cfd159270bfe0e44857caa5f275a6";
/// The Hub id the double maps to [`KOKORO`] on Replicate and to [`FAL_TTS`] on fal (not
/// recorded: from the reference).
pub const KOKORO_HUB_ID: &str = "hexgrad/Kokoro-82M";
/// fal's text-to-speech model for [`KOKORO_HUB_ID`] (not recorded).
pub const FAL_TTS: &str = "fal-ai/kokoro/american-english";

/// Replicate's speech-to-text model and the version the Hub maps to (not recorded).
pub const REPLICATE_WHISPER: &str = "openai/whisper";
pub const REPLICATE_WHISPER_VERSION: &str =
    "8099696689d249cf8b122d833c36ac3f75505c666a395ca40ef26f68e7d3d16e";
/// The Hub id the double maps to [`REPLICATE_WHISPER`] on Replicate. Not
/// `openai/whisper-large-v3`: its recorded mapping (fal-ai, hf-inference) is replayed as recorded.
pub const REPLICATE_STT_HUB_ID: &str = "openai/whisper-large-v2";
/// The transcript Replicate's whisper answers, and its two segments (start, end, text).
pub const REPLICATE_TRANSCRIPT: &str = "A man said to the universe, Sir, I exist.";
pub const REPLICATE_SEGMENTS: [(f64, f64, &str); 2] = [
    (0.0, 1.2, "A man said to the universe,"),
    (1.2, 2.4, "Sir, I exist."),
];

/// A text-to-speech model the double maps to Together and DeepInfra (not recorded).
pub const OPENAI_TTS_HUB_ID: &str = "canopylabs/orpheus-3b-0.1-ft";
/// A speech-to-text model the double maps to Together and DeepInfra (not recorded).
pub const OPENAI_STT_HUB_ID: &str = "openai/whisper-large-v3-turbo";
/// The transcript the OpenAI-style providers answer (`verbose_json`).
pub const OPENAI_TRANSCRIPT: &str = "A man said to the universe, Sir, I exist.";

/// The recorded answer to the Replicate prediction (202, `starting`, `Prefer: wait` expired).
const REPLICATE_STARTING: &str = r#"{"id":"2ea92hmwgnrga0cmpp9rj00evw","model":"jaaari/kokoro-82m","version":"dfdf537ba482b029e0a761699e6f55e9162cfd159270bfe0e44857caa5f275a6","input":{"text":"Hello world"},"logs":"","output":null,"data_removed":false,"error":null,"status":"starting","created_at":"2025-01-30T04:58:57.541Z","urls":{"cancel":"https://api.replicate.com/v1/predictions/2ea92hmwgnrga0cmpp9rj00evw/cancel","get":"https://api.replicate.com/v1/predictions/2ea92hmwgnrga0cmpp9rj00evw","stream":"https://stream.replicate.com/v1/files/fddq-nqlca5tr3pyj4e4xvb4sdnvtzdiixcpycvkfpnglrw3i2qpceywq"}}"#;
const REPLICATE_RECORDED_ID: &str = "2ea92hmwgnrga0cmpp9rj00evw";

/// The transcript hf-inference answers for a model with no recording of its own.
const RECORDED_ASR_MODEL: &str = "jonatasgrosman/wav2vec2-large-xlsr-53-english";

/// What a speech job makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Made {
    Transcript,
    Audio,
}

/// A speech job the double is running.
#[derive(Debug, Clone)]
pub(crate) struct SpeechJob {
    pub made: Made,
    pub routed: bool,
    pub route: String,
    pub polls_left: u32,
    pub polls_done: u32,
    pub stalled: bool,
    pub fail: Option<String>,
    pub canceled: bool,
    /// The prediction's input (Replicate), echoed in its answers.
    pub input: Value,
}

enum State {
    Pending,
    Done,
    Failed(String),
    Canceled,
}

impl SpeechJob {
    fn advance(&mut self, s: &Shared) -> State {
        if self.canceled {
            return State::Canceled;
        }
        if self.stalled {
            if lock(&s.faults)
                .iter()
                .any(|f| matches!(f.kind, FaultKind::JobStall))
            {
                self.polls_done += 1;
                return State::Pending;
            }
            self.stalled = false;
        }
        if self.polls_left > 0 {
            self.polls_left -= 1;
            self.polls_done += 1;
            return State::Pending;
        }
        self.peek()
    }

    fn peek(&self) -> State {
        if self.canceled {
            State::Canceled
        } else if self.polls_left > 0 || self.stalled {
            State::Pending
        } else if let Some(m) = &self.fail {
            State::Failed(m.clone())
        } else {
            State::Done
        }
    }
}

/// The WAV the double's Replicate text to speech makes: 0.6 s of a 440 Hz tone, 16 kHz mono.
pub fn tts_wav() -> Vec<u8> {
    let rate = 16_000u32;
    let samples: Vec<i16> = (0..rate * 6 / 10)
        .map(|i| {
            let t = f64::from(i) / f64::from(rate);
            ((t * 440.0 * std::f64::consts::TAU).sin() * 8000.0) as i16
        })
        .collect();
    wav(rate, &samples)
}

/// A PCM WAV file: mono, 16-bit.
pub fn wav(rate: u32, samples: &[i16]) -> Vec<u8> {
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::with_capacity(44 + data_len as usize);
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVEfmt ");
    b.extend_from_slice(&16u32.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&1u16.to_le_bytes());
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes());
    b.extend_from_slice(&2u16.to_le_bytes());
    b.extend_from_slice(&16u16.to_le_bytes());
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

/// A recorded audio answer's bytes: serde_yaml reads a `!!binary` body as its base64 text.
fn audio_body(body: &Bytes) -> Bytes {
    if is_audio(body) {
        return body.clone();
    }
    let compact: String = String::from_utf8_lossy(body)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .map(Bytes::from)
        .unwrap_or_else(|_| body.clone())
}

/// Whether `b` is audio, by its first bytes (as the app checks).
pub fn is_audio(b: &[u8]) -> bool {
    (b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE")
        || b.starts_with(b"fLaC")
        || b.starts_with(b"OggS")
        || b.starts_with(b"ID3")
        || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0)
        || (b.len() >= 12 && &b[4..8] == b"ftyp")
        || b.starts_with(b"\x1a\x45\xdf\xa3")
}

/// The task of `model` for `provider`: the mapping's, else the Hub's pipeline tag.
fn task_of(s: &Shared, provider: &str, model: &str) -> Option<String> {
    if model == KOKORO_HUB_ID || model == KOKORO || model == OPENAI_TTS_HUB_ID {
        return Some("text-to-speech".into());
    }
    if model == REPLICATE_STT_HUB_ID {
        return Some("automatic-speech-recognition".into());
    }
    if let Some(m) = s.fixtures.mapping(model) {
        if let Some(t) = m.get(provider).and_then(|e| e["task"].as_str()) {
            return Some(t.to_string());
        }
    }
    let full = s.fixtures.hub_models.get(model)?.full.as_ref()?;
    let v: Value = serde_json::from_slice(&full.body).ok()?;
    v["pipeline_tag"].as_str().map(str::to_string)
}

/// The recorded fal speech-to-text routes (`fal-ai/whisper`).
fn fal_asr_route(s: &Shared, route: &str) -> bool {
    s.fixtures
        .routed
        .get(&("POST".to_string(), format!("/fal-ai/{route}")))
        .is_some_and(|r| r.body_str().contains("\"text\""))
}

/// The Hub's answer for the model the double maps to Replicate's kokoro (not recorded).
pub(crate) fn synthetic_hub_model(id: &str) -> Option<Value> {
    for (hub, task) in [
        (OPENAI_TTS_HUB_ID, "text-to-speech"),
        (OPENAI_STT_HUB_ID, "automatic-speech-recognition"),
    ] {
        if id == hub {
            return Some(json!({
                "_id": hub.replace('/', "-"),
                "id": hub,
                "pipeline_tag": task,
                "inferenceProviderMapping": {
                    "together": {"status": "live", "providerId": hub, "task": task},
                    "deepinfra": {"status": "live", "providerId": hub, "task": task}
                }
            }));
        }
    }
    if id == REPLICATE_STT_HUB_ID {
        return Some(json!({
            "_id": "whisper-large-v2",
            "id": REPLICATE_STT_HUB_ID,
            "pipeline_tag": "automatic-speech-recognition",
            "inferenceProviderMapping": {
                "replicate": {"status": "live", "providerId": format!("{REPLICATE_WHISPER}:{REPLICATE_WHISPER_VERSION}"), "task": "automatic-speech-recognition"}
            }
        }));
    }
    // Replicate first: a call left to the app (auto) still goes to Replicate, as before fal
    // spoke text.
    (id == KOKORO_HUB_ID).then(|| {
        json!({
            "_id": "kokoro",
            "id": KOKORO_HUB_ID,
            "pipeline_tag": "text-to-speech",
            "inferenceProviderMapping": {
                "replicate": {"status": "live", "providerId": format!("{KOKORO}:{KOKORO_VERSION}"), "task": "text-to-speech"},
                "fal-ai": {"status": "live", "providerId": FAL_TTS, "task": "text-to-speech"}
            }
        })
    })
}

enum Kind {
    HfAsr(String),
    HfTts(String),
    FalCreate { queue: bool, made: Made },
    FalStatus(String),
    FalResult(String),
    Cancel(String),
    ReplicateCreate(Made),
    ReplicateGet(String),
    OpenAiTts,
    OpenAiStt,
}

/// The OpenAI-style audio routes: (speech, transcriptions).
fn openai_routes(provider: &str) -> Option<(&'static str, &'static str)> {
    match provider {
        "together" => Some(("v1/audio/speech", "v1/audio/transcriptions")),
        "deepinfra" => Some(("v1/openai/audio/speech", "v1/openai/audio/transcriptions")),
        _ => None,
    }
}

/// The bytes of the multipart part named `name`.
fn multipart_part<'a>(content_type: Option<&str>, body: &'a [u8], name: &str) -> Option<&'a [u8]> {
    let boundary = content_type?.split("boundary=").nth(1)?.trim_matches('"');
    let delim = format!("--{boundary}");
    let find = |hay: &[u8], needle: &[u8], from: usize| {
        hay.get(from..)?
            .windows(needle.len())
            .position(|w| w == needle)
            .map(|p| p + from)
    };
    let mut at = 0;
    while let Some(start) = find(body, delim.as_bytes(), at) {
        let head_start = start + delim.len();
        let head_end = find(body, b"\r\n\r\n", head_start)?;
        let head = String::from_utf8_lossy(&body[head_start..head_end]);
        let data_start = head_end + 4;
        let end = find(body, format!("\r\n{delim}").as_bytes(), data_start)?;
        if head.contains(&format!("name=\"{name}\"")) {
            return Some(&body[data_start..end]);
        }
        at = end + 2;
    }
    None
}

/// A request to a provider's speech route (router or direct).
pub(crate) struct SpeechCall<'a> {
    pub provider: &'a str,
    pub route: &'a str,
    pub query: Option<&'a str>,
    pub method: &'a Method,
    pub routed: bool,
    pub content_type: Option<&'a str>,
    pub body: &'a Bytes,
}

fn classify(s: &Shared, c: &SpeechCall<'_>) -> Option<Kind> {
    let post = c.method == Method::POST;
    match c.provider {
        "hf-inference" if post => {
            let model = c.route.strip_prefix("models/")?;
            if model.contains("/pipeline/") || model.ends_with("/chat/completions") {
                return None;
            }
            let task = task_of(s, "hf-inference", model);
            let json = c.content_type.is_some_and(|t| t.contains("json"));
            match task.as_deref() {
                Some("automatic-speech-recognition") => Some(Kind::HfAsr(model.to_string())),
                Some("text-to-speech") => Some(Kind::HfTts(model.to_string())),
                // Audio sent to any model is a transcript request.
                _ if !json && is_audio(c.body) => Some(Kind::HfAsr(model.to_string())),
                _ => None,
            }
        }
        "fal-ai" => {
            if let Some((_, rest)) = c.route.split_once("/requests/") {
                let mut parts = rest.split('/');
                let id = parts.next()?.to_string();
                if !lock(&s.speech_jobs).contains_key(&id) {
                    return None;
                }
                return match (c.method.as_str(), parts.next()) {
                    ("GET", Some("status")) => Some(Kind::FalStatus(id)),
                    ("GET", None) => Some(Kind::FalResult(id)),
                    ("PUT", Some("cancel")) => Some(Kind::Cancel(id)),
                    _ => None,
                };
            }
            let made = if c.route == FAL_TTS {
                Made::Audio
            } else if fal_asr_route(s, c.route) {
                Made::Transcript
            } else {
                return None;
            };
            post.then(|| Kind::FalCreate {
                queue: !c.routed || c.query.is_some_and(|q| q.contains("_subdomain=queue")),
                made,
            })
        }
        "replicate" => {
            if let Some(rest) = c.route.strip_prefix("v1/predictions/") {
                let mut parts = rest.split('/');
                let id = parts.next()?.to_string();
                if !lock(&s.speech_jobs).contains_key(&id) {
                    return None;
                }
                return match (c.method.as_str(), parts.next()) {
                    ("GET", None) => Some(Kind::ReplicateGet(id)),
                    ("POST", Some("cancel")) => Some(Kind::Cancel(id)),
                    _ => None,
                };
            }
            if !post {
                return None;
            }
            let version = (c.route == "v1/predictions")
                .then(|| serde_json::from_slice::<Value>(c.body).ok())
                .flatten()
                .and_then(|v| v["version"].as_str().map(str::to_string));
            let is = |model: &str, v: &str| {
                c.route == format!("v1/models/{model}/predictions") || version.as_deref() == Some(v)
            };
            if is(KOKORO, KOKORO_VERSION) {
                Some(Kind::ReplicateCreate(Made::Audio))
            } else if is(REPLICATE_WHISPER, REPLICATE_WHISPER_VERSION) {
                Some(Kind::ReplicateCreate(Made::Transcript))
            } else {
                None
            }
        }
        p if post => {
            let (speech, transcriptions) = openai_routes(p)?;
            if c.route == speech {
                Some(Kind::OpenAiTts)
            } else if c.route == transcriptions {
                Some(Kind::OpenAiStt)
            } else {
                None
            }
        }
        _ => None,
    }
}

fn json_resp(status: u16, rid: &str, body: String) -> Response {
    crate::server::respond(status, "application/json", &[], rid, body)
}

fn no_such_job(rid: &str) -> Response {
    json_resp(404, rid, json!({"detail": "Request not found"}).to_string())
}

/// Answers a request to a speech route; `None` when it is not one.
pub(crate) async fn serve(
    s: &Arc<Shared>,
    call: SpeechCall<'_>,
    auth: impl FnOnce(&str) -> Result<(), Box<Response>>,
) -> Option<Response> {
    let kind = classify(s, &call)?;
    let rid = s.request_id();
    let creates = matches!(
        kind,
        Kind::HfAsr(_)
            | Kind::HfTts(_)
            | Kind::FalCreate { .. }
            | Kind::ReplicateCreate(_)
            | Kind::OpenAiTts
            | Kind::OpenAiStt
    );
    let mut fault = None;
    if creates {
        match s.take_fault(Scope::Speech, false, false, Some(call.provider)) {
            Some(FaultKind::Status {
                code,
                body,
                content_type,
                headers,
            }) => {
                return Some(crate::server::respond(
                    code,
                    &content_type,
                    &headers,
                    &rid,
                    body,
                ))
            }
            Some(FaultKind::Hang) => {
                s.until_shutdown().await;
                return Some(crate::server::respond(503, "text/plain", &[], &rid, ""));
            }
            other => fault = other,
        }
    }
    if let Err(resp) = auth(&rid) {
        return Some(*resp);
    }
    let made = match kind {
        Kind::FalCreate { made, .. } | Kind::ReplicateCreate(made) => made,
        Kind::HfTts(_) | Kind::OpenAiTts => Made::Audio,
        _ => Made::Transcript,
    };
    let mut job = SpeechJob {
        made,
        routed: call.routed,
        route: call.route.to_string(),
        polls_left: match kind {
            // The recorded jobs finish on their first poll; the ones the double adds wait two.
            Kind::FalCreate {
                made: Made::Transcript,
                ..
            }
            | Kind::ReplicateCreate(Made::Audio) => 1,
            Kind::FalCreate { .. } | Kind::ReplicateCreate(_) => 2,
            _ => 0,
        },
        polls_done: 0,
        stalled: false,
        fail: None,
        canceled: false,
        input: Value::Null,
    };
    match fault {
        Some(FaultKind::JobPending { polls }) => job.polls_left = polls,
        Some(FaultKind::JobStall) => job.stalled = true,
        Some(FaultKind::JobFails { message }) => job.fail = Some(message),
        _ => {}
    }
    Some(match kind {
        Kind::HfAsr(model) => {
            if !is_audio(&call.body[..]) {
                return Some(json_resp(
                    400,
                    &rid,
                    json!({"error": "Malformed soundfile"}).to_string(),
                ));
            }
            if job.stalled {
                s.until_shutdown().await;
                return Some(json_resp(503, &rid, "{}".into()));
            }
            if let Some(m) = job.fail {
                return Some(json_resp(500, &rid, json!({ "error": m }).to_string()));
            }
            let rec = s
                .fixtures
                .routed
                .get(&("POST".into(), format!("/hf-inference/models/{model}")))
                .filter(|r| r.body_str().contains("\"text\""))
                .or_else(|| {
                    s.fixtures.routed.get(&(
                        "POST".into(),
                        format!("/hf-inference/models/{RECORDED_ASR_MODEL}"),
                    ))
                });
            match rec {
                Some(r) => json_resp(200, &rid, r.body_str().to_string()),
                None => json_resp(404, &rid, json!({"error": "Not Found"}).to_string()),
            }
        }
        Kind::HfTts(model) => {
            let text = serde_json::from_slice::<Value>(&call.body[..])
                .ok()
                .and_then(|v| v["inputs"].as_str().map(str::to_string));
            if text.is_none_or(|t| t.trim().is_empty()) {
                return Some(json_resp(
                    400,
                    &rid,
                    json!({"error": "inputs must be a non-empty string"}).to_string(),
                ));
            }
            if job.stalled {
                s.until_shutdown().await;
                return Some(json_resp(503, &rid, "{}".into()));
            }
            if let Some(m) = job.fail {
                return Some(json_resp(500, &rid, json!({ "error": m }).to_string()));
            }
            let rec = s
                .fixtures
                .routed
                .get(&("POST".into(), format!("/hf-inference/models/{model}")))
                .filter(|r| {
                    r.header("content-type")
                        .is_some_and(|c| c.starts_with("audio/"))
                })
                .or_else(|| {
                    s.fixtures.routed.iter().find_map(|((m, p), r)| {
                        (m == "POST"
                            && p.starts_with("/hf-inference/")
                            && r.header("content-type")
                                .is_some_and(|c| c.starts_with("audio/")))
                        .then_some(r)
                    })
                });
            match rec {
                Some(r) => crate::server::respond(
                    200,
                    r.header("content-type").unwrap_or("audio/flac"),
                    &[],
                    &rid,
                    audio_body(&r.body),
                ),
                None => json_resp(404, &rid, json!({"error": "Not Found"}).to_string()),
            }
        }
        Kind::OpenAiTts => {
            let text = serde_json::from_slice::<Value>(&call.body[..])
                .ok()
                .and_then(|v| v["input"].as_str().map(str::to_string));
            if text.is_none_or(|t| t.trim().is_empty()) {
                return Some(json_resp(
                    400,
                    &rid,
                    json!({"error": {"message": "input is required", "type": "invalid_request_error"}}).to_string(),
                ));
            }
            if job.stalled {
                s.until_shutdown().await;
                return Some(json_resp(503, &rid, "{}".into()));
            }
            if let Some(m) = job.fail {
                return Some(json_resp(500, &rid, json!({ "error": m }).to_string()));
            }
            crate::server::respond(200, "audio/wav", &[], &rid, tts_wav())
        }
        Kind::OpenAiStt => {
            let file = multipart_part(call.content_type, &call.body[..], "file");
            if !file.is_some_and(is_audio) {
                return Some(json_resp(
                    400,
                    &rid,
                    json!({"error": "Unsupported audio format: the file could not be decoded"})
                        .to_string(),
                ));
            }
            if job.stalled {
                s.until_shutdown().await;
                return Some(json_resp(503, &rid, "{}".into()));
            }
            if let Some(m) = job.fail {
                return Some(json_resp(500, &rid, json!({ "error": m }).to_string()));
            }
            json_resp(
                200,
                &rid,
                json!({
                    "task": "transcribe",
                    "language": "english",
                    "duration": 1.0,
                    "text": OPENAI_TRANSCRIPT,
                    "segments": [{"id": 0, "start": 0.0, "end": 1.0, "text": format!(" {OPENAI_TRANSCRIPT}")}]
                })
                .to_string(),
            )
        }
        Kind::FalCreate { queue, made } => {
            let v = serde_json::from_slice::<Value>(&call.body[..]).unwrap_or(Value::Null);
            if made == Made::Audio {
                if v["text"].as_str().is_none_or(|t| t.trim().is_empty()) {
                    return Some(json_resp(
                        422,
                        &rid,
                        json!({"detail": [{"loc": ["body", "text"], "msg": "field required", "type": "value_error.missing"}]}).to_string(),
                    ));
                }
            } else if !v["audio_url"]
                .as_str()
                .and_then(data_url)
                .is_some_and(|a| is_audio(&a))
            {
                return Some(json_resp(
                    422,
                    &rid,
                    json!({"detail": [{"loc": ["body", "audio_url"], "msg": "Unsupported audio format: the file could not be decoded", "type": "audio_format"}]}).to_string(),
                ));
            }
            let id = s.uuid();
            if !queue {
                // Synchronous: the answer at once (a stalled job never answers).
                job.polls_left = 0;
                if job.stalled {
                    s.until_shutdown().await;
                    return Some(json_resp(503, &rid, "{}".into()));
                }
                let body = fal_result_body(s, &job, &id, &rid);
                lock(&s.speech_jobs).insert(id, job);
                return Some(body);
            }
            let base = fal_base(s, &job, &id);
            lock(&s.speech_jobs).insert(id.clone(), job);
            json_resp(
                200,
                &rid,
                json!({
                    "status": "IN_QUEUE",
                    "request_id": id,
                    "response_url": base,
                    "status_url": format!("{base}/status"),
                    "cancel_url": format!("{base}/cancel"),
                    "queue_position": 0
                })
                .to_string(),
            )
        }
        Kind::FalStatus(id) => {
            let mut jobs = lock(&s.speech_jobs);
            let Some(job) = jobs.get_mut(&id) else {
                return Some(no_such_job(&rid));
            };
            let first = job.polls_done == 0;
            let base = fal_base(s, job, &id);
            let body = match job.advance(s) {
                State::Pending if first => {
                    json!({"status": "IN_QUEUE", "queue_position": 0, "response_url": base})
                }
                State::Pending => {
                    json!({"status": "IN_PROGRESS", "logs": [], "response_url": base})
                }
                State::Canceled => json!({"status": "CANCELLED", "response_url": base}),
                _ => json!({"status": "COMPLETED", "logs": [], "response_url": base}),
            };
            json_resp(200, &rid, body.to_string())
        }
        Kind::FalResult(id) => {
            let Some(job) = lock(&s.speech_jobs).get(&id).cloned() else {
                return Some(no_such_job(&rid));
            };
            fal_result_body(s, &job, &id, &rid)
        }
        Kind::Cancel(id) => {
            let mut jobs = lock(&s.speech_jobs);
            let Some(job) = jobs.get_mut(&id) else {
                return Some(no_such_job(&rid));
            };
            job.canceled = true;
            json_resp(
                202,
                &rid,
                json!({"status": "CANCELLATION_REQUESTED"}).to_string(),
            )
        }
        Kind::ReplicateCreate(made) => {
            let v = serde_json::from_slice::<Value>(&call.body[..]).unwrap_or(Value::Null);
            let refusal = match made {
                Made::Audio => v["input"]["text"]
                    .as_str()
                    .is_none_or(|t| t.trim().is_empty())
                    .then_some("- input: text is required"),
                Made::Transcript => (!v["input"]["audio"]
                    .as_str()
                    .and_then(data_url)
                    .is_some_and(|a| is_audio(&a)))
                .then_some("- input.audio: the file could not be read as audio"),
            };
            if let Some(detail) = refusal {
                return Some(json_resp(
                    422,
                    &rid,
                    json!({"detail": detail, "status": 422, "title": "Input validation failed"})
                        .to_string(),
                ));
            }
            job.input = v["input"].clone();
            let id = s.uuid().replace('-', "")[..26].to_string();
            let state = job.advance(s);
            let body = replicate_body(s, &job, &id, state);
            lock(&s.speech_jobs).insert(id, job);
            body
        }
        Kind::ReplicateGet(id) => {
            let (job, state) = {
                let mut jobs = lock(&s.speech_jobs);
                let Some(job) = jobs.get_mut(&id) else {
                    return Some(no_such_job(&rid));
                };
                let state = job.advance(s);
                (job.clone(), state)
            };
            let mut resp = replicate_body(s, &job, &id, state);
            *resp.status_mut() = axum::http::StatusCode::OK;
            resp
        }
    })
}

fn fal_base(s: &Shared, job: &SpeechJob, id: &str) -> String {
    let prefix = if job.routed { "router" } else { "direct" };
    format!(
        "{}/{prefix}/fal-ai/{}/requests/{id}",
        s.base_url,
        job.route.trim_end_matches('/')
    )
}

/// The bytes of a `data:…;base64,` URL.
fn data_url(u: &str) -> Option<Vec<u8>> {
    let d = u.strip_prefix("data:")?.rsplit_once("base64,")?.1;
    base64::engine::general_purpose::STANDARD.decode(d).ok()
}

/// Where the audio a finished job made is served (`/ext/{host}/speech/{id}/output.wav`).
fn audio_url(s: &Shared, host: &str, id: &str) -> String {
    format!("{}/ext/{host}/speech/{id}/output.wav", s.base_url)
}

/// Replicate openai/whisper's output for [`REPLICATE_TRANSCRIPT`].
pub fn replicate_whisper_output() -> Value {
    let segments: Vec<Value> = REPLICATE_SEGMENTS
        .iter()
        .enumerate()
        .map(|(i, (start, end, text))| {
            json!({
                "id": i, "seek": 0, "start": start, "end": end, "text": format!(" {text}"),
                "tokens": [50364 + i], "temperature": 0.0, "avg_logprob": -0.21,
                "compression_ratio": 1.07, "no_speech_prob": 0.02
            })
        })
        .collect();
    json!({
        "transcription": format!(" {REPLICATE_TRANSCRIPT}"),
        "segments": segments,
        "translation": null,
        "txt_file": null,
        "srt_file": null,
        "detected_language": "english"
    })
}

fn fal_result_body(s: &Shared, job: &SpeechJob, id: &str, rid: &str) -> Response {
    match job.peek() {
        State::Pending => json_resp(
            400,
            rid,
            json!({"detail": "Request is still in progress"}).to_string(),
        ),
        State::Canceled => json_resp(
            400,
            rid,
            json!({"detail": "Request was cancelled"}).to_string(),
        ),
        State::Failed(m) => json_resp(500, rid, json!({ "detail": m }).to_string()),
        State::Done if job.made == Made::Audio => json_resp(
            200,
            rid,
            json!({
                "audio": {
                    "url": audio_url(s, "v3.fal.media", id),
                    "content_type": "audio/wav",
                    "file_name": "output.wav",
                    "file_size": tts_wav().len()
                }
            })
            .to_string(),
        ),
        State::Done => {
            let rec = s
                .fixtures
                .routed
                .get(&("POST".to_string(), format!("/fal-ai/{}", job.route)));
            match rec {
                Some(r) => crate::server::respond(
                    200,
                    "application/json",
                    &r.headers
                        .iter()
                        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-fal-"))
                        .cloned()
                        .collect::<Vec<_>>(),
                    rid,
                    r.body.clone(),
                ),
                None => no_such_job(rid),
            }
        }
    }
}

fn replicate_body(s: &Shared, job: &SpeechJob, id: &str, state: State) -> Response {
    let prefix = if job.routed { "router" } else { "direct" };
    let api = format!("{}/{prefix}/replicate/", s.base_url);
    let mut v: Value = match job.made {
        Made::Audio => {
            let recorded = REPLICATE_STARTING
                .replace(REPLICATE_RECORDED_ID, id)
                .replace("https://api.replicate.com/", &api)
                .replace(
                    "https://stream.replicate.com/",
                    &format!("{}/ext/stream.replicate.com/", s.base_url),
                );
            serde_json::from_str(&recorded).unwrap_or_else(|_| json!({}))
        }
        Made::Transcript => json!({
            "id": id,
            "model": REPLICATE_WHISPER,
            "version": REPLICATE_WHISPER_VERSION,
            "input": {},
            "logs": "",
            "output": null,
            "data_removed": false,
            "error": null,
            "status": "starting",
            "created_at": "2026-01-30T04:58:57.541Z",
            "urls": {
                "cancel": format!("{api}v1/predictions/{id}/cancel"),
                "get": format!("{api}v1/predictions/{id}"),
                "stream": format!("{}/ext/stream.replicate.com/v1/files/{id}", s.base_url)
            }
        }),
    };
    v["input"] = job.input.clone();
    // The recorded kokoro prediction answered 202; a created whisper one answers 201.
    let pending = if job.made == Made::Audio { 202 } else { 201 };
    let (code, status) = match state {
        State::Pending if job.polls_done <= 1 => (pending, "starting"),
        State::Pending => (pending, "processing"),
        State::Canceled => (200, "canceled"),
        State::Failed(m) => {
            v["error"] = json!(m);
            (200, "failed")
        }
        State::Done => {
            v["output"] = match job.made {
                Made::Audio => json!(audio_url(s, "replicate.delivery", id)),
                Made::Transcript => replicate_whisper_output(),
            };
            v["metrics"] = json!({"predict_time": 0.41});
            (201, "succeeded")
        }
    };
    v["status"] = json!(status);
    crate::server::respond(
        code,
        "application/json; charset=UTF-8",
        &[],
        &s.request_id(),
        v.to_string(),
    )
}

/// `GET /ext/{replicate.delivery,v3.fal.media}/speech/{id}/output.wav`: the audio a finished
/// Replicate prediction or fal job made.
pub(crate) fn ext(s: &Shared, host: &str, path: &str) -> Option<Response> {
    if host != "replicate.delivery" && host != "v3.fal.media" {
        return None;
    }
    let id = path.strip_prefix("speech/")?.split('/').next()?;
    let rid = s.request_id();
    if !lock(&s.speech_jobs).contains_key(id) {
        return Some(no_such_job(&rid));
    }
    Some(crate::server::respond(
        200,
        "audio/wav",
        &[],
        &rid,
        tts_wav(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_doubles_wav_is_audio() {
        let w = tts_wav();
        assert!(is_audio(&w));
        assert_eq!(w.len(), 44 + 16_000 * 6 / 10 * 2);
        assert!(!is_audio(b"not audio"));
    }

    #[test]
    fn replicates_whisper_output_has_its_segments_with_times() {
        let v = replicate_whisper_output();
        assert_eq!(
            v["transcription"].as_str().unwrap().trim(),
            REPLICATE_TRANSCRIPT
        );
        let segs = v["segments"].as_array().unwrap();
        assert_eq!(segs.len(), REPLICATE_SEGMENTS.len());
        assert_eq!(segs[1]["start"], 1.2);
        assert_eq!(segs[1]["text"].as_str().unwrap().trim(), "Sir, I exist.");
        assert_eq!(v["detected_language"], "english");
        assert_eq!(
            data_url("data:audio/wav;base64,UklGRg=="),
            Some(b"RIFF".to_vec())
        );
        assert_eq!(data_url("https://x/a.wav"), None);
    }
}
