//! Text-to-video and image-to-video jobs. None of it was recorded: the shapes follow the
//! reference (`hf-inference-providers.md`, sections 3 and 7) and the providers' documentation,
//! and every finished job serves the same real 2-second VP8 WebM ([`SAMPLE_WEBM`]).
//!
//! Routed under `/router/{provider}/…` (an HF token) or direct under `/direct/{provider}/…`
//! (a provider key), like the image routes:
//!
//! - fal-ai, the queue (routed with `?_subdomain=queue`, always on the direct route):
//!   `POST {fal-id}` → `{request_id, status_url, response_url, cancel_url}`;
//!   `GET …/requests/{id}/status` (`IN_QUEUE` with a `queue_position` counting down,
//!   `IN_PROGRESS`, `COMPLETED`); `GET …/requests/{id}` → `{video: {url, content_type,
//!   file_size}, seed}`; `PUT …/requests/{id}/cancel`. Image to video needs `image_url` (422).
//!   A routed POST without the queue answers that result at once.
//! - replicate: `POST v1/models/{owner}/{name}/predictions` → 201 `starting` (`Prefer: wait` is
//!   ignored), `GET v1/predictions/{id}` → `starting`, `processing`, `succeeded` with `output`
//!   (the video's URL) and `metrics.predict_time`; `POST v1/predictions/{id}/cancel`. Image to
//!   video needs `input.image`.
//! - together: `POST v2/videos` → `{id: "vid_…", object: "video", status: "queued"}`;
//!   `GET v2/videos/{id}` → `queued`, `in_progress`, `completed` with `outputs.video_url` (or
//!   `failed` with `error: {code, message}`). No cancel route (Together has none).
//! - novita (text to video only): `POST v3/async/{model}` → `{task_id}`;
//!   `GET v3/async/task-result?task_id=…` → `task.status` `TASK_STATUS_QUEUED`,
//!   `TASK_STATUS_PROCESSING`, `TASK_STATUS_SUCCEED` (with `videos`), `TASK_STATUS_FAILED`.
//! - wavespeed: `POST api/v3/{model}` → `{code: 200, data: {id, status: "created", urls.get}}`;
//!   `GET api/v3/predictions/{id}/result` → `created`, `processing`, `completed` with
//!   `data.outputs` (or `failed` with `data.error`). Image to video needs `image`.
//!
//! A job answers "in progress" to [`VIDEO_POLLS`] polls (queued first, then in progress with a
//! growing progress and a shrinking eta), then it is done. Poll URLs are under the route the job
//! was made on; the video is served at `/ext/{host}/video/{id}/video.webm`, with no credential.
//!
//! Faults: the job faults of [`Scope::Image`] apply to video jobs too (`Fault::job_fails`,
//! `Fault::job_pending`, `Fault::job_stall`, `Fault::content_flagged`, plus `Status` and `Hang` on
//! the creating request); [`Scope::VideoFile`] applies to the video download
//! (`Fault::not_a_video()`: a 200 `text/html` page).

use crate::fault::{FaultKind, Scope};
use crate::lock;
use crate::Shared;
use axum::http::Method;
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// The text-to-video model the double lists (Hub id, `pipeline_tag: text-to-video`).
pub const T2V_MODEL: &str = "Wan-AI/Wan2.2-T2V-A14B";
/// The image-to-video model the double lists (Hub id, `pipeline_tag: image-to-video`).
pub const I2V_MODEL: &str = "Wan-AI/Wan2.2-I2V-A14B";

/// fal-ai's ids of [`T2V_MODEL`] and [`I2V_MODEL`].
pub const FAL_T2V: &str = "fal-ai/wan/v2.2-a14b/text-to-video";
pub const FAL_I2V: &str = "fal-ai/wan/v2.2-a14b/image-to-video";
/// Replicate's ids (`owner/name`, posted to `v1/models/{owner}/{name}/predictions`).
pub const REPLICATE_T2V: &str = "wan-video/wan-2.2-t2v-fast";
pub const REPLICATE_I2V: &str = "wan-video/wan-2.2-i2v-fast";
/// Together's ids (the Hub ids).
pub const TOGETHER_T2V: &str = T2V_MODEL;
pub const TOGETHER_I2V: &str = I2V_MODEL;
/// Novita's id (text to video only).
pub const NOVITA_T2V: &str = "wan-2.2-t2v";
/// WaveSpeed's ids.
pub const WAVESPEED_T2V: &str = "wavespeed-ai/wan-2.2/t2v-480p";
pub const WAVESPEED_I2V: &str = "wavespeed-ai/wan-2.2/i2v-480p";

/// Every provider mapping the double serves: (Hub id, provider, provider id).
pub const MAPPINGS: [(&str, &str, &str); 9] = [
    (T2V_MODEL, "fal-ai", FAL_T2V),
    (T2V_MODEL, "replicate", REPLICATE_T2V),
    (T2V_MODEL, "together", TOGETHER_T2V),
    (T2V_MODEL, "novita", NOVITA_T2V),
    (T2V_MODEL, "wavespeed", WAVESPEED_T2V),
    (I2V_MODEL, "fal-ai", FAL_I2V),
    (I2V_MODEL, "replicate", REPLICATE_I2V),
    (I2V_MODEL, "together", TOGETHER_I2V),
    (I2V_MODEL, "wavespeed", WAVESPEED_I2V),
];

/// The video every finished job serves: a real 2-second VP8 WebM (`assets/sample.webm`).
pub const SAMPLE_WEBM: &[u8] = include_bytes!("../assets/sample.webm");
/// Its content type.
pub const VIDEO_CONTENT_TYPE: &str = "video/webm";
/// How many polls a video job answers "in progress" before it is done (without faults).
pub const VIDEO_POLLS: u32 = 3;
/// The seed fal answers.
pub const FAL_SEED: u64 = 42;
/// The cost Together reports for a finished video.
pub const TOGETHER_COST: f64 = 0.35;
/// The `metrics.predict_time` Replicate reports.
pub const REPLICATE_PREDICT_TIME: f64 = 38.2;
/// The page [`crate::Fault::not_a_video`] serves instead of the video.
pub const NOT_A_VIDEO_BODY: &str = "<!DOCTYPE html><html><head><title>Access Denied</title></head><body><h1>Access Denied</h1><p>The requested file is no longer available.</p></body></html>";

/// Whether `b` starts with the EBML magic of a WebM (or Matroska) file.
pub fn is_webm(b: &[u8]) -> bool {
    b.starts_with(b"\x1a\x45\xdf\xa3")
}

/// The task of a Hub id the double maps.
fn task_of_hub(id: &str) -> Option<&'static str> {
    match id {
        T2V_MODEL => Some("text-to-video"),
        I2V_MODEL => Some("image-to-video"),
        _ => None,
    }
}

/// The Hub's answer for [`T2V_MODEL`] or [`I2V_MODEL`]: the mapping as an object keyed by
/// provider, as `GET /api/models/{id}?expand=inferenceProviderMapping` answers.
pub(crate) fn synthetic_hub_model(id: &str) -> Option<Value> {
    let task = task_of_hub(id)?;
    let mut mapping = serde_json::Map::new();
    for (_, provider, pid) in MAPPINGS.iter().filter(|(h, _, _)| *h == id) {
        mapping.insert(
            provider.to_string(),
            json!({"status": "live", "providerId": pid, "task": task}),
        );
    }
    Some(json!({
        "_id": id.replace('/', "-"),
        "id": id,
        "pipeline_tag": task,
        "library_name": "diffusers",
        "inferenceProviderMapping": mapping
    }))
}

/// The Hub's search answer (`GET /api/models?pipeline_tag={task}`) for the video models: the
/// mapping as a list; none for another task, both for no task.
pub(crate) fn hub_list(task: &str) -> Vec<Value> {
    [T2V_MODEL, I2V_MODEL]
        .into_iter()
        .filter_map(|id| {
            let t = task_of_hub(id)?;
            if !task.is_empty() && task != t {
                return None;
            }
            let list: Vec<Value> = MAPPINGS
                .iter()
                .filter(|(h, _, _)| *h == id)
                .map(|(_, p, pid)| json!({"provider": p, "providerId": pid, "status": "live", "task": t}))
                .collect();
            Some(json!({"_id": id.replace('/', "-"), "id": id, "pipeline_tag": t, "likes": 0, "inferenceProviderMapping": list}))
        })
        .collect()
}

/// Whether `provider`'s model id is an image-to-video one; `None` when it is not a video model.
fn image_to_video(provider: &str, provider_id: &str) -> Option<bool> {
    MAPPINGS
        .iter()
        .find(|(_, p, pid)| *p == provider && *pid == provider_id)
        .map(|(hub, _, _)| *hub == I2V_MODEL)
}

/// A video job the double is running.
#[derive(Debug, Clone)]
pub(crate) struct VideoJob {
    pub provider: String,
    pub routed: bool,
    /// The path the job was posted to, under the provider (fal: its model path).
    pub route: String,
    /// The provider's model id.
    pub model: String,
    pub prompt: String,
    pub input: Value,
    pub created_at: i64,
    /// Polls answered "in progress" in all (without stalls).
    pub polls_total: u32,
    /// Polls answered "in progress" so far (stalled polls not counted).
    pub polls_done: u32,
    /// Held in progress while a `JobStall` fault is queued.
    pub stalled: bool,
    pub fail: Option<String>,
    pub canceled: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Waiting in the queue, at this position.
    Queued(u32),
    /// Running: percent done, seconds left.
    Running(u32, u32),
    Done,
    Failed(String),
    Canceled,
}

impl VideoJob {
    /// One poll: moves the job on and answers its state.
    fn advance(&mut self, s: &Shared) -> State {
        if self.canceled {
            return State::Canceled;
        }
        if self.stalled {
            if stall_queued(s) {
                return self.pending_state(self.polls_done.max(1));
            }
            self.stalled = false;
        }
        if self.polls_done < self.polls_total {
            self.polls_done += 1;
            return self.pending_state(self.polls_done);
        }
        self.peek()
    }

    /// The state without polling.
    fn peek(&self) -> State {
        if self.canceled {
            State::Canceled
        } else if self.stalled || self.polls_done < self.polls_total {
            self.pending_state(self.polls_done)
        } else if let Some(m) = &self.fail {
            State::Failed(m.clone())
        } else {
            State::Done
        }
    }

    /// The state at in-progress poll `step` (0: just made, 1: first poll, …).
    fn pending_state(&self, step: u32) -> State {
        if step <= 1 {
            State::Queued(1 - step)
        } else {
            let total = self.polls_total.max(step);
            State::Running((step - 1) * 100 / total, (total + 1 - step) * 2)
        }
    }
}

fn stall_queued(s: &Shared) -> bool {
    lock(&s.faults)
        .iter()
        .any(|f| matches!(f.kind, FaultKind::JobStall))
}

/// A request to a provider route that may be a video one.
pub(crate) struct VideoCall<'a> {
    pub provider: &'a str,
    pub route: &'a str,
    pub query: Option<&'a str>,
    pub method: &'a Method,
    pub routed: bool,
    pub body: &'a [u8],
}

enum Kind {
    /// A new job for this provider model id.
    Create(String),
    Poll(String),
    /// fal's result URL.
    FalResult(String),
    Cancel(String),
}

fn known_job(s: &Shared, id: &str) -> bool {
    lock(&s.video_jobs).contains_key(id)
}

fn classify(s: &Shared, c: &VideoCall<'_>) -> Option<Kind> {
    let post = c.method == Method::POST;
    match c.provider {
        "fal-ai" => {
            if let Some((_, rest)) = c.route.split_once("/requests/") {
                let mut parts = rest.split('/');
                let id = parts.next()?.to_string();
                if !known_job(s, &id) {
                    return None;
                }
                return match (c.method.as_str(), parts.next()) {
                    ("GET", Some("status")) => Some(Kind::Poll(id)),
                    ("GET", None) => Some(Kind::FalResult(id)),
                    ("PUT", Some("cancel")) => Some(Kind::Cancel(id)),
                    _ => None,
                };
            }
            let model = c.route.trim_end_matches('/');
            (post && image_to_video("fal-ai", model).is_some())
                .then(|| Kind::Create(model.to_string()))
        }
        "replicate" => {
            if let Some(rest) = c.route.strip_prefix("v1/predictions/") {
                let mut parts = rest.split('/');
                let id = parts.next()?.to_string();
                if !known_job(s, &id) {
                    return None;
                }
                return match (c.method.as_str(), parts.next()) {
                    ("GET", None) => Some(Kind::Poll(id)),
                    ("POST", Some("cancel")) => Some(Kind::Cancel(id)),
                    _ => None,
                };
            }
            let model = c
                .route
                .strip_prefix("v1/models/")?
                .strip_suffix("/predictions")?;
            (post && image_to_video("replicate", model).is_some())
                .then(|| Kind::Create(model.to_string()))
        }
        "together" => {
            if let Some(id) = c.route.strip_prefix("v2/videos/") {
                return (c.method == Method::GET && known_job(s, id))
                    .then(|| Kind::Poll(id.to_string()));
            }
            (post && c.route == "v2/videos").then(|| {
                let model = serde_json::from_slice::<Value>(c.body)
                    .ok()
                    .and_then(|v| v["model"].as_str().map(str::to_string))
                    .unwrap_or_default();
                Kind::Create(model)
            })
        }
        "novita" => {
            if c.route == "v3/async/task-result" && c.method == Method::GET {
                let id = query_param(c.query, "task_id")?;
                return known_job(s, &id).then_some(Kind::Poll(id));
            }
            let model = c.route.strip_prefix("v3/async/")?;
            (post && image_to_video("novita", model).is_some())
                .then(|| Kind::Create(model.to_string()))
        }
        "wavespeed" => {
            if let Some(rest) = c.route.strip_prefix("api/v3/predictions/") {
                let id = rest.strip_suffix("/result")?;
                return (c.method == Method::GET && known_job(s, id))
                    .then(|| Kind::Poll(id.to_string()));
            }
            let model = c.route.strip_prefix("api/v3/")?;
            (post && image_to_video("wavespeed", model).is_some())
                .then(|| Kind::Create(model.to_string()))
        }
        _ => None,
    }
}

fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=')?;
        (k == key).then(|| v.to_string())
    })
}

fn json_resp(status: u16, rid: &str, body: Value) -> Response {
    crate::server::respond(status, "application/json", &[], rid, body.to_string())
}

fn no_such_job(rid: &str) -> Response {
    json_resp(404, rid, json!({"detail": "Request not found"}))
}

/// Answers a request to a provider's video routes (router or direct); `None` when it is not one.
pub(crate) async fn serve(
    s: &Arc<Shared>,
    call: VideoCall<'_>,
    auth: impl FnOnce(&str) -> Result<(), Box<Response>>,
) -> Option<Response> {
    let kind = classify(s, &call)?;
    let rid = s.request_id();
    let mut fault = None;
    if let Kind::Create(_) = kind {
        // Faults on the generation request itself (the image scope covers video jobs).
        match s.take_fault(Scope::Image, false, false, Some(call.provider)) {
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
    Some(match kind {
        Kind::Create(model) => create(s, &call, model, fault, &rid).await,
        Kind::Poll(id) => poll(s, &id, &rid),
        Kind::FalResult(id) => fal_result(s, &id, &rid),
        Kind::Cancel(id) => cancel(s, &id, &rid),
    })
}

/// The input field a job lacks, if any: (field, where it goes in the body).
fn missing_input(provider: &str, i2v: bool, body: &Value) -> Option<&'static str> {
    let present = |v: &Value| v.as_str().is_some_and(|t| !t.trim().is_empty());
    match provider {
        "replicate" => {
            let input = &body["input"];
            if !present(&input["prompt"]) {
                Some("prompt")
            } else if i2v && !present(&input["image"]) {
                Some("image")
            } else {
                None
            }
        }
        "together" => {
            if !present(&body["prompt"]) {
                Some("prompt")
            } else if i2v
                && !body["frame_images"]
                    .as_array()
                    .is_some_and(|f| f.iter().any(|i| present(&i["input_image"])))
            {
                Some("frame_images")
            } else {
                None
            }
        }
        _ => {
            let image = if provider == "fal-ai" {
                "image_url"
            } else {
                "image"
            };
            if !present(&body["prompt"]) {
                Some("prompt")
            } else if i2v && !present(&body[image]) {
                Some(image)
            } else {
                None
            }
        }
    }
}

/// The provider's refusal of a request that lacks `field`.
fn refuse_missing(provider: &str, field: &str, rid: &str) -> Response {
    match provider {
        "fal-ai" => json_resp(
            422,
            rid,
            json!({"detail": [{"loc": ["body", field], "msg": "field required", "type": "value_error.missing"}]}),
        ),
        "replicate" => json_resp(
            422,
            rid,
            json!({"detail": format!("- input: {field} is required"), "status": 422, "title": "Input validation failed"}),
        ),
        "together" => json_resp(
            400,
            rid,
            json!({"error": {"message": format!("{field} is required"), "type": "invalid_request_error", "param": field, "code": null}}),
        ),
        "novita" => json_resp(
            400,
            rid,
            json!({"code": 400, "reason": "INVALID_REQUEST_BODY", "message": format!("{field} is required"), "metadata": {}}),
        ),
        _ => json_resp(
            400,
            rid,
            json!({"code": 400, "message": format!("{field} is required"), "data": null}),
        ),
    }
}

async fn create(
    s: &Arc<Shared>,
    call: &VideoCall<'_>,
    model: String,
    fault: Option<FaultKind>,
    rid: &str,
) -> Response {
    let provider = call.provider;
    let body: Value = serde_json::from_slice(call.body).unwrap_or(Value::Null);
    let Some(i2v) = image_to_video(provider, &model) else {
        // Together names the model in the body.
        return json_resp(
            404,
            rid,
            json!({"error": {"message": format!("Unable to access model {model}. Please visit https://api.together.ai/models to view the list of supported models."), "type": "invalid_request_error", "param": "model", "code": "model_not_available"}}),
        );
    };
    if let Some(field) = missing_input(provider, i2v, &body) {
        return refuse_missing(provider, field, rid);
    }
    let prompt = if provider == "replicate" {
        body["input"]["prompt"].as_str()
    } else {
        body["prompt"].as_str()
    }
    .unwrap_or_default()
    .to_string();
    let mut job = VideoJob {
        provider: provider.to_string(),
        routed: call.routed,
        route: call.route.trim_end_matches('/').to_string(),
        model: model.clone(),
        prompt,
        input: if provider == "replicate" {
            body["input"].clone()
        } else {
            body.clone()
        },
        created_at: crate::tokens::now_unix(),
        polls_total: VIDEO_POLLS,
        polls_done: 0,
        stalled: false,
        fail: None,
        canceled: false,
    };
    match fault {
        Some(FaultKind::JobPending { polls }) => job.polls_total = polls,
        Some(FaultKind::JobStall) => job.stalled = true,
        Some(FaultKind::JobFails { message }) => job.fail = Some(message),
        Some(FaultKind::ContentFlagged) => job.fail = Some(crate::images::NSFW_MESSAGE.into()),
        _ => {}
    }
    // fal routed without the queue: the result at once (never, while stalled).
    let queue = !call.routed || call.query.is_some_and(|q| q.contains("_subdomain=queue"));
    if provider == "fal-ai" && !queue {
        if job.stalled {
            s.until_shutdown().await;
            return json_resp(503, rid, json!({}));
        }
        job.polls_total = 0;
    }
    let id = match provider {
        "replicate" => s.uuid().replace('-', "")[..26].to_string(),
        "together" => format!("vid_{}", s.uuid().replace('-', "")[..24].to_owned()),
        "wavespeed" => s.uuid().replace('-', ""),
        _ => s.uuid(),
    };
    lock(&s.video_jobs).insert(id.clone(), job.clone());
    let state = job.peek();
    match provider {
        "fal-ai" if !queue => fal_result(s, &id, rid),
        "fal-ai" => {
            let base = fal_base(s, &job, &id);
            json_resp(
                200,
                rid,
                json!({
                    "status": "IN_QUEUE",
                    "request_id": id,
                    "response_url": base,
                    "status_url": format!("{base}/status"),
                    "cancel_url": format!("{base}/cancel"),
                    "queue_position": 1
                }),
            )
        }
        "replicate" => json_resp(201, rid, replicate_body(s, &job, &id, &state)),
        "together" => json_resp(200, rid, together_body(s, &job, &id, &state)),
        "novita" => json_resp(200, rid, json!({"task_id": id})),
        _ => json_resp(200, rid, wavespeed_body(s, &job, &id, &state)),
    }
}

fn poll(s: &Shared, id: &str, rid: &str) -> Response {
    let (job, state) = {
        let mut jobs = lock(&s.video_jobs);
        let Some(job) = jobs.get_mut(id) else {
            return no_such_job(rid);
        };
        let state = job.advance(s);
        (job.clone(), state)
    };
    let body = match job.provider.as_str() {
        "fal-ai" => {
            let base = fal_base(s, &job, id);
            match state {
                State::Queued(pos) => {
                    json!({"status": "IN_QUEUE", "queue_position": pos, "response_url": base})
                }
                State::Running(pct, _) => json!({
                    "status": "IN_PROGRESS",
                    "logs": [{"message": format!("Generating video: {pct}%"), "level": "INFO", "source": "user", "timestamp": iso(crate::tokens::now_unix())}],
                    "response_url": base
                }),
                State::Canceled => json!({"status": "CANCELLED", "response_url": base}),
                _ => json!({"status": "COMPLETED", "logs": [], "response_url": base}),
            }
        }
        "replicate" => replicate_body(s, &job, id, &state),
        "together" => together_body(s, &job, id, &state),
        "novita" => novita_body(s, &job, id, &state),
        _ => wavespeed_body(s, &job, id, &state),
    };
    json_resp(200, rid, body)
}

fn fal_base(s: &Shared, job: &VideoJob, id: &str) -> String {
    let prefix = if job.routed { "router" } else { "direct" };
    format!("{}/{prefix}/fal-ai/{}/requests/{id}", s.base_url, job.route)
}

fn fal_result(s: &Shared, id: &str, rid: &str) -> Response {
    let Some(job) = lock(&s.video_jobs).get(id).cloned() else {
        return no_such_job(rid);
    };
    match job.peek() {
        State::Queued(_) | State::Running(..) => {
            json_resp(400, rid, json!({"detail": "Request is still in progress"}))
        }
        State::Canceled => json_resp(400, rid, json!({"detail": "Request was cancelled"})),
        State::Failed(m) => json_resp(500, rid, json!({ "detail": m })),
        State::Done => json_resp(
            200,
            rid,
            json!({
                "video": {
                    "url": video_url(s, &job, id),
                    "content_type": VIDEO_CONTENT_TYPE,
                    "file_name": "video.webm",
                    "file_size": SAMPLE_WEBM.len()
                },
                "prompt": job.prompt,
                "seed": FAL_SEED
            }),
        ),
    }
}

fn cancel(s: &Shared, id: &str, rid: &str) -> Response {
    let job = {
        let mut jobs = lock(&s.video_jobs);
        let Some(job) = jobs.get_mut(id) else {
            return no_such_job(rid);
        };
        job.canceled = true;
        job.clone()
    };
    if job.provider == "replicate" {
        return json_resp(200, rid, replicate_body(s, &job, id, &State::Canceled));
    }
    json_resp(202, rid, json!({"status": "CANCELLATION_REQUESTED"}))
}

/// The other host a provider's videos are served from (under `/ext/{host}/…`).
fn video_host(provider: &str) -> &'static str {
    match provider {
        "fal-ai" => "v3.fal.media",
        "replicate" => "replicate.delivery",
        "together" => "api.together.ai",
        "novita" => "faas-output-video.s3.ap-southeast-1.amazonaws.com",
        _ => "d1q70pf5vjeyhc.cloudfront.net",
    }
}

fn video_url(s: &Shared, job: &VideoJob, id: &str) -> String {
    format!(
        "{}/ext/{}/video/{id}/video.webm",
        s.base_url,
        video_host(&job.provider)
    )
}

fn route_base(s: &Shared, job: &VideoJob) -> String {
    let prefix = if job.routed { "router" } else { "direct" };
    format!("{}/{prefix}/{}", s.base_url, job.provider)
}

/// A Unix time as ISO 8601 (UTC, milliseconds).
fn iso(t: i64) -> String {
    let days = t.div_euclid(86_400);
    let secs = t.rem_euclid(86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.000Z",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn replicate_body(s: &Shared, job: &VideoJob, id: &str, state: &State) -> Value {
    let base = route_base(s, job);
    let mut v = json!({
        "id": id,
        "model": job.model,
        "version": "hidden",
        "input": job.input,
        "logs": "",
        "output": null,
        "data_removed": false,
        "error": null,
        "status": "starting",
        "created_at": iso(job.created_at),
        "urls": {
            "get": format!("{base}/v1/predictions/{id}"),
            "cancel": format!("{base}/v1/predictions/{id}/cancel"),
            "web": format!("https://replicate.com/p/{id}")
        }
    });
    match state {
        State::Queued(_) => {}
        State::Running(pct, _) => {
            v["status"] = json!("processing");
            v["started_at"] = json!(iso(job.created_at));
            v["logs"] = json!(format!("Generating video...\n{pct}%"));
        }
        State::Done => {
            v["status"] = json!("succeeded");
            v["output"] = json!(video_url(s, job, id));
            v["metrics"] = json!({"predict_time": REPLICATE_PREDICT_TIME, "total_time": REPLICATE_PREDICT_TIME + 1.0});
            v["completed_at"] = json!(iso(crate::tokens::now_unix()));
        }
        State::Failed(m) => {
            v["status"] = json!("failed");
            v["error"] = json!(m);
        }
        State::Canceled => v["status"] = json!("canceled"),
    }
    v
}

fn together_body(s: &Shared, job: &VideoJob, id: &str, state: &State) -> Value {
    let mut v = json!({
        "id": id,
        "object": "video",
        "model": job.model,
        "status": "queued",
        "created_at": job.created_at,
        "seconds": job.input["seconds"].as_str().map(str::to_string)
            .or_else(|| job.input["seconds"].as_u64().map(|n| n.to_string()))
            .unwrap_or_else(|| "5".into()),
        "size": format!(
            "{}x{}",
            job.input["width"].as_u64().unwrap_or(1280),
            job.input["height"].as_u64().unwrap_or(720)
        )
    });
    match state {
        State::Queued(_) => {}
        State::Running(..) => v["status"] = json!("in_progress"),
        State::Done => {
            v["status"] = json!("completed");
            v["completed_at"] = json!(crate::tokens::now_unix());
            v["outputs"] = json!({"video_url": video_url(s, job, id), "cost": TOGETHER_COST});
        }
        State::Failed(m) => {
            v["status"] = json!("failed");
            let code = if m.contains("timed out") {
                "timeout"
            } else {
                "generation_failed"
            };
            v["error"] = json!({"code": code, "message": m});
        }
        State::Canceled => v["status"] = json!("cancelled"),
    }
    v
}

fn novita_body(s: &Shared, job: &VideoJob, id: &str, state: &State) -> Value {
    let (status, reason, eta, pct) = match state {
        State::Queued(_) => ("TASK_STATUS_QUEUED", String::new(), 8, 0),
        State::Running(pct, eta) => ("TASK_STATUS_PROCESSING", String::new(), *eta, *pct),
        State::Done => ("TASK_STATUS_SUCCEED", String::new(), 0, 100),
        State::Failed(m) => ("TASK_STATUS_FAILED", m.clone(), 0, 0),
        State::Canceled => ("TASK_STATUS_FAILED", "task cancelled".to_string(), 0, 0),
    };
    let videos = if *state == State::Done {
        json!([{"video_url": video_url(s, job, id), "video_url_ttl": "3600", "video_type": "webm"}])
    } else {
        json!([])
    };
    json!({
        "extra": {"seed": "42"},
        "task": {
            "task_id": id,
            "task_type": "TXT_TO_VIDEO",
            "status": status,
            "reason": reason,
            "eta": eta,
            "progress_percent": pct
        },
        "images": [],
        "videos": videos,
        "audios": []
    })
}

fn wavespeed_body(s: &Shared, job: &VideoJob, id: &str, state: &State) -> Value {
    let (status, outputs, error) = match state {
        State::Queued(_) => ("created", json!([]), ""),
        State::Running(..) => ("processing", json!([]), ""),
        State::Done => ("completed", json!([video_url(s, job, id)]), ""),
        State::Failed(m) => ("failed", json!([]), m.as_str()),
        State::Canceled => ("failed", json!([]), "cancelled"),
    };
    json!({
        "code": 200,
        "message": "success",
        "data": {
            "id": id,
            "model": job.model,
            "status": status,
            "outputs": outputs,
            "urls": {"get": format!("{}/api/v3/predictions/{id}/result", route_base(s, job))},
            "has_nsfw_contents": [],
            "created_at": iso(job.created_at),
            "error": error,
            "timings": {"inference": if status == "completed" { 38_200 } else { 0 }}
        }
    })
}

/// `GET /ext/{host}/video/{id}/video.webm`: a finished job's video; `None` when the path is not
/// a video one.
pub(crate) async fn ext(s: &Arc<Shared>, path: &str) -> Option<axum::response::Response> {
    let id = path.strip_prefix("video/")?.split('/').next()?.to_string();
    let job = lock(&s.video_jobs).get(&id).cloned()?;
    let rid = s.request_id();
    if job.peek() != State::Done {
        return Some(json_resp(404, &rid, json!({"error": "Not Found"})));
    }
    Some(match s.take_fault(Scope::VideoFile, false, false, None) {
        Some(FaultKind::Status {
            code,
            body,
            content_type,
            headers,
        }) => crate::server::respond(code, &content_type, &headers, &rid, body),
        Some(FaultKind::Oversized { bytes }) => {
            let mut big = SAMPLE_WEBM.to_vec();
            big.resize(bytes.max(big.len()), 0);
            crate::server::respond(200, VIDEO_CONTENT_TYPE, &[], &rid, big)
        }
        Some(FaultKind::Hang) => {
            s.until_shutdown().await;
            json_resp(503, &rid, json!({}))
        }
        Some(FaultKind::Redirect { code, location }) => crate::server::respond(
            code,
            "text/plain",
            &[("location".into(), location.clone())],
            &rid,
            format!("Redirecting to {location}"),
        ),
        _ => crate::server::respond(
            200,
            VIDEO_CONTENT_TYPE,
            &[],
            &rid,
            axum::body::Bytes::from_static(SAMPLE_WEBM),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sample_is_a_webm() {
        assert!(is_webm(SAMPLE_WEBM));
        assert!(SAMPLE_WEBM.len() > 10_000);
    }

    #[test]
    fn iso_dates() {
        assert_eq!(iso(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso(1_764_556_094), "2025-12-01T02:28:14.000Z");
    }

    #[test]
    fn hub_lists_by_task() {
        assert_eq!(hub_list("text-to-video").len(), 1);
        assert_eq!(hub_list("image-to-video")[0]["id"], I2V_MODEL);
        assert!(hub_list("text-to-image").is_empty());
        let m = synthetic_hub_model(T2V_MODEL).unwrap();
        assert_eq!(
            m["inferenceProviderMapping"]["novita"]["providerId"],
            NOVITA_T2V
        );
        assert!(
            synthetic_hub_model(I2V_MODEL).unwrap()["inferenceProviderMapping"]
                .get("novita")
                .is_none()
        );
    }
}
