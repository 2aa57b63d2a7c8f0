//! The text-to-image engine: each provider's request shape and job protocol behind [`submit`]
//! and [`poll`], and the download and keeping of results ([`fetch_picture`], [`store`]).
//! No Tauri, no history: the image service runs a job end to end with these.
//!
//! | provider | request | answer |
//! |---|---|---|
//! | hf-inference | `POST models/{id}` `{inputs, parameters}` | the picture's bytes |
//! | together, nebius, nscale | `POST v1/images/generations` | `data[].b64_json` |
//! | hyperbolic | `POST v1/images/generations` `{model_name}` | `images[].image` (base64) |
//! | fal-ai | queue: `POST {fal-id}` (routed `?_subdomain=queue`) | poll `status_url`, then `response_url` → `images[].url` |
//! | replicate | `POST v1/predictions` (`version`) or `v1/models/{id}/predictions`, `Prefer: wait` | `output` URL(s), else poll `urls.get` |
//! | black-forest-labs | `POST v1/{model}` | poll `polling_url` → `result.sample` |
//!
//! Credentials: a poll, result or cancel URL gets the call's credential only when it lies
//! under the base the call was made to (the router, or the provider's own base); pictures on
//! other hosts are fetched with no credential, by a client that carries none.

use std::path::Path;

use base64::Engine as _;
use reqwest::header::{HeaderMap, CONTENT_TYPE};
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

mod video;

pub use video::{sniff_video, MAX_VIDEO_BYTES};

use crate::call::{ImageRequest, ProviderJob, StoredImage, Task};
use crate::error::{scrub, AppError, AppResult, ErrorCode};
use crate::hf::{self, error_from_response, read_capped, transport_error};

/// The job protocols the app speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    HfInference,
    /// OpenAI-style `v1/images/generations` with base64 answers (`response_format` differs).
    OpenAiImages {
        response_format: &'static str,
    },
    Hyperbolic,
    Fal,
    Replicate,
    BlackForestLabs,
    /// OpenAI-style audio (`…/audio/speech`, `…/audio/transcriptions`): speech only, never
    /// given by [`protocol`].
    OpenAiAudio,
    /// Together's videos: `POST v2/videos`, poll `v2/videos/{id}`.
    TogetherVideo,
    /// Novita's async tasks: `POST v3/async/{model}`, poll `v3/async/task-result?task_id=`.
    Novita,
    /// WaveSpeed: `POST api/v3/{model}`, poll `data.urls.get`.
    WaveSpeed,
}

/// The protocol of a provider that makes pictures, if the app knows it.
pub fn protocol(provider: &str) -> Option<Protocol> {
    Some(match provider {
        "hf-inference" => Protocol::HfInference,
        "together" => Protocol::OpenAiImages {
            response_format: "base64",
        },
        "nebius" | "nscale" => Protocol::OpenAiImages {
            response_format: "b64_json",
        },
        "hyperbolic" => Protocol::Hyperbolic,
        "fal-ai" => Protocol::Fal,
        "replicate" => Protocol::Replicate,
        "black-forest-labs" => Protocol::BlackForestLabs,
        _ => return None,
    })
}

/// The protocol a provider speaks for a generation `task` (pictures or video), if the app
/// knows it.
pub fn protocol_for(provider: &str, task: Task) -> Option<Protocol> {
    match task {
        Task::TextToVideo | Task::ImageToVideo => video::protocol(provider, task),
        Task::TextToImage => protocol(provider),
        _ => None,
    }
}

/// Where a generation goes and with what credential.
pub struct Target {
    pub provider: String,
    /// Who answers, in words, for messages.
    pub who: String,
    pub protocol: Protocol,
    /// `{router}/{provider}` when routed, else the provider's own base (fal: its queue).
    pub base: String,
    /// URLs under this get the credential: the router's root, or the provider's base.
    pub trusted: String,
    pub routed: bool,
    /// The model id the provider knows.
    pub model_id: String,
    /// `(header, value)` carrying the credential.
    pub auth: (String, String),
    pub headers: Vec<(String, String)>,
    /// The raw credential, to take out of any error text.
    pub secret: String,
}

/// A result as the provider gave it.
#[derive(Debug, Clone, PartialEq)]
pub enum Picture {
    Bytes(Vec<u8>),
    Url(String),
}

/// A finished generation, before its pictures are fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Output {
    pub pictures: Vec<Picture>,
    pub seed: Option<i64>,
    /// What the provider says it bills: (amount, unit).
    pub billed: Option<(f64, String)>,
    /// The provider's safety filter flagged it.
    pub flagged: bool,
}

/// What the provider answered to the request.
#[derive(Debug, Clone, PartialEq)]
pub enum Submitted {
    Done(Output),
    Job(ProviderJob),
}

/// Where a job stands.
#[derive(Debug, Clone, PartialEq)]
pub enum Poll {
    Waiting {
        status: String,
        running: bool,
        progress: Option<f64>,
        queue_position: Option<u64>,
        /// The time left, as the provider estimates it.
        eta_ms: Option<u64>,
    },
    Done(Output),
    Failed(AppError),
    Cancelled,
}

/// The most a picture (or an answer holding base64 pictures) may weigh.
pub const MAX_PICTURE_BYTES: usize = 40 << 20;

fn put<T: Into<Value>>(m: &mut Map<String, Value>, key: &str, v: Option<T>) {
    if let Some(v) = v {
        m.insert(key.to_string(), v.into());
    }
}

fn negative(r: &ImageRequest) -> Option<String> {
    let n = r.negative_prompt.trim();
    (!n.is_empty()).then(|| n.to_string())
}

/// The URL and body of the generation request.
pub fn build(t: &Target, r: &ImageRequest) -> (String, Value) {
    if r.is_video() {
        return video::build(t, r);
    }
    let mut m = Map::new();
    let n = (r.n > 1).then_some(r.n);
    match t.protocol {
        Protocol::HfInference if r.source.is_some() => {
            // Image-to-image: the picture is the input, the prompt a parameter.
            let mut p = Map::new();
            p.insert("prompt".into(), r.prompt.clone().into());
            put(&mut p, "negative_prompt", negative(r));
            put(&mut p, "strength", r.strength);
            put(&mut p, "num_inference_steps", r.steps);
            put(&mut p, "guidance_scale", r.guidance);
            put(&mut p, "seed", r.seed);
            let inputs = source_base64(r).unwrap_or_default();
            let url = format!("{}/models/{}", t.base, t.model_id);
            (url, json!({"inputs": inputs, "parameters": p}))
        }
        Protocol::HfInference => {
            let mut p = Map::new();
            put(&mut p, "width", r.width);
            put(&mut p, "height", r.height);
            put(&mut p, "seed", r.seed);
            put(&mut p, "num_inference_steps", r.steps);
            put(&mut p, "guidance_scale", r.guidance);
            put(&mut p, "negative_prompt", negative(r));
            let url = format!("{}/models/{}", t.base, t.model_id);
            (url, json!({"inputs": r.prompt, "parameters": p}))
        }
        Protocol::OpenAiImages { response_format } => {
            m.insert("prompt".into(), r.prompt.clone().into());
            m.insert("model".into(), t.model_id.clone().into());
            m.insert("response_format".into(), response_format.into());
            put(&mut m, "width", r.width);
            put(&mut m, "height", r.height);
            put(&mut m, "seed", r.seed);
            let steps_key = if t.provider == "together" {
                "steps"
            } else {
                "num_inference_steps"
            };
            put(&mut m, steps_key, r.steps);
            put(&mut m, "guidance_scale", r.guidance);
            put(&mut m, "negative_prompt", negative(r));
            put(&mut m, "n", n);
            (
                format!("{}/v1/images/generations", t.base),
                Value::Object(m),
            )
        }
        Protocol::Hyperbolic => {
            m.insert("prompt".into(), r.prompt.clone().into());
            m.insert("model_name".into(), t.model_id.clone().into());
            put(&mut m, "width", r.width);
            put(&mut m, "height", r.height);
            put(&mut m, "steps", r.steps);
            put(&mut m, "cfg_scale", r.guidance);
            put(&mut m, "seed", r.seed);
            put(&mut m, "negative_prompt", negative(r));
            (
                format!("{}/v1/images/generations", t.base),
                Value::Object(m),
            )
        }
        Protocol::Fal => {
            m.insert("prompt".into(), r.prompt.clone().into());
            if let (Some(w), Some(h)) = (r.width, r.height) {
                m.insert("image_size".into(), json!({"width": w, "height": h}));
            }
            put(&mut m, "num_inference_steps", r.steps);
            put(&mut m, "guidance_scale", r.guidance);
            put(&mut m, "seed", r.seed);
            put(&mut m, "negative_prompt", negative(r));
            put(&mut m, "num_images", n);
            let mut route = t.model_id.clone();
            if let Some(src) = &r.source {
                // fal serves image-to-image for its text-to-image models at `{id}/image-to-image`.
                m.insert("image_url".into(), src.clone().into());
                put(&mut m, "strength", r.strength);
                if !route.ends_with("image-to-image") {
                    route.push_str("/image-to-image");
                }
            }
            let mut url = format!("{}/{}", t.base, route);
            if t.routed {
                url.push_str("?_subdomain=queue");
            }
            (url, Value::Object(m))
        }
        Protocol::Replicate => {
            let mut input = Map::new();
            input.insert("prompt".into(), r.prompt.clone().into());
            put(&mut input, "negative_prompt", negative(r));
            put(&mut input, "width", r.width);
            put(&mut input, "height", r.height);
            put(&mut input, "num_inference_steps", r.steps);
            put(&mut input, "guidance_scale", r.guidance);
            put(&mut input, "seed", r.seed);
            put(&mut input, "num_outputs", n);
            if let Some(src) = &r.source {
                input.insert("image".into(), src.clone().into());
                put(&mut input, "prompt_strength", r.strength);
            }
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
        Protocol::BlackForestLabs => {
            m.insert("prompt".into(), r.prompt.clone().into());
            put(&mut m, "width", r.width);
            put(&mut m, "height", r.height);
            put(&mut m, "steps", r.steps);
            put(&mut m, "guidance", r.guidance);
            put(&mut m, "seed", r.seed);
            let model = t.model_id.rsplit('/').next().unwrap_or(&t.model_id);
            (format!("{}/v1/{model}", t.base), Value::Object(m))
        }
        // Speech and video only: a picture is never asked of them.
        Protocol::OpenAiAudio
        | Protocol::TogetherVideo
        | Protocol::Novita
        | Protocol::WaveSpeed => (t.base.clone(), Value::Object(m)),
    }
}

/// Whether the app can send a source picture (image-to-image) to this protocol.
pub fn takes_source(p: Protocol) -> bool {
    matches!(
        p,
        Protocol::HfInference | Protocol::Fal | Protocol::Replicate
    )
}

/// The most a source picture may weigh.
pub const MAX_SOURCE_BYTES: usize = 10 << 20;

/// The source picture's bytes, base64, without the `data:` prefix.
fn source_base64(r: &ImageRequest) -> Option<String> {
    let s = r.source.as_deref()?;
    Some(s.rsplit_once("base64,").map_or(s, |(_, d)| d).to_string())
}

/// Checks a source picture (a `data:` URL): base64, at most [`MAX_SOURCE_BYTES`], a picture by
/// its bytes. Returns it in canonical form, with the MIME type its bytes say.
pub fn check_source(data_url: &str) -> AppResult<String> {
    let b64 = data_url
        .strip_prefix("data:")
        .and_then(|r| r.split_once(";base64,"))
        .map(|(_, d)| d)
        .ok_or_else(|| {
            AppError::new(
                ErrorCode::InvalidRequest,
                "The source picture could not be read. Choose, drop or paste a PNG, JPEG or WebP file.",
            )
        })?;
    if b64.len() > MAX_SOURCE_BYTES * 4 / 3 + 4 {
        return Err(hf::too_large("The source picture", MAX_SOURCE_BYTES));
    }
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(b64.trim())
        .map_err(|_| {
            AppError::new(
                ErrorCode::InvalidRequest,
                "The source picture could not be read. Choose, drop or paste a PNG, JPEG or WebP file.",
            )
        })?;
    source_data_url(&bytes)
}

/// A picture's bytes as a `data:` URL, refusing what is not a picture or too large.
pub fn source_data_url(bytes: &[u8]) -> AppResult<String> {
    if bytes.len() > MAX_SOURCE_BYTES {
        return Err(hf::too_large("The source picture", MAX_SOURCE_BYTES));
    }
    let Some((mime, _)) = sniff(bytes) else {
        return Err(AppError::new(
            ErrorCode::NotAnImage,
            "The source is not a picture (PNG, JPEG, WebP or GIF).",
        ));
    };
    Ok(format!(
        "data:{mime};base64,{}",
        base64::engine::general_purpose::STANDARD.encode(bytes)
    ))
}

/// Whether `url` lies under `base` (same scheme, host and port, and below its path).
pub fn within(base: &str, url: &str) -> bool {
    let (Ok(b), Ok(u)) = (url::Url::parse(base), url::Url::parse(url)) else {
        return false;
    };
    let prefix = format!("{}/", b.path().trim_end_matches('/'));
    hf::same_origin(&b, &u) && (u.path().starts_with(&prefix) || u.path() == b.path())
}

/// `rb` with the call's credential and headers when `url` is under the call's trusted base.
pub(crate) fn with_auth(
    t: &Target,
    rb: reqwest::RequestBuilder,
    url: &str,
) -> reqwest::RequestBuilder {
    if within(&t.trusted, url) {
        let mut rb = rb.header(&t.auth.0, &t.auth.1);
        for (k, v) in &t.headers {
            rb = rb.header(k, v);
        }
        rb
    } else {
        rb
    }
}

/// The request id the answer carried, if any.
pub fn request_id(headers: &HeaderMap) -> Option<String> {
    ["x-request-id", "x-fal-request-id"]
        .iter()
        .find_map(|h| headers.get(*h)?.to_str().ok().map(str::to_string))
}

/// Sends `rb` and reads the answer (up to [`MAX_PICTURE_BYTES`]); a failure status becomes the
/// app's error, in image words.
async fn send(
    t: &Target,
    rb: reqwest::RequestBuilder,
    r: Option<&ImageRequest>,
) -> AppResult<(HeaderMap, Vec<u8>)> {
    send_keeping_id(t, rb, r).await.map_err(|(e, _)| e)
}

/// [`send`], keeping the answer's request id with a failure.
async fn send_keeping_id(
    t: &Target,
    rb: reqwest::RequestBuilder,
    r: Option<&ImageRequest>,
) -> Result<(HeaderMap, Vec<u8>), Failure> {
    let resp = rb
        .send()
        .await
        .map_err(|e| (transport_error(&e, &t.who), None))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let rid = request_id(&headers);
    let body = match read_capped(resp, MAX_PICTURE_BYTES).await {
        Ok(Some(b)) => b,
        Ok(None) => return Err((hf::too_large(&t.who, MAX_PICTURE_BYTES), rid)),
        Err(e) => return Err((transport_error(&e, &t.who), rid)),
    };
    if !status.is_success() {
        let text = String::from_utf8_lossy(&body);
        let err = error_from_response(status, &headers, &text, &t.who);
        return Err((refine(err, &text, r, &t.who).without_secret(&t.secret), rid));
    }
    Ok((headers, body))
}

/// An error, with the request id of the answer that carried it.
pub type Failure = (AppError, Option<String>);

fn mentions(text: &str, words: &[&str]) -> bool {
    let l = text.to_ascii_lowercase();
    words.iter().any(|w| l.contains(w))
}

const FLAG_WORDS: [&str; 5] = ["nsfw", "safety", "flagged", "moderat", "inappropriate"];

/// Image words for a provider's refusal: a flagged prompt, a refused size.
fn refine(err: AppError, body: &str, r: Option<&ImageRequest>, who: &str) -> AppError {
    if !matches!(err.code, ErrorCode::InvalidRequest | ErrorCode::ServerError) {
        return err;
    }
    let detail = hf::error_detail(body).unwrap_or_default();
    if mentions(&detail, &FLAG_WORDS) {
        return flagged(who, Some(&detail));
    }
    if err.code == ErrorCode::InvalidRequest && mentions(&detail, &["size", "width", "height"]) {
        let size = r
            .and_then(|r| Some(format!("{}×{}", r.width?, r.height?)))
            .unwrap_or_else(|| "the requested size".into());
        return AppError::new(
            ErrorCode::InvalidRequest,
            format!("{who} does not accept the size {size} for this model. It said: “{detail}”. Pick another size."),
        );
    }
    if err.code == ErrorCode::ServerError && !detail.is_empty() {
        return job_failed(who, &detail);
    }
    err
}

fn flagged(who: &str, detail: Option<&str>) -> AppError {
    let said = detail
        .filter(|d| !d.is_empty())
        .map(|d| format!(" It said: “{}”.", scrub(d, 200)))
        .unwrap_or_default();
    AppError::new(
        ErrorCode::ContentFlagged,
        format!("{who}'s safety filter flagged this picture, so there is nothing to show.{said} Change the prompt and try again."),
    )
}

/// A job that ended in failure at the provider, in plain words.
pub fn job_failed(who: &str, detail: &str) -> AppError {
    let d = scrub(detail, 300);
    if mentions(detail, &FLAG_WORDS) {
        return flagged(who, Some(detail));
    }
    if mentions(detail, &["timed out", "timeout", "time out"]) {
        return AppError::new(
            ErrorCode::Timeout,
            format!("{who} gave up on the job: it waited too long (“{d}”). Try again later."),
        );
    }
    AppError::new(
        ErrorCode::JobFailed,
        format!("The job failed at {who}: “{d}”."),
    )
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

fn b64(who: &str, s: &str) -> AppResult<Vec<u8>> {
    let s = s.rsplit_once("base64,").map_or(s, |(_, d)| d);
    base64::engine::general_purpose::STANDARD
        .decode(s.trim())
        .map_err(|_| bad(who, "broken base64"))
}

fn picture_of(who: &str, s: &str) -> AppResult<Picture> {
    if s.starts_with("data:") {
        Ok(Picture::Bytes(b64(who, s)?))
    } else {
        Ok(Picture::Url(s.to_string()))
    }
}

fn header_f64(h: &HeaderMap, name: &str) -> Option<f64> {
    h.get(name)?.to_str().ok()?.trim().parse().ok()
}

/// Sends the generation request.
pub async fn submit(
    http: &reqwest::Client,
    t: &Target,
    r: &ImageRequest,
) -> Result<(Submitted, Option<String>), Failure> {
    let (url, body) = build(t, r);
    let mut rb = http.post(&url).json(&body);
    rb = with_auth(t, rb, &url);
    if t.protocol == Protocol::Replicate {
        rb = rb.header("prefer", "wait");
    }
    if t.protocol == Protocol::HfInference {
        rb = rb.header("accept", "image/png, image/jpeg, image/webp, */*");
    }
    let (headers, body) = send_keeping_id(t, rb, Some(r)).await?;
    let rid = request_id(&headers);
    read_submitted(t, r, &headers, body)
        .map(|s| (s, rid.clone()))
        .map_err(|e| (e, rid))
}

fn read_submitted(
    t: &Target,
    r: &ImageRequest,
    headers: &HeaderMap,
    body: Vec<u8>,
) -> AppResult<Submitted> {
    let who = t.who.as_str();
    let out = match t.protocol {
        Protocol::HfInference => {
            let is_json = headers
                .get(CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .is_some_and(|c| c.contains("json"));
            if is_json {
                let v = parse_json(who, &body)?;
                let err = v["error"].as_str().unwrap_or("no picture in the answer");
                return Err(job_failed(who, err));
            }
            Submitted::Done(Output {
                pictures: vec![Picture::Bytes(body)],
                seed: r.seed,
                ..Output::default()
            })
        }
        Protocol::OpenAiImages { .. } => {
            let v = parse_json(who, &body)?;
            let mut pictures = Vec::new();
            for d in v["data"].as_array().into_iter().flatten() {
                if let Some(s) = d["b64_json"].as_str() {
                    pictures.push(Picture::Bytes(b64(who, s)?));
                } else if let Some(u) = d["url"].as_str() {
                    pictures.push(picture_of(who, u)?);
                }
            }
            Submitted::Done(Output {
                pictures,
                seed: v["seed"].as_i64().or(r.seed),
                ..Output::default()
            })
        }
        Protocol::Hyperbolic => {
            let v = parse_json(who, &body)?;
            let pictures = v["images"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|i| i["image"].as_str())
                .map(|s| b64(who, s).map(Picture::Bytes))
                .collect::<AppResult<Vec<_>>>()?;
            Submitted::Done(Output {
                pictures,
                seed: r.seed,
                ..Output::default()
            })
        }
        Protocol::Fal => {
            let v = parse_json(who, &body)?;
            if v.get("images").is_some() || v.get("video").is_some() {
                Submitted::Done(fal_output(who, &v, headers)?)
            } else {
                let id = v["request_id"].as_str().map(str::to_string);
                let result = v["response_url"].as_str().map(str::to_string);
                let poll = v["status_url"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| result.as_ref().map(|u| format!("{u}/status")));
                let cancel = v["cancel_url"]
                    .as_str()
                    .map(str::to_string)
                    .or_else(|| result.as_ref().map(|u| format!("{u}/cancel")));
                if poll.is_none() || result.is_none() {
                    return Err(bad(who, "no queue URLs"));
                }
                Submitted::Job(ProviderJob {
                    id,
                    poll_url: poll,
                    result_url: result,
                    cancel_url: cancel,
                })
            }
        }
        Protocol::Replicate => {
            let v = parse_json(who, &body)?;
            match replicate_state(who, &v)? {
                Poll::Done(o) => Submitted::Done(o),
                Poll::Failed(e) => return Err(e),
                Poll::Cancelled => {
                    return Err(job_failed(who, "the prediction was cancelled"));
                }
                Poll::Waiting { .. } => Submitted::Job(ProviderJob {
                    id: v["id"].as_str().map(str::to_string),
                    poll_url: v["urls"]["get"].as_str().map(str::to_string),
                    result_url: None,
                    cancel_url: v["urls"]["cancel"].as_str().map(str::to_string),
                }),
            }
        }
        Protocol::BlackForestLabs => {
            let v = parse_json(who, &body)?;
            let poll = v["polling_url"].as_str().map(str::to_string);
            if poll.is_none() {
                return Err(bad(who, "no polling URL"));
            }
            Submitted::Job(ProviderJob {
                id: v["id"].as_str().map(str::to_string),
                poll_url: poll,
                result_url: None,
                cancel_url: None,
            })
        }
        Protocol::TogetherVideo | Protocol::Novita | Protocol::WaveSpeed => {
            video::read_submitted(t, &parse_json(who, &body)?)?
        }
        Protocol::OpenAiAudio => return Err(AppError::internal("not a picture protocol")),
    };
    Ok(out)
}

fn fal_output(who: &str, v: &Value, headers: &HeaderMap) -> AppResult<Output> {
    // Pictures come as `images[].url`, a video as `video.url`.
    let pictures = v["images"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(v.get("video"))
        .filter_map(|i| i["url"].as_str())
        .map(|u| picture_of(who, u))
        .collect::<AppResult<Vec<_>>>()?;
    let flagged = v["has_nsfw_concepts"]
        .as_array()
        .is_some_and(|a| a.iter().any(|f| f.as_bool() == Some(true)));
    Ok(Output {
        pictures,
        seed: v["seed"].as_i64(),
        billed: header_f64(headers, "x-fal-billable-units").map(|u| (u, "units".into())),
        flagged,
    })
}

fn replicate_state(who: &str, v: &Value) -> AppResult<Poll> {
    let status = v["status"].as_str().unwrap_or_default();
    let outputs: Vec<String> = match &v["output"] {
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .filter_map(|o| o.as_str())
            .map(String::from)
            .collect(),
        _ => Vec::new(),
    };
    let billed = v["metrics"]["predict_time"]
        .as_f64()
        .map(|s| (s, "seconds".into()));
    Ok(match status {
        "failed" => Poll::Failed(job_failed(
            who,
            v["error"].as_str().unwrap_or("the prediction failed"),
        )),
        "canceled" | "cancelled" => Poll::Cancelled,
        _ if !outputs.is_empty() && status != "starting" => Poll::Done(Output {
            pictures: outputs
                .iter()
                .map(|u| picture_of(who, u))
                .collect::<AppResult<_>>()?,
            seed: v["input"]["seed"].as_i64(),
            billed,
            flagged: false,
        }),
        "succeeded" => return Err(bad(who, "a finished prediction with no output")),
        other => Poll::Waiting {
            status: other.to_string(),
            running: other == "processing",
            progress: None,
            queue_position: None,
            eta_ms: None,
        },
    })
}

/// Reads where a job stands (once).
pub async fn poll(http: &reqwest::Client, t: &Target, job: &ProviderJob) -> AppResult<Poll> {
    let who = t.who.as_str();
    let Some(url) = job.poll_url.as_deref() else {
        return Err(AppError::internal("an image job without a poll URL"));
    };
    let rb = with_auth(t, http.get(url), url);
    let (_, body) = send(t, rb, None).await?;
    let v = parse_json(who, &body)?;
    match t.protocol {
        Protocol::Fal => match v["status"].as_str().unwrap_or_default() {
            "COMPLETED" => {
                let Some(result) = job.result_url.as_deref() else {
                    return Err(bad(who, "no result URL"));
                };
                let rb = with_auth(t, http.get(result), result);
                let (headers, body) = match send(t, rb, None).await {
                    Ok(x) => x,
                    Err(e)
                        if e.code == ErrorCode::JobFailed
                            || e.code == ErrorCode::ContentFlagged
                            || e.code == ErrorCode::Timeout =>
                    {
                        return Ok(Poll::Failed(e))
                    }
                    Err(e) => return Err(e),
                };
                let v = parse_json(who, &body)?;
                Ok(Poll::Done(fal_output(who, &v, &headers)?))
            }
            "CANCELLED" | "CANCELED" => Ok(Poll::Cancelled),
            s => Ok(Poll::Waiting {
                status: s.to_string(),
                running: s == "IN_PROGRESS",
                progress: None,
                queue_position: v["queue_position"].as_u64(),
                eta_ms: None,
            }),
        },
        Protocol::Replicate => replicate_state(who, &v),
        Protocol::BlackForestLabs => match v["status"].as_str().unwrap_or_default() {
            "Ready" => Ok(Poll::Done(Output {
                pictures: v["result"]["sample"]
                    .as_str()
                    .map(|u| picture_of(who, u))
                    .transpose()?
                    .into_iter()
                    .collect(),
                seed: v["result"]["seed"].as_i64(),
                ..Output::default()
            })),
            "Pending" | "Queued" => Ok(Poll::Waiting {
                status: "Pending".into(),
                running: v["progress"].as_f64().is_some_and(|p| p > 0.0),
                progress: v["progress"].as_f64(),
                queue_position: None,
                eta_ms: None,
            }),
            "Content Moderated" | "Request Moderated" => Ok(Poll::Failed(flagged(who, None))),
            other => Ok(Poll::Failed(job_failed(
                who,
                v["details"].as_str().unwrap_or(other),
            ))),
        },
        Protocol::TogetherVideo | Protocol::Novita | Protocol::WaveSpeed => video::read_poll(t, &v),
        _ => Err(AppError::internal("this provider has no jobs to poll")),
    }
}

/// Asks the provider to cancel a job, where it allows it. Best effort: the job is cancelled
/// in the app whatever the provider answers.
pub async fn cancel(http: &reqwest::Client, t: &Target, job: &ProviderJob) -> bool {
    let Some(url) = job.cancel_url.as_deref() else {
        return false;
    };
    let rb = match t.protocol {
        Protocol::Fal => http.put(url),
        _ => http.post(url),
    };
    with_auth(t, rb, url)
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// The bytes of a result: those the provider sent, or a download. A URL under the call's
/// base gets its credential (through `http`, which follows same-origin redirects only); any
/// other is fetched by `open`, a client that never carries one.
pub async fn fetch_picture(
    http: &reqwest::Client,
    open: &reqwest::Client,
    t: &Target,
    p: &Picture,
    max_bytes: usize,
    what: &str,
) -> AppResult<Vec<u8>> {
    let url = match p {
        Picture::Bytes(b) => return Ok(b.clone()),
        Picture::Url(u) => u,
    };
    download(http, open, t, url, max_bytes, what).await
}

/// Downloads a job's result (`what`: "picture", "video", "audio"). A URL under the call's base gets its
/// credential (through `http`, which follows same-origin redirects only); any other is fetched
/// by `open`, a client that never carries one. Size-capped; errors never name the credential.
pub(crate) async fn download(
    http: &reqwest::Client,
    open: &reqwest::Client,
    t: &Target,
    url: &str,
    max_bytes: usize,
    what: &str,
) -> AppResult<Vec<u8>> {
    let parsed = url::Url::parse(url).map_err(|_| bad(&t.who, &format!("a broken {what} URL")))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(bad(&t.who, &format!("a {what} URL that is not http(s)")));
    }
    let rb = if within(&t.trusted, url) {
        with_auth(t, http.get(url), url)
    } else {
        open.get(url)
    };
    let resp = rb
        .send()
        .await
        .map_err(|e| transport_error(&e, &t.who).without_secret(&t.secret))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    if !status.is_success() {
        let body = hf::read_text_capped(resp, hf::MAX_SMALL_BODY_BYTES, &t.who)
            .await
            .unwrap_or_default();
        return Err(error_from_response(status, &headers, &body, &t.who).without_secret(&t.secret));
    }
    match read_capped(resp, max_bytes).await {
        Ok(Some(b)) => Ok(b),
        Ok(None) => Err(hf::too_large(
            &format!("The {what} from {}", t.who),
            max_bytes,
        )),
        Err(e) => Err(transport_error(&e, &t.who).without_secret(&t.secret)),
    }
}

/// What a picture is, by its first bytes: (MIME type, extension).
pub fn sniff(b: &[u8]) -> Option<(&'static str, &'static str)> {
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some(("image/png", "png"))
    } else if b.starts_with(b"\xff\xd8\xff") {
        Some(("image/jpeg", "jpg"))
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(("image/webp", "webp"))
    } else if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        Some(("image/gif", "gif"))
    } else {
        None
    }
}

/// Keeps a picture in `dir` under the hash of its bytes; refuses what is not a picture.
pub fn store(dir: &Path, bytes: &[u8], who: &str) -> AppResult<StoredImage> {
    let Some((mime, ext)) = sniff(bytes) else {
        return Err(AppError::new(
            ErrorCode::NotAnImage,
            format!("{who} sent a result that is not a picture (PNG, JPEG, WebP or GIF), so it was not kept."),
        ));
    };
    keep(dir, bytes, mime, ext, "save the picture")
}

/// Keeps a video in `dir` under the hash of its bytes; refuses what is not a video.
pub fn store_video(dir: &Path, bytes: &[u8], who: &str) -> AppResult<StoredImage> {
    let Some((mime, ext)) = sniff_video(bytes) else {
        return Err(AppError::new(
            ErrorCode::BadResponse,
            format!("{who} sent a result that is not a video (MP4 or WebM), so it was not kept."),
        ));
    };
    keep(dir, bytes, mime, ext, "save the video")
}

/// Writes `bytes` as `{sha256}.{ext}` in `dir` (through a temporary file, so a crash never
/// leaves half a file under the final name); a file already there is kept as it is.
fn keep(dir: &Path, bytes: &[u8], mime: &str, ext: &str, doing: &str) -> AppResult<StoredImage> {
    let hash = Sha256::digest(bytes);
    let hex: String = hash.iter().map(|b| format!("{b:02x}")).collect();
    let file = format!("{hex}.{ext}");
    std::fs::create_dir_all(dir).map_err(|e| AppError::io("create the images folder", &e))?;
    let path = dir.join(&file);
    if !path.exists() {
        let tmp = dir.join(format!(".{file}.part"));
        std::fs::write(&tmp, bytes).map_err(|e| AppError::io(doing, &e))?;
        std::fs::rename(&tmp, &path).map_err(|e| AppError::io(doing, &e))?;
    }
    Ok(StoredImage {
        file,
        mime: mime.to_string(),
        bytes: bytes.len() as u64,
    })
}

/// A picture's pixels: `width × height` RGBA, 4 bytes each, rows top to bottom.
#[derive(Debug, Clone, PartialEq)]
pub struct Pixels {
    pub width: u32,
    pub height: u32,
    pub rgba: Vec<u8>,
}

/// The largest picture decoded for the clipboard (pixels): a 8192 × 8192 picture is 256 MB of
/// RGBA, which is as far as it is sensible to go.
pub const MAX_DECODED_PIXELS: u64 = 8192 * 8192;

/// Decodes a kept picture (PNG, JPEG, WebP or GIF, checked by its bytes) to RGBA pixels, for
/// the clipboard. Refuses what is not a picture or would be too large once decoded.
pub fn decode_rgba(bytes: &[u8]) -> AppResult<Pixels> {
    let not_a_picture = || {
        AppError::new(
            ErrorCode::NotAnImage,
            "That file is not a picture Switchboard can read.",
        )
    };
    let format = match sniff(bytes).map(|(mime, _)| mime) {
        Some("image/png") => image::ImageFormat::Png,
        Some("image/jpeg") => image::ImageFormat::Jpeg,
        Some("image/webp") => image::ImageFormat::WebP,
        Some("image/gif") => image::ImageFormat::Gif,
        _ => return Err(not_a_picture()),
    };
    let mut reader = image::ImageReader::with_format(std::io::Cursor::new(bytes), format);
    let mut limits = image::Limits::default();
    limits.max_alloc = Some(MAX_DECODED_PIXELS * 4);
    reader.limits(limits);
    let decoded = reader.decode().map_err(|e| match e {
        image::ImageError::Limits(_) => AppError::new(
            ErrorCode::InvalidRequest,
            "That picture is too large to copy: use Save as… instead.",
        ),
        _ => not_a_picture(),
    })?;
    let rgba = decoded.into_rgba8();
    Ok(Pixels {
        width: rgba.width(),
        height: rgba.height(),
        rgba: rgba.into_raw(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(protocol: Protocol, routed: bool) -> Target {
        Target {
            provider: "together".into(),
            who: "Together AI".into(),
            protocol,
            base: "https://router.huggingface.co/together".into(),
            trusted: "https://router.huggingface.co".into(),
            routed,
            model_id: "owner/model:abc".into(),
            auth: ("authorization".into(), "Bearer hf_x".into()),
            headers: vec![],
            secret: "hf_x".into(),
        }
    }

    fn request() -> ImageRequest {
        ImageRequest {
            task: Task::TextToImage,
            model: "m".into(),
            routing: crate::call::Routing::default(),
            prompt: "a cat".into(),
            negative_prompt: " ".into(),
            width: Some(512),
            height: Some(768),
            steps: Some(20),
            guidance: None,
            seed: Some(7),
            n: 1,
            bill_to: None,
            source: None,
            strength: None,
            duration: None,
            resolution: None,
            aspect_ratio: None,
        }
    }

    #[test]
    fn each_provider_gets_its_own_shape_and_no_empty_fields() {
        let r = request();
        let (url, b) = build(&target(Protocol::HfInference, true), &r);
        assert!(url.ends_with("/models/owner/model:abc"));
        assert_eq!(b["inputs"], "a cat");
        assert_eq!(b["parameters"]["num_inference_steps"], 20);
        assert!(b["parameters"].get("negative_prompt").is_none());
        let (_, b) = build(
            &target(
                Protocol::OpenAiImages {
                    response_format: "base64",
                },
                true,
            ),
            &r,
        );
        assert_eq!(
            (b["response_format"].as_str(), b["steps"].as_u64()),
            (Some("base64"), Some(20))
        );
        assert!(b.get("n").is_none());
        let (url, b) = build(&target(Protocol::Fal, true), &r);
        assert!(url.ends_with("?_subdomain=queue"), "{url}");
        assert_eq!(b["image_size"], json!({"width": 512, "height": 768}));
        let (url, b) = build(&target(Protocol::Replicate, true), &r);
        assert!(url.ends_with("/v1/predictions"));
        assert_eq!(b["version"], "abc");
        assert_eq!(b["input"]["seed"], 7);
    }

    #[test]
    fn credentials_go_only_under_the_base() {
        let base = "https://router.huggingface.co";
        assert!(within(
            base,
            "https://router.huggingface.co/fal-ai/x/requests/1/status"
        ));
        assert!(!within(base, "https://v3.fal.media/files/x.png"));
        assert!(!within(base, "http://router.huggingface.co/fal-ai/x"));
        assert!(!within(
            "http://127.0.0.1:5/router",
            "http://127.0.0.1:5/ext/v3.fal.media/x.png"
        ));
        assert!(within(
            "http://127.0.0.1:5/router",
            "http://127.0.0.1:5/router/replicate/v1/predictions/1"
        ));
        assert!(!within(
            "http://127.0.0.1:5/router",
            "http://127.0.0.1:5/routerx/y"
        ));
    }

    #[test]
    fn pictures_are_known_by_their_bytes() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest").unwrap().1, "png");
        assert_eq!(sniff(b"\xff\xd8\xff\xe0..").unwrap().1, "jpg");
        assert_eq!(sniff(b"RIFF\0\0\0\0WEBPVP8 ").unwrap().1, "webp");
        assert!(sniff(b"<html>not a picture</html>").is_none());
        let dir = tempfile::tempdir().unwrap();
        let a = store(dir.path(), b"\x89PNG\r\n\x1a\nabc", "x").unwrap();
        let b = store(dir.path(), b"\x89PNG\r\n\x1a\nabc", "x").unwrap();
        assert_eq!(a, b);
        assert_eq!(a.file.len(), 64 + 4);
        let e = store(dir.path(), b"{\"error\":1}", "fal").unwrap_err();
        assert_eq!(e.code, ErrorCode::NotAnImage);
    }

    #[test]
    fn failures_are_told_in_plain_words() {
        assert_eq!(
            job_failed("fal", "NSFW content detected").code,
            ErrorCode::ContentFlagged
        );
        assert_eq!(
            job_failed("fal", "Request timed out in queue").code,
            ErrorCode::Timeout
        );
        assert_eq!(
            job_failed("fal", "CUDA out of memory").code,
            ErrorCode::JobFailed
        );
    }

    #[test]
    fn a_kept_picture_decodes_to_its_pixels_for_the_clipboard() {
        let mut png = Vec::new();
        let img = image::RgbaImage::from_raw(2, 1, vec![255, 0, 0, 255, 0, 0, 255, 128]).unwrap();
        img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
            .unwrap();
        let px = decode_rgba(&png).unwrap();
        assert_eq!((px.width, px.height), (2, 1));
        assert_eq!(px.rgba, [255, 0, 0, 255, 0, 0, 255, 128]);
        let err = decode_rgba(b"<svg onload=alert(1)>").unwrap_err();
        assert_eq!(err.code, ErrorCode::NotAnImage);
        // A PNG header with nothing after it is not a picture either.
        let err = decode_rgba(&png[..20]).unwrap_err();
        assert_eq!(err.code, ErrorCode::NotAnImage);
    }
}
