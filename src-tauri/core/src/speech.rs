//! Speech: speech to text (automatic speech recognition) and text to speech, each provider's
//! request shape and job protocol, and audio known by its bytes ([`sniff`]) and kept under
//! their hash ([`store`]). No Tauri, no history: the speech service runs a call end to end.
//!
//! | task | provider | request | answer |
//! |---|---|---|---|
//! | speech to text | hf-inference | `POST models/{id}`, the audio's raw bytes | `{text, chunks?: [{timestamp: [s, e], text}]}` |
//! | speech to text | fal-ai | queue: `POST {fal-id}` `{audio_url: data:…}` (routed `?_subdomain=queue`) | poll `status_url`, then `response_url` → `{text, chunks}` (or the answer at once) |
//! | speech to text | replicate | `POST v1/predictions` (`version`) or `v1/models/{id}/predictions`, `Prefer: wait`, `{input: {audio: data:…}}` | `output`: the text, `{transcription, segments, detected_language?}` or `{text, chunks}`; else poll `urls.get` |
//! | text to speech | hf-inference | `POST models/{id}` `{inputs: text}` | the audio's bytes |
//! | text to speech | fal-ai | queue, as for speech to text: `POST {fal-id}` `{text, voice?}` | poll, then `response_url` → `{audio: {url, content_type}}` (or `audio_url`), downloaded (or the answer at once) |
//! | text to speech | replicate | `POST v1/predictions` (`version`) or `v1/models/{id}/predictions`, `Prefer: wait`, `{input: {text, voice?}}` | `output` URL, else poll `urls.get` |
//! | speech to text | together, deepinfra | `POST …/audio/transcriptions`, multipart `file`, `model`, `response_format=verbose_json` | `{text, segments: [{start, end, text}], language}` |
//! | text to speech | together, deepinfra | `POST …/audio/speech` `{model, input, voice?, response_format: wav}` | the audio's bytes |
//!
//! Together's routes are `v1/audio/…`, DeepInfra's `v1/openai/audio/…`, under `{router}/{provider}`
//! when routed and under the provider's own base with its key, as embeddings do.
//!
//! Credentials: a poll or result URL gets the call's credential only when it lies under the
//! base the call was made to ([`crate::images::within`]); audio on other hosts is fetched by a
//! client that carries none.

use std::path::Path;

use base64::Engine as _;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};
use ts_rs::TS;

use crate::call::ProviderJob;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{self, error_from_response, read_capped, transport_error};
use crate::images::{self, job_failed, with_auth, Failure, Protocol, Target};

/// The most an audio file sent for a transcript may weigh.
pub const MAX_AUDIO_BYTES: usize = 25 << 20;
/// The most an answer (a transcript, or the audio made) may weigh.
pub const MAX_ANSWER_BYTES: usize = 50 << 20;
/// The most characters sent to be spoken.
pub const MAX_TEXT_CHARS: usize = 5000;

/// The two speech tasks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum SpeechKind {
    /// Speech to text: audio in, a transcript out.
    Stt,
    /// Text to speech: text in, audio out.
    Tts,
}

/// The protocol of a provider for a speech task, if the app speaks it.
pub fn protocol(kind: SpeechKind, provider: &str) -> Option<Protocol> {
    match (kind, provider) {
        (_, "hf-inference") => Some(Protocol::HfInference),
        (_, "fal-ai") => Some(Protocol::Fal),
        (_, "replicate") => Some(Protocol::Replicate),
        (_, "together" | "deepinfra") => Some(Protocol::OpenAiAudio),
        _ => None,
    }
}

/// Every provider the app speaks, in the order pickers offer them.
pub const PROVIDERS: [&str; 5] = [
    "hf-inference",
    "fal-ai",
    "replicate",
    "together",
    "deepinfra",
];

/// The providers the app can ask for a speech task, in [`PROVIDERS`] order.
pub fn providers(kind: SpeechKind) -> Vec<String> {
    PROVIDERS
        .iter()
        .filter(|p| protocol(kind, p).is_some())
        .map(|p| p.to_string())
        .collect()
}

/// The OpenAI-style audio route of a provider for a speech task (under its base, or
/// `{router}/{provider}`).
pub fn openai_route(kind: SpeechKind, provider: &str) -> Option<&'static str> {
    Some(match (kind, provider) {
        (SpeechKind::Tts, "together") => "v1/audio/speech",
        (SpeechKind::Stt, "together") => "v1/audio/transcriptions",
        (SpeechKind::Tts, "deepinfra") => "v1/openai/audio/speech",
        (SpeechKind::Stt, "deepinfra") => "v1/openai/audio/transcriptions",
        _ => return None,
    })
}

fn openai_url(kind: SpeechKind, t: &Target) -> String {
    let route = openai_route(kind, &t.provider).unwrap_or(match kind {
        SpeechKind::Stt => "v1/audio/transcriptions",
        SpeechKind::Tts => "v1/audio/speech",
    });
    format!("{}/{route}", t.base)
}

/// The providers the app can ask, in words, for messages.
pub fn supported_words(kind: SpeechKind) -> &'static str {
    match kind {
        SpeechKind::Stt | SpeechKind::Tts => "HF Inference, fal, Replicate, Together or DeepInfra",
    }
}

/// What an audio file is, by its first bytes: (MIME type, extension). Never by its name.
pub fn sniff(b: &[u8]) -> Option<(&'static str, &'static str)> {
    if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WAVE" {
        Some(("audio/wav", "wav"))
    } else if b.starts_with(b"fLaC") {
        Some(("audio/flac", "flac"))
    } else if b.starts_with(b"OggS") {
        Some(("audio/ogg", "ogg"))
    } else if b.starts_with(b"ID3") {
        Some(("audio/mpeg", "mp3"))
    } else if b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0 {
        // Frame sync: MPEG audio (layer bits set), or AAC in ADTS (layer bits 00).
        if b[1] & 0x06 == 0 {
            Some(("audio/aac", "aac"))
        } else {
            Some(("audio/mpeg", "mp3"))
        }
    } else if b.len() >= 12 && &b[4..8] == b"ftyp" {
        Some(("audio/mp4", "m4a"))
    } else if b.starts_with(b"\x1a\x45\xdf\xa3") {
        Some(("audio/webm", "webm"))
    } else {
        None
    }
}

/// An audio file kept in the media folder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StoredAudio {
    /// The SHA-256 of its bytes and the extension its content says (never the file's name).
    pub file: String,
    pub mime: String,
    #[ts(type = "number")]
    pub bytes: u64,
}

fn not_audio(what: &str) -> AppError {
    AppError::new(
        ErrorCode::NotAudio,
        format!("{what} is not an audio file Switchboard knows (WAV, FLAC, MP3, Ogg, M4A, AAC or WebM), so it was not used."),
    )
}

/// Keeps audio in `dir` under the hash of its bytes; refuses what is not audio. `what` names
/// the bytes in the refusal ("That file", "HF Inference's answer").
pub fn store(dir: &Path, bytes: &[u8], what: &str) -> AppResult<StoredAudio> {
    let Some((mime, ext)) = sniff(bytes) else {
        return Err(not_audio(what));
    };
    let hex: String = Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let file = format!("{hex}.{ext}");
    std::fs::create_dir_all(dir).map_err(|e| AppError::io("create the media folder", &e))?;
    let path = dir.join(&file);
    if !path.exists() {
        let tmp = dir.join(format!(".{file}.part"));
        std::fs::write(&tmp, bytes).map_err(|e| AppError::io("save the audio", &e))?;
        std::fs::rename(&tmp, &path).map_err(|e| AppError::io("save the audio", &e))?;
    }
    Ok(StoredAudio {
        file,
        mime: mime.to_string(),
        bytes: bytes.len() as u64,
    })
}

/// Whether `name` is shaped like a kept file's name (a hash and a known extension): the only
/// names read from the media folder.
pub fn is_kept_name(name: &str) -> bool {
    let Some((hash, ext)) = name.split_once('.') else {
        return false;
    };
    hash.len() == 64
        && hash
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        && ["wav", "flac", "ogg", "mp3", "aac", "m4a", "webm"].contains(&ext)
}

/// One piece of a transcript, with its times in seconds where the provider gave them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Segment {
    pub start: Option<f64>,
    pub end: Option<f64>,
    pub text: String,
}

/// A transcript as read from the provider's answer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    pub text: String,
    pub segments: Vec<Segment>,
    pub language: Option<String>,
}

fn bad(who: &str, what: &str) -> AppError {
    AppError::new(
        ErrorCode::BadResponse,
        format!("{who} answered with something Switchboard cannot read ({what})."),
    )
}

fn parse_json(who: &str, body: &[u8]) -> AppResult<Value> {
    serde_json::from_slice(body).map_err(|_| bad(who, "not JSON"))
}

fn time(v: &Value) -> Option<f64> {
    v.as_f64().filter(|f| f.is_finite() && *f >= 0.0)
}

/// Reads a transcript: `{text}` with `chunks: [{timestamp: [s, e], text}]` (HF Inference's
/// and fal's Whisper) or `segments: [{start, end, text}]` (OpenAI's verbose answer), or
/// `{transcription, segments, detected_language}` (Replicate's openai/whisper).
pub fn read_transcript(who: &str, v: &Value) -> AppResult<Transcript> {
    let v = if v.is_array() { &v[0] } else { v };
    let Some(text) = v["text"].as_str().or_else(|| v["transcription"].as_str()) else {
        return Err(bad(who, "no text in the answer"));
    };
    let mut segments = Vec::new();
    for c in v["chunks"].as_array().into_iter().flatten() {
        segments.push(Segment {
            start: time(&c["timestamp"][0]),
            end: time(&c["timestamp"][1]),
            text: c["text"].as_str().unwrap_or_default().trim().to_string(),
        });
    }
    for s in v["segments"].as_array().into_iter().flatten() {
        segments.push(Segment {
            start: time(&s["start"]),
            end: time(&s["end"]),
            text: s["text"].as_str().unwrap_or_default().trim().to_string(),
        });
    }
    segments.retain(|s| !s.text.is_empty());
    let language = v["inferred_languages"][0]
        .as_str()
        .or_else(|| v["language"].as_str())
        .or_else(|| v["detected_language"].as_str())
        .map(str::to_string);
    Ok(Transcript {
        text: text.trim().to_string(),
        segments,
        language,
    })
}

/// Speech words for a provider's refusal of the audio it was sent.
fn refine(err: AppError, body: &str, who: &str) -> AppError {
    if !matches!(err.code, ErrorCode::InvalidRequest | ErrorCode::ServerError) {
        return err;
    }
    let detail = hf::error_detail(body).unwrap_or_default();
    let l = detail.to_ascii_lowercase();
    let words = ["soundfile", "audio", "decode", "format not", "unsupported"];
    if words.iter().any(|w| l.contains(w)) {
        return AppError::new(
            ErrorCode::NotAudio,
            format!(
                "{who} could not read the audio (“{}”). Try a WAV, FLAC or MP3 file.",
                crate::error::scrub(&detail, 200)
            ),
        );
    }
    if err.code == ErrorCode::ServerError && !detail.is_empty() {
        return job_failed(who, &detail);
    }
    err
}

/// Sends `rb`, reads the answer; a failure status becomes the app's error, with the answer's
/// request id.
async fn send(t: &Target, rb: reqwest::RequestBuilder) -> Result<(HeaderMap, Vec<u8>), Failure> {
    let resp = rb
        .send()
        .await
        .map_err(|e| (transport_error(&e, &t.who).without_secret(&t.secret), None))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let rid = images::request_id(&headers);
    let body = match read_capped(resp, MAX_ANSWER_BYTES).await {
        Ok(Some(b)) => b,
        Ok(None) => return Err((hf::too_large(&t.who, MAX_ANSWER_BYTES), rid)),
        Err(e) => return Err((transport_error(&e, &t.who), rid)),
    };
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let err = error_from_response(status, &headers, &text, &t.who);
        return Err((refine(err, &text, &t.who).without_secret(&t.secret), rid));
    }
    Ok((headers, body))
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.contains("json"))
}

/// What the provider answered to a request.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted<T> {
    Done(T),
    Job(ProviderJob),
}

/// A fal model's URL: its queue (routed, `?_subdomain=queue`; direct, the queue base).
fn fal_url(t: &Target) -> String {
    let mut url = format!("{}/{}", t.base, t.model_id);
    if t.routed {
        url.push_str("?_subdomain=queue");
    }
    url
}

/// A Replicate prediction's URL and body: `v1/predictions` with the `version` the provider id
/// names after `:`, else the model's own `v1/models/{owner}/{name}/predictions`.
pub fn replicate_build(t: &Target, input: Map<String, Value>) -> (String, Value) {
    match t.model_id.split_once(':') {
        Some((_, version)) => (
            format!("{}/v1/predictions", t.base),
            json!({"input": input, "version": version}),
        ),
        None => (
            format!("{}/v1/models/{}/predictions", t.base, t.model_id),
            json!({ "input": input }),
        ),
    }
}

/// The URL of a speech-to-text request.
pub fn stt_url(t: &Target) -> String {
    match t.protocol {
        Protocol::Fal => fal_url(t),
        Protocol::Replicate => replicate_build(t, Map::new()).0,
        Protocol::OpenAiAudio => openai_url(SpeechKind::Stt, t),
        _ => format!("{}/models/{}", t.base, t.model_id),
    }
}

/// The body of a speech-to-text request sent as JSON (fal, Replicate): the audio as a
/// `data:` URL.
pub fn stt_json(t: &Target, audio: &[u8], mime: &str) -> Value {
    let data = base64::engine::general_purpose::STANDARD.encode(audio);
    let url = format!("data:{mime};base64,{data}");
    match t.protocol {
        Protocol::Replicate => {
            let mut input = Map::new();
            input.insert("audio".into(), url.into());
            replicate_build(t, input).1
        }
        _ => json!({ "audio_url": url }),
    }
}

/// An OpenAI-style transcription request's multipart body (`file`, `model`,
/// `response_format=verbose_json` for the segments) and its content type.
pub fn multipart(model: &str, audio: &[u8], mime: &str) -> (String, Vec<u8>) {
    let ext = sniff(audio).map_or("wav", |(_, e)| e);
    let boundary = format!("switchboard-{}", uuid::Uuid::new_v4().simple());
    let mut b = Vec::with_capacity(audio.len() + 512);
    for (name, value) in [("model", model), ("response_format", "verbose_json")] {
        b.extend_from_slice(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                .as_bytes(),
        );
    }
    b.extend_from_slice(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"audio.{ext}\"\r\nContent-Type: {mime}\r\n\r\n")
            .as_bytes(),
    );
    b.extend_from_slice(audio);
    b.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), b)
}

/// Sends audio for a transcript.
pub async fn transcribe(
    http: &reqwest::Client,
    t: &Target,
    audio: &[u8],
    mime: &str,
) -> Result<(Submitted<Transcript>, Option<String>), Failure> {
    let url = stt_url(t);
    let rb = match t.protocol {
        Protocol::Fal => http.post(&url).json(&stt_json(t, audio, mime)),
        Protocol::Replicate => http
            .post(&url)
            .header("prefer", "wait")
            .json(&stt_json(t, audio, mime)),
        Protocol::OpenAiAudio => {
            let (content_type, body) = multipart(&t.model_id, audio, mime);
            http.post(&url)
                .header(CONTENT_TYPE, content_type)
                .body(body)
        }
        _ => http
            .post(&url)
            .header(CONTENT_TYPE, mime)
            .body(audio.to_vec()),
    };
    let (headers, body) = send(t, with_auth(t, rb, &url)).await?;
    let rid = images::request_id(&headers);
    let who = t.who.as_str();
    let read = || -> AppResult<Submitted<Transcript>> {
        let v = parse_json(who, &body)?;
        if t.protocol == Protocol::Replicate {
            return submitted(
                who,
                &v,
                replicate_state(who, &v, |o| replicate_transcript(who, o))?,
            );
        }
        if let Some(e) = v["error"].as_str() {
            return Err(job_failed(who, e));
        }
        if t.protocol == Protocol::Fal && v.get("text").is_none() {
            return fal_job(who, &v).map(Submitted::Job);
        }
        read_transcript(who, &v).map(Submitted::Done)
    };
    read().map(|s| (s, rid.clone())).map_err(|e| (e, rid))
}

fn fal_job(who: &str, v: &Value) -> AppResult<ProviderJob> {
    let result = v["response_url"].as_str().map(str::to_string);
    let poll = v["status_url"]
        .as_str()
        .map(str::to_string)
        .or_else(|| result.as_ref().map(|u| format!("{u}/status")));
    if poll.is_none() || result.is_none() {
        return Err(bad(who, "no queue URLs"));
    }
    let cancel = v["cancel_url"]
        .as_str()
        .map(str::to_string)
        .or_else(|| result.as_ref().map(|u| format!("{u}/cancel")));
    Ok(ProviderJob {
        id: v["request_id"].as_str().map(str::to_string),
        poll_url: poll,
        result_url: result,
        cancel_url: cancel,
    })
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll<T> {
    Waiting,
    Done(T),
    Failed(AppError),
    Cancelled,
}

/// Reads where a transcript job stands (once): a fal queue job or a Replicate prediction; its
/// result when it is done.
pub async fn poll_transcript(
    http: &reqwest::Client,
    t: &Target,
    job: &ProviderJob,
) -> AppResult<Poll<Transcript>> {
    let who = t.who.as_str();
    match t.protocol {
        Protocol::Replicate => poll_replicate(http, t, job, |o| replicate_transcript(who, o)).await,
        _ => poll_fal(http, t, job, |v| read_transcript(who, v)).await,
    }
}

/// Reads where a fal queue job stands (once); when it is `COMPLETED`, its result read by `read`.
async fn poll_fal<T>(
    http: &reqwest::Client,
    t: &Target,
    job: &ProviderJob,
    read: impl FnOnce(&Value) -> AppResult<T>,
) -> AppResult<Poll<T>> {
    let who = t.who.as_str();
    let Some(url) = job.poll_url.as_deref() else {
        return Err(AppError::internal("a speech job without a poll URL"));
    };
    let (_, body) = send(t, with_auth(t, http.get(url), url))
        .await
        .map_err(|(e, _)| e)?;
    let v = parse_json(who, &body)?;
    match v["status"].as_str().unwrap_or_default() {
        "COMPLETED" => {
            let Some(result) = job.result_url.as_deref() else {
                return Err(bad(who, "no result URL"));
            };
            let body = match send(t, with_auth(t, http.get(result), result)).await {
                Ok((_, b)) => b,
                Err((e, _)) if matches!(e.code, ErrorCode::JobFailed | ErrorCode::Timeout) => {
                    return Ok(Poll::Failed(e))
                }
                Err((e, _)) => return Err(e),
            };
            let v = parse_json(who, &body)?;
            if let Some(d) = v["detail"].as_str().or_else(|| v["error"].as_str()) {
                return Ok(Poll::Failed(job_failed(who, d)));
            }
            read(&v).map(Poll::Done)
        }
        "CANCELLED" | "CANCELED" => Ok(Poll::Cancelled),
        _ => Ok(Poll::Waiting),
    }
}

/// Reads where a Replicate prediction stands (once); its `output` read by `read` once it
/// succeeded.
async fn poll_replicate<T>(
    http: &reqwest::Client,
    t: &Target,
    job: &ProviderJob,
    read: impl FnOnce(&Value) -> AppResult<T>,
) -> AppResult<Poll<T>> {
    let Some(url) = job.poll_url.as_deref() else {
        return Err(AppError::internal("a speech job without a poll URL"));
    };
    let (_, body) = send(t, with_auth(t, http.get(url), url))
        .await
        .map_err(|(e, _)| e)?;
    replicate_state(&t.who, &parse_json(&t.who, &body)?, read)
}

/// A Replicate prediction's state as what the request answered: its result, its failure, or
/// the job to poll (`urls.get`, cancelled through `urls.cancel`).
fn submitted<T>(who: &str, v: &Value, state: Poll<T>) -> AppResult<Submitted<T>> {
    match state {
        Poll::Done(x) => Ok(Submitted::Done(x)),
        Poll::Failed(e) => Err(e),
        Poll::Cancelled => Err(job_failed(who, "the prediction was cancelled")),
        Poll::Waiting => {
            let poll_url = v["urls"]["get"].as_str().map(str::to_string);
            if poll_url.is_none() {
                return Err(bad(who, "a prediction with no URL to follow"));
            }
            Ok(Submitted::Job(ProviderJob {
                id: v["id"].as_str().map(str::to_string),
                poll_url,
                result_url: None,
                cancel_url: v["urls"]["cancel"].as_str().map(str::to_string),
            }))
        }
    }
}

/// A finished Replicate transcript's `output`: the text itself, a list of pieces of it,
/// openai/whisper's `{transcription, segments: [{start, end, text}], detected_language}`, or
/// `{text, chunks: [{timestamp, text}]}`.
pub fn replicate_transcript(who: &str, out: &Value) -> AppResult<Transcript> {
    match out {
        Value::String(s) => Ok(Transcript {
            text: s.trim().to_string(),
            ..Transcript::default()
        }),
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_string) => Ok(Transcript {
            text: a
                .iter()
                .filter_map(Value::as_str)
                .collect::<String>()
                .trim()
                .to_string(),
            ..Transcript::default()
        }),
        Value::Object(_) | Value::Array(_) => read_transcript(who, out),
        _ => Err(bad(who, "a finished prediction with no transcript")),
    }
}

/// The audio made, as the provider gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum AudioOut {
    Bytes(Vec<u8>),
    Url(String),
}

/// The URL and body of a text-to-speech request.
pub fn tts_build(t: &Target, text: &str, voice: Option<&str>) -> (String, Value) {
    let mut input = Map::new();
    input.insert("text".into(), text.into());
    if let Some(v) = voice {
        input.insert("voice".into(), v.into());
    }
    match t.protocol {
        Protocol::Replicate => replicate_build(t, input),
        Protocol::Fal => (fal_url(t), Value::Object(input)),
        Protocol::OpenAiAudio => {
            let mut body = Map::new();
            body.insert("model".into(), t.model_id.clone().into());
            body.insert("input".into(), text.into());
            if let Some(v) = voice {
                body.insert("voice".into(), v.into());
            }
            body.insert("response_format".into(), "wav".into());
            (openai_url(SpeechKind::Tts, t), Value::Object(body))
        }
        _ => (
            format!("{}/models/{}", t.base, t.model_id),
            json!({"inputs": text}),
        ),
    }
}

fn replicate_output(out: &Value) -> Option<String> {
    match out {
        Value::String(s) => Some(s.clone()),
        Value::Array(a) => a.iter().find_map(|o| o.as_str()).map(str::to_string),
        Value::Object(o) => o
            .get("audio")
            .or_else(|| o.get("audio_out"))
            .and_then(Value::as_str)
            .map(str::to_string),
        _ => None,
    }
}

/// A finished Replicate prediction's audio: its `output` URL (or `data:` URL).
fn replicate_audio(who: &str, out: &Value) -> AppResult<AudioOut> {
    match replicate_output(out) {
        Some(u) => audio_of(who, &u),
        None => Err(bad(who, "a finished prediction with no output")),
    }
}

/// Where a Replicate prediction stands; `read` reads its `output` once it succeeded.
fn replicate_state<T>(
    who: &str,
    v: &Value,
    read: impl FnOnce(&Value) -> AppResult<T>,
) -> AppResult<Poll<T>> {
    let status = v["status"].as_str().unwrap_or_default();
    Ok(match status {
        "failed" => Poll::Failed(job_failed(
            who,
            v["error"]
                .as_str()
                .filter(|e| !e.trim().is_empty())
                .unwrap_or("the prediction failed"),
        )),
        "canceled" | "cancelled" => Poll::Cancelled,
        "succeeded" => Poll::Done(read(&v["output"])?),
        _ => Poll::Waiting,
    })
}

/// A fal text-to-speech result's audio: `{audio: {url, content_type}}`, or `audio_url`.
fn fal_audio(who: &str, v: &Value) -> AppResult<AudioOut> {
    let url = v["audio"]["url"]
        .as_str()
        .or_else(|| v["audio"].as_str())
        .or_else(|| v["audio_url"].as_str())
        .or_else(|| v["audio_url"]["url"].as_str());
    match url {
        Some(u) => audio_of(who, u),
        None => Err(bad(who, "no audio in the answer")),
    }
}

fn audio_of(who: &str, s: &str) -> AppResult<AudioOut> {
    if let Some(rest) = s.strip_prefix("data:") {
        let data = rest.rsplit_once("base64,").map_or(rest, |(_, d)| d);
        return base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .map(AudioOut::Bytes)
            .map_err(|_| bad(who, "broken base64"));
    }
    Ok(AudioOut::Url(s.to_string()))
}

/// Sends text to be spoken.
pub async fn synthesize(
    http: &reqwest::Client,
    t: &Target,
    text: &str,
    voice: Option<&str>,
) -> Result<(Submitted<AudioOut>, Option<String>), Failure> {
    let (url, body) = tts_build(t, text, voice);
    let rb = with_auth(t, http.post(&url).json(&body), &url);
    let rb = match t.protocol {
        Protocol::Replicate => rb.header("prefer", "wait"),
        Protocol::Fal => rb.header("accept", "application/json"),
        _ => rb.header("accept", "audio/flac, audio/wav, audio/mpeg, */*"),
    };
    let (headers, body) = send(t, rb).await?;
    let rid = images::request_id(&headers);
    let who = t.who.as_str();
    let read = || -> AppResult<Submitted<AudioOut>> {
        match t.protocol {
            Protocol::Replicate => {
                let v = parse_json(who, &body)?;
                submitted(
                    who,
                    &v,
                    replicate_state(who, &v, |o| replicate_audio(who, o))?,
                )
            }
            Protocol::Fal => {
                let v = parse_json(who, &body)?;
                if let Some(e) = v["error"].as_str().or_else(|| v["detail"].as_str()) {
                    return Err(job_failed(who, e));
                }
                // The synchronous answer carries the audio at once; the queue's, the job.
                if v.get("audio").is_some() || v.get("audio_url").is_some() {
                    return fal_audio(who, &v).map(Submitted::Done);
                }
                fal_job(who, &v).map(Submitted::Job)
            }
            _ => {
                if is_json(&headers) {
                    let v = parse_json(who, &body)?;
                    let err = v["error"].as_str().unwrap_or("no audio in the answer");
                    return Err(job_failed(who, err));
                }
                Ok(Submitted::Done(AudioOut::Bytes(body.clone())))
            }
        }
    };
    read().map(|s| (s, rid.clone())).map_err(|e| (e, rid))
}

/// Reads where a text-to-speech job stands (once): a fal queue job or a Replicate prediction.
pub async fn poll_audio(
    http: &reqwest::Client,
    t: &Target,
    job: &ProviderJob,
) -> AppResult<Poll<AudioOut>> {
    let who = t.who.as_str();
    match t.protocol {
        Protocol::Fal => poll_fal(http, t, job, |v| fal_audio(who, v)).await,
        _ => poll_replicate(http, t, job, |o| replicate_audio(who, o)).await,
    }
}

/// The bytes of the audio made: those sent, or a download (a URL under the call's base gets
/// its credential through `http`; any other is fetched by `open`, which never carries one).
pub async fn fetch_audio(
    http: &reqwest::Client,
    open: &reqwest::Client,
    t: &Target,
    a: &AudioOut,
) -> AppResult<Vec<u8>> {
    let url = match a {
        AudioOut::Bytes(b) => return Ok(b.clone()),
        AudioOut::Url(u) => u,
    };
    images::download(http, open, t, url, MAX_ANSWER_BYTES, "audio").await
}

/// A minimal PCM WAV file: mono, 16-bit, `rate` Hz, the given samples.
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

/// A transcript as plain text: one line per segment with its times when there are segments.
pub fn transcript_text(text: &str, segments: &[Segment]) -> String {
    if segments.is_empty() {
        return format!("{}\n", text.trim());
    }
    let mut out = String::new();
    for s in segments {
        match (s.start, s.end) {
            (Some(a), Some(b)) => {
                out.push_str(&format!("[{} → {}] ", clock(a), clock(b)));
            }
            (Some(a), None) => out.push_str(&format!("[{}] ", clock(a))),
            _ => {}
        }
        out.push_str(s.text.trim());
        out.push('\n');
    }
    out
}

/// Seconds as `m:ss.s`.
pub fn clock(s: f64) -> String {
    let m = (s / 60.0).floor();
    format!("{}:{:04.1}", m as u64, s - m * 60.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(protocol: Protocol, routed: bool) -> Target {
        Target {
            provider: "fal-ai".into(),
            who: "fal".into(),
            protocol,
            base: "https://router.huggingface.co/fal-ai".into(),
            trusted: "https://router.huggingface.co".into(),
            routed,
            model_id: "fal-ai/whisper".into(),
            auth: ("authorization".into(), "Bearer hf_x".into()),
            headers: vec![],
            secret: "hf_x".into(),
        }
    }

    #[test]
    fn audio_is_known_by_its_bytes_not_its_name() {
        assert_eq!(sniff(&wav(8000, &[0, 1, 2])).unwrap().1, "wav");
        assert_eq!(sniff(b"fLaC\0\0\0\x22").unwrap().1, "flac");
        assert_eq!(sniff(b"OggS\0\x02").unwrap().1, "ogg");
        assert_eq!(sniff(b"ID3\x04\0").unwrap().1, "mp3");
        assert_eq!(sniff(b"\xff\xfb\x90\x64").unwrap().1, "mp3");
        assert_eq!(sniff(b"\xff\xf1\x50\x80").unwrap().1, "aac");
        assert_eq!(sniff(b"\0\0\0\x20ftypM4A ").unwrap().1, "m4a");
        assert_eq!(sniff(b"\x1a\x45\xdf\xa3rest").unwrap().1, "webm");
        assert!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").is_none());
        assert!(sniff(b"\x89PNG\r\n\x1a\n").is_none());
        assert!(sniff(b"{\"error\":1}").is_none());
        let dir = tempfile::tempdir().unwrap();
        let a = store(dir.path(), &wav(8000, &[5; 10]), "x").unwrap();
        let b = store(dir.path(), &wav(8000, &[5; 10]), "x").unwrap();
        assert_eq!(a, b);
        assert!(is_kept_name(&a.file));
        assert_eq!(a.mime, "audio/wav");
        let e = store(dir.path(), b"<html>", "That file").unwrap_err();
        assert_eq!(e.code, ErrorCode::NotAudio);
        assert!(!is_kept_name("../x.wav"));
    }

    #[test]
    fn transcripts_are_read_with_their_segments() {
        let v: Value = serde_json::from_str(
            r#"{"text":" A man said to the universe, Sir, I exist.","chunks":[{"timestamp":[0.0,4.08],"text":" A man said to the universe, Sir, I exist.","speaker":null}],"inferred_languages":["en"],"diarization_segments":[]}"#,
        )
        .unwrap();
        let t = read_transcript("fal", &v).unwrap();
        assert_eq!(t.text, "A man said to the universe, Sir, I exist.");
        assert_eq!(t.segments.len(), 1);
        assert_eq!(t.segments[0].end, Some(4.08));
        assert_eq!(t.language.as_deref(), Some("en"));
        let v = json!({"text": "a man said to the universe sir i exist"});
        let t = read_transcript("HF", &v).unwrap();
        assert!(t.segments.is_empty());
        assert!(read_transcript("HF", &json!({"nope": 1})).is_err());
        assert_eq!(transcript_text(" x ", &t.segments), "x\n");
        let segs = vec![Segment {
            start: Some(61.5),
            end: Some(64.0),
            text: "hi".into(),
        }];
        assert_eq!(transcript_text("hi", &segs), "[1:01.5 → 1:04.0] hi\n");
    }

    #[test]
    fn each_provider_gets_its_own_shape() {
        assert!(stt_url(&target(Protocol::Fal, true)).ends_with("/fal-ai/whisper?_subdomain=queue"));
        assert!(!stt_url(&target(Protocol::Fal, false)).contains('?'));
        let mut t = target(Protocol::Replicate, true);
        t.model_id = "jaaari/kokoro-82m:abc".into();
        let (url, b) = tts_build(&t, "Hello", Some("af_bella"));
        assert!(url.ends_with("/v1/predictions"));
        assert_eq!(b["version"], "abc");
        assert_eq!(b["input"]["text"], "Hello");
        t.protocol = Protocol::HfInference;
        t.model_id = "espnet/kan-bayashi_ljspeech_vits".into();
        let (url, b) = tts_build(&t, "Hello", None);
        assert!(url.ends_with("/models/espnet/kan-bayashi_ljspeech_vits"));
        assert_eq!(b, json!({"inputs": "Hello"}));
        t.protocol = Protocol::OpenAiAudio;
        t.provider = "deepinfra".into();
        t.base = "https://router.huggingface.co/deepinfra".into();
        t.model_id = "hexgrad/Kokoro-82M".into();
        let (url, b) = tts_build(&t, "Hello", Some("af_bella"));
        assert_eq!(
            url,
            "https://router.huggingface.co/deepinfra/v1/openai/audio/speech"
        );
        assert_eq!(
            b,
            json!({"model": "hexgrad/Kokoro-82M", "input": "Hello", "voice": "af_bella", "response_format": "wav"})
        );
        assert!(stt_url(&t).ends_with("/deepinfra/v1/openai/audio/transcriptions"));
        t.provider = "together".into();
        t.base = "https://api.together.xyz".into();
        assert_eq!(
            tts_build(&t, "Hi", None).0,
            "https://api.together.xyz/v1/audio/speech"
        );
        assert_eq!(
            stt_url(&t),
            "https://api.together.xyz/v1/audio/transcriptions"
        );
        let (ct, body) = multipart("openai/whisper-large-v3", &wav(8000, &[1, 2]), "audio/wav");
        let boundary = ct.strip_prefix("multipart/form-data; boundary=").unwrap();
        let text = String::from_utf8_lossy(&body);
        assert!(text.starts_with(&format!("--{boundary}\r\n")));
        assert!(text.contains("name=\"model\"\r\n\r\nopenai/whisper-large-v3\r\n"));
        assert!(text.contains("name=\"response_format\"\r\n\r\nverbose_json\r\n"));
        assert!(text.contains("filename=\"audio.wav\"\r\nContent-Type: audio/wav\r\n\r\nRIFF"));
        assert!(text.ends_with(&format!("\r\n--{boundary}--\r\n")));
        assert_eq!(
            protocol(SpeechKind::Stt, "replicate"),
            Some(Protocol::Replicate)
        );
        assert_eq!(
            protocol(SpeechKind::Tts, "replicate"),
            Some(Protocol::Replicate)
        );
        assert_eq!(protocol(SpeechKind::Tts, "fal-ai"), Some(Protocol::Fal));
        assert_eq!(protocol(SpeechKind::Tts, "novita"), None);
        for kind in [SpeechKind::Stt, SpeechKind::Tts] {
            assert_eq!(providers(kind), PROVIDERS);
            let words = supported_words(kind);
            for name in ["HF Inference", "fal", "Replicate", "Together", "DeepInfra"] {
                assert!(words.contains(name), "{words}");
            }
        }
    }

    #[test]
    fn fal_speaks_text_through_its_queue() {
        let mut t = target(Protocol::Fal, true);
        t.model_id = "fal-ai/kokoro/american-english".into();
        let (url, b) = tts_build(&t, "Hello", Some("af_heart"));
        assert_eq!(
            url,
            "https://router.huggingface.co/fal-ai/fal-ai/kokoro/american-english?_subdomain=queue"
        );
        assert_eq!(b, json!({"text": "Hello", "voice": "af_heart"}));
        t.routed = false;
        t.base = "https://queue.fal.run".into();
        let (url, b) = tts_build(&t, "Hello", None);
        assert_eq!(url, "https://queue.fal.run/fal-ai/kokoro/american-english");
        assert_eq!(b, json!({"text": "Hello"}));
        // The result: an audio object, a bare audio_url, or the audio inline.
        let a = fal_audio(
            "fal",
            &json!({"audio": {"url": "https://v3.fal.media/files/x.wav", "content_type": "audio/wav"}}),
        )
        .unwrap();
        assert_eq!(a, AudioOut::Url("https://v3.fal.media/files/x.wav".into()));
        let a = fal_audio("fal", &json!({"audio_url": "https://v3.fal.media/y.wav"})).unwrap();
        assert_eq!(a, AudioOut::Url("https://v3.fal.media/y.wav".into()));
        let inline = base64::engine::general_purpose::STANDARD.encode(wav(8000, &[1]));
        let a = fal_audio(
            "fal",
            &json!({"audio": {"url": format!("data:audio/wav;base64,{inline}")}}),
        )
        .unwrap();
        assert_eq!(a, AudioOut::Bytes(wav(8000, &[1])));
        let e = fal_audio("fal", &json!({"images": []})).unwrap_err();
        assert_eq!(e.code, ErrorCode::BadResponse);
    }

    #[test]
    fn replicate_transcribes_a_data_url_by_version_or_model_route() {
        let mut t = target(Protocol::Replicate, true);
        t.provider = "replicate".into();
        t.base = "https://router.huggingface.co/replicate".into();
        t.model_id = "openai/whisper:8099696689d249cf".into();
        let audio = wav(8000, &[1, 2, 3]);
        assert_eq!(
            stt_url(&t),
            "https://router.huggingface.co/replicate/v1/predictions"
        );
        let b = stt_json(&t, &audio, "audio/wav");
        assert_eq!(b["version"], "8099696689d249cf");
        let sent = b["input"]["audio"].as_str().unwrap();
        let data = sent.strip_prefix("data:audio/wav;base64,").unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap(),
            audio
        );
        assert_eq!(b.as_object().unwrap().len(), 2);
        t.model_id = "openai/whisper".into();
        assert_eq!(
            stt_url(&t),
            "https://router.huggingface.co/replicate/v1/models/openai/whisper/predictions"
        );
        let b = stt_json(&t, &audio, "audio/wav");
        assert!(b.get("version").is_none());
        assert!(b["input"]["audio"].as_str().unwrap().starts_with("data:"));
        // fal's transcript body is unchanged.
        let f = stt_json(&target(Protocol::Fal, true), &audio, "audio/wav");
        assert!(f["audio_url"]
            .as_str()
            .unwrap()
            .starts_with("data:audio/wav;base64,"));
    }

    #[test]
    fn replicate_transcripts_are_read_in_each_shape() {
        // A bare string: the text.
        let t = replicate_transcript("R", &json!(" hello there ")).unwrap();
        assert_eq!(t.text, "hello there");
        assert!(t.segments.is_empty());
        // openai/whisper: transcription, segments with times, the language it heard.
        let v = json!({
            "transcription": " A man said to the universe, Sir, I exist.",
            "segments": [
                {"id": 0, "seek": 0, "start": 0.0, "end": 1.2, "text": " A man said to the universe,", "tokens": [50364], "temperature": 0.0},
                {"id": 1, "seek": 0, "start": 1.2, "end": 2.4, "text": " Sir, I exist.", "tokens": [50424], "temperature": 0.0}
            ],
            "translation": null,
            "txt_file": null,
            "srt_file": null,
            "detected_language": "english"
        });
        let t = replicate_transcript("R", &v).unwrap();
        assert_eq!(t.text, "A man said to the universe, Sir, I exist.");
        assert_eq!(t.segments.len(), 2);
        assert_eq!(
            (
                t.segments[1].start,
                t.segments[1].end,
                t.segments[1].text.as_str()
            ),
            (Some(1.2), Some(2.4), "Sir, I exist.")
        );
        assert_eq!(t.language.as_deref(), Some("english"));
        // {text, chunks}: the Hugging Face pipeline's shape.
        let v = json!({"text": " hi there", "chunks": [{"timestamp": [0.0, 0.8], "text": " hi there"}]});
        let t = replicate_transcript("R", &v).unwrap();
        assert_eq!(t.text, "hi there");
        assert_eq!(t.segments[0].end, Some(0.8));
        // Streamed pieces, joined.
        let t = replicate_transcript("R", &json!([" hi", " there"])).unwrap();
        assert_eq!(t.text, "hi there");
        assert_eq!(
            replicate_transcript("R", &Value::Null).unwrap_err().code,
            ErrorCode::BadResponse
        );
        // A prediction's states, read with the transcript reader.
        let done = replicate_state(
            "R",
            &json!({"status": "succeeded", "output": "words"}),
            |o| replicate_transcript("R", o),
        )
        .unwrap();
        assert!(matches!(done, Poll::Done(t) if t.text == "words"));
        let failed = replicate_state(
            "R",
            &json!({"status": "failed", "error": "Audio file is corrupt"}),
            |o| replicate_transcript("R", o),
        )
        .unwrap();
        assert!(
            matches!(&failed, Poll::Failed(e) if e.code == ErrorCode::JobFailed && e.message.contains("Audio file is corrupt"))
        );
        // A prediction still running is a job with its poll and cancel URLs.
        let v = json!({"id": "p1", "status": "starting", "output": null, "urls": {"get": "https://r/v1/predictions/p1", "cancel": "https://r/v1/predictions/p1/cancel"}});
        let s = submitted("R", &v, Poll::<Transcript>::Waiting).unwrap();
        let Submitted::Job(job) = s else {
            panic!("a job")
        };
        assert_eq!(job.poll_url.as_deref(), Some("https://r/v1/predictions/p1"));
        assert_eq!(
            job.cancel_url.as_deref(),
            Some("https://r/v1/predictions/p1/cancel")
        );
        assert!(submitted(
            "R",
            &json!({"status": "starting"}),
            Poll::<Transcript>::Waiting
        )
        .is_err());
    }

    #[test]
    fn a_replicate_prediction_is_read_in_each_state() {
        let audio = |o: &Value| replicate_audio("R", o);
        let w =
            replicate_state("R", &json!({"status": "starting", "output": null}), audio).unwrap();
        assert_eq!(w, Poll::Waiting);
        let d = replicate_state(
            "R",
            &json!({"status": "succeeded", "output": "https://x/o.wav"}),
            audio,
        )
        .unwrap();
        assert_eq!(d, Poll::Done(AudioOut::Url("https://x/o.wav".into())));
        let f = replicate_state(
            "R",
            &json!({"status": "failed", "error": "CUDA out of memory"}),
            audio,
        )
        .unwrap();
        assert!(matches!(f, Poll::Failed(e) if e.code == ErrorCode::JobFailed));
    }
}
