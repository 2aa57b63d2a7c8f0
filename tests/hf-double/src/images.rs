//! Text-to-image generations, replayed from the recorded `text_to_image*.yaml` cassettes, as
//! jobs the double keeps so that tests can make them wait, fail, stall or be flagged.
//!
//! - Synchronous providers (hf-inference: raw bytes; together, nebius, hyperbolic: base64) answer
//!   the POST with the recording.
//! - fal-ai: the queue (routed with `?_subdomain=queue`, and always on the direct route):
//!   `{request_id, status_url, response_url, cancel_url}`, `GET …/requests/{id}/status`
//!   (`IN_QUEUE`, `IN_PROGRESS`, `COMPLETED`), `GET …/requests/{id}` (the recorded result),
//!   `PUT …/requests/{id}/cancel`. A routed POST without the queue answers synchronously.
//! - replicate: `POST v1/predictions` (with `version`) or `v1/models/{owner}/{name}/predictions`
//!   answers 201 with the recorded prediction when the job is ready at once (as recorded with
//!   `Prefer: wait`), else `status: starting` with `urls.get` to poll; `GET v1/predictions/{id}`,
//!   `POST v1/predictions/{id}/cancel`.
//! - black-forest-labs: the POST answers `{id, polling_url}`; the polling URL (another host in the
//!   recording) is served under `/ext/{host}/…` and answers `Pending` with a progress, then
//!   `Ready` with the picture's URL.
//!
//! Every absolute URL of another host in a served body (pictures, polling) is rewritten to
//! `{double}/ext/{host}/…`, where the recorded bytes are served with no credential required;
//! Replicate's API URLs are rewritten to the route the job was made on (router or direct).

use crate::fault::{FaultKind, Scope};
use crate::fixtures::{ImageRecording, Recorded};
use crate::lock;
use crate::Shared;
use axum::body::Bytes;
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use serde_json::{json, Value};
use std::sync::Arc;

/// A generation the double is running.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    pub provider: String,
    pub routed: bool,
    /// The fal model path the job was posted to (for its URLs).
    pub route: String,
    /// Polls still answered "in progress".
    pub polls_left: u32,
    pub polls_done: u32,
    /// Held in progress while a `JobStall` fault is queued.
    pub stalled: bool,
    pub fail: Option<String>,
    pub flagged: bool,
    pub canceled: bool,
}

enum State {
    Pending,
    Done,
    Failed(String),
    Flagged,
    Canceled,
}

/// The error a flagging safety filter gives, in Replicate's words.
pub const NSFW_MESSAGE: &str =
    "NSFW content detected. Try running it again, or try a different prompt.";

impl Job {
    fn advance(&mut self, s: &Shared) -> State {
        if self.canceled {
            return State::Canceled;
        }
        if self.stalled {
            if stall_queued(s) {
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
        } else if self.polls_left > 0 {
            State::Pending
        } else if let Some(m) = &self.fail {
            State::Failed(m.clone())
        } else if self.flagged {
            State::Flagged
        } else {
            State::Done
        }
    }
}

fn stall_queued(s: &Shared) -> bool {
    lock(&s.faults)
        .iter()
        .any(|f| matches!(f.kind, FaultKind::JobStall))
}

/// What a request to an image route is, once its provider has a recording.
pub(crate) struct ImageCall<'a> {
    pub provider: &'a str,
    pub route: &'a str,
    pub query: Option<&'a str>,
    pub method: &'a Method,
    pub routed: bool,
}

/// Answers a request to a provider's image routes (router or direct); `None` when it is not one.
pub(crate) async fn serve(
    s: &Arc<Shared>,
    call: ImageCall<'_>,
    headers: &HeaderMap,
    auth: impl FnOnce(&str) -> Result<(), Box<Response>>,
) -> Option<Response> {
    let rec = s.fixtures.images.get(call.provider)?;
    let kind = classify(
        call.provider,
        call.route,
        call.method,
        call.query,
        call.routed,
        rec,
    )?;
    let rid = s.request_id();
    if let Kind::Create | Kind::Sync = kind {
        // Faults on the generation request itself.
        if let Some(fault) = s.take_fault(Scope::Image, false, false, Some(call.provider)) {
            match fault {
                FaultKind::Status {
                    code,
                    body,
                    content_type,
                    headers,
                } => {
                    return Some(crate::server::respond(
                        code,
                        &content_type,
                        &headers,
                        &rid,
                        body,
                    ))
                }
                FaultKind::Hang => {
                    s.until_shutdown().await;
                    return Some(crate::server::respond(503, "text/plain", &[], &rid, ""));
                }
                other => {
                    if let Err(resp) = auth(&rid) {
                        return Some(*resp);
                    }
                    return Some(start(s, &call, rec, kind, Some(other), &rid).await);
                }
            }
        }
    }
    if let Err(resp) = auth(&rid) {
        return Some(*resp);
    }
    let _ = headers;
    Some(match kind {
        Kind::Create | Kind::Sync => start(s, &call, rec, kind, None, &rid).await,
        Kind::FalStatus(id) => fal_status(s, &id, call.routed, &rid),
        Kind::FalResult(id) => fal_result(s, rec, &id, call.routed, &rid),
        Kind::Cancel(id) => cancel(s, &id, &rid),
        Kind::ReplicateGet(id) => replicate_state(s, rec, &id, false, &rid),
    })
}

enum Kind {
    Sync,
    Create,
    FalStatus(String),
    FalResult(String),
    Cancel(String),
    ReplicateGet(String),
}

fn classify(
    provider: &str,
    route: &str,
    method: &Method,
    query: Option<&str>,
    routed: bool,
    rec: &ImageRecording,
) -> Option<Kind> {
    match provider {
        "fal-ai" => {
            if let Some((_, rest)) = route.split_once("/requests/") {
                let mut parts = rest.split('/');
                let id = parts.next()?.to_string();
                return match (method.as_str(), parts.next()) {
                    ("GET", Some("status")) => Some(Kind::FalStatus(id)),
                    ("GET", None) => Some(Kind::FalResult(id)),
                    ("PUT", Some("cancel")) => Some(Kind::Cancel(id)),
                    _ => None,
                };
            }
            (method == Method::POST).then(|| {
                let queue = !routed || query.is_some_and(|q| q.contains("_subdomain=queue"));
                if queue {
                    Kind::Create
                } else {
                    Kind::Sync
                }
            })
        }
        "replicate" => {
            if let Some(rest) = route.strip_prefix("v1/predictions/") {
                let mut parts = rest.split('/');
                let id = parts.next()?.to_string();
                return match (method.as_str(), parts.next()) {
                    ("GET", None) => Some(Kind::ReplicateGet(id)),
                    ("POST", Some("cancel")) => Some(Kind::Cancel(id)),
                    _ => None,
                };
            }
            let create = route == "v1/predictions"
                || (route.starts_with("v1/models/") && route.ends_with("/predictions"));
            (method == Method::POST && create).then_some(Kind::Create)
        }
        "black-forest-labs" => {
            (method == Method::POST && route.starts_with("v1/")).then_some(Kind::Create)
        }
        "hf-inference" => {
            let chat = route.ends_with("/chat/completions") || route.contains("/pipeline/");
            (method == Method::POST && route.starts_with("models/") && !chat).then_some(Kind::Sync)
        }
        _ => (method == Method::POST && route == rec.route).then_some(Kind::Sync),
    }
}

/// The id the recording used, replaced in served bodies by each job's own.
fn recorded_id(provider: &str, rec: &ImageRecording) -> Option<String> {
    let v: Value = serde_json::from_slice(&rec.response.body).ok()?;
    match provider {
        "replicate" | "black-forest-labs" => v["id"].as_str().map(str::to_string),
        _ => None,
    }
}

fn new_id(s: &Shared, provider: &str) -> String {
    let id = s.uuid();
    if provider == "replicate" {
        id.replace('-', "")[..26].to_string()
    } else {
        id
    }
}

/// Rewrites the absolute URLs of a served body to the double, and the recorded job id to `id`.
fn rewrite(
    s: &Shared,
    rec: &ImageRecording,
    provider: &str,
    routed: bool,
    id: Option<&str>,
    body: &str,
) -> String {
    let mut out = body.to_string();
    if let (Some(old), Some(new)) = (recorded_id(provider, rec), id) {
        out = out.replace(&old, new);
    }
    let prefix = if routed { "router" } else { "direct" };
    out = out.replace(
        "https://api.replicate.com/",
        &format!("{}/{prefix}/replicate/", s.base_url),
    );
    for (url, _) in &rec.followups {
        if let Some(host) = url
            .strip_prefix("https://")
            .and_then(|r| r.split('/').next())
        {
            out = out.replace(
                &format!("https://{host}/"),
                &format!("{}/ext/{host}/", s.base_url),
            );
        }
    }
    out
}

fn json_resp(status: u16, rid: &str, body: String) -> Response {
    crate::server::respond(status, "application/json", &[], rid, body)
}

fn replay_rec(rec: &Recorded, rid: &str, body: impl Into<Bytes>) -> Response {
    let headers: Vec<(String, String)> = rec
        .headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            k.starts_with("x-fal-") || k == "preference-applied"
        })
        .cloned()
        .collect();
    crate::server::respond(
        rec.status,
        rec.header("content-type")
            .unwrap_or("application/octet-stream"),
        &headers,
        rid,
        body.into(),
    )
}

async fn start(
    s: &Arc<Shared>,
    call: &ImageCall<'_>,
    rec: &ImageRecording,
    kind: Kind,
    fault: Option<FaultKind>,
    rid: &str,
) -> Response {
    let provider = call.provider;
    let default_polls = match provider {
        "black-forest-labs" => rec
            .followups
            .iter()
            .filter(|(_, r)| r.body_str().contains("\"Pending\""))
            .count() as u32,
        "fal-ai" => 1,
        _ => 0,
    };
    let mut job = Job {
        provider: provider.to_string(),
        routed: call.routed,
        route: call.route.to_string(),
        polls_left: default_polls,
        polls_done: 0,
        stalled: false,
        fail: None,
        flagged: false,
        canceled: false,
    };
    match fault {
        Some(FaultKind::JobPending { polls }) => job.polls_left = polls,
        Some(FaultKind::JobStall) => job.stalled = true,
        Some(FaultKind::JobFails { message }) => job.fail = Some(message),
        Some(FaultKind::ContentFlagged) => job.flagged = true,
        _ => {}
    }
    if let Kind::Sync = kind {
        return sync_answer(s, rec, &job, call.routed, rid).await;
    }
    let id = new_id(s, provider);
    lock(&s.jobs).insert(id.clone(), job.clone());
    match provider {
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
                    "queue_position": 0
                })
                .to_string(),
            )
        }
        "replicate" => {
            // Ready at once: the recorded answer to `Prefer: wait`, as it came (201).
            let mut job = job;
            let state = job.advance(s);
            lock(&s.jobs).insert(id.clone(), job);
            replicate_body(s, rec, &id, call.routed, state, rid)
        }
        _ => {
            let body = rewrite(
                s,
                rec,
                provider,
                call.routed,
                Some(&id),
                rec.response.body_str(),
            );
            replay_rec(&rec.response, rid, body)
        }
    }
}

fn fal_base(s: &Shared, job: &Job, id: &str) -> String {
    let prefix = if job.routed { "router" } else { "direct" };
    format!(
        "{}/{prefix}/fal-ai/{}/requests/{id}",
        s.base_url,
        job.route.trim_end_matches('/')
    )
}

/// A synchronous provider's answer (or fal without the queue).
async fn sync_answer(
    s: &Arc<Shared>,
    rec: &ImageRecording,
    job: &Job,
    routed: bool,
    rid: &str,
) -> Response {
    if job.stalled {
        s.until_shutdown().await;
        return json_resp(503, rid, "{}".into());
    }
    if let Some(m) = &job.fail {
        return json_resp(500, rid, json!({ "error": m }).to_string());
    }
    if job.flagged {
        if job.provider == "fal-ai" {
            let body = flag_fal(rec.response.body_str());
            return replay_rec(
                &rec.response,
                rid,
                rewrite(s, rec, &job.provider, routed, None, &body),
            );
        }
        return json_resp(400, rid, json!({ "error": NSFW_MESSAGE }).to_string());
    }
    let body = if rec
        .response
        .header("content-type")
        .is_some_and(|c| c.starts_with("image/"))
    {
        rec.response.body.clone()
    } else {
        Bytes::from(rewrite(
            s,
            rec,
            &job.provider,
            routed,
            None,
            rec.response.body_str(),
        ))
    };
    replay_rec(&rec.response, rid, body)
}

fn flag_fal(body: &str) -> String {
    body.replace(
        "\"has_nsfw_concepts\":[false]",
        "\"has_nsfw_concepts\":[true]",
    )
}

fn no_such_job(rid: &str) -> Response {
    json_resp(404, rid, json!({"detail": "Request not found"}).to_string())
}

fn fal_status(s: &Shared, id: &str, _routed: bool, rid: &str) -> Response {
    let mut jobs = lock(&s.jobs);
    let Some(job) = jobs.get_mut(id) else {
        return no_such_job(rid);
    };
    let first = job.polls_done == 0;
    let base = fal_base(s, job, id);
    let body = match job.advance(s) {
        State::Pending if first => {
            json!({"status": "IN_QUEUE", "queue_position": 0, "response_url": base})
        }
        State::Pending => {
            json!({"status": "IN_PROGRESS", "logs": [{"message": "generating"}], "response_url": base})
        }
        State::Canceled => json!({"status": "CANCELLED", "response_url": base}),
        _ => json!({"status": "COMPLETED", "logs": [], "response_url": base}),
    };
    json_resp(200, rid, body.to_string())
}

fn fal_result(s: &Shared, rec: &ImageRecording, id: &str, routed: bool, rid: &str) -> Response {
    let Some(job) = lock(&s.jobs).get(id).cloned() else {
        return no_such_job(rid);
    };
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
        State::Flagged => {
            let body = flag_fal(rec.response.body_str());
            replay_rec(
                &rec.response,
                rid,
                rewrite(s, rec, "fal-ai", routed, None, &body),
            )
        }
        State::Done => replay_rec(
            &rec.response,
            rid,
            rewrite(s, rec, "fal-ai", routed, None, rec.response.body_str()),
        ),
    }
}

fn cancel(s: &Shared, id: &str, rid: &str) -> Response {
    let mut jobs = lock(&s.jobs);
    let Some(job) = jobs.get_mut(id) else {
        return no_such_job(rid);
    };
    job.canceled = true;
    let (routed, replicate) = (job.routed, job.provider == "replicate");
    drop(jobs);
    if let (true, Some(rec)) = (replicate, s.fixtures.images.get("replicate")) {
        return replicate_body(s, rec, id, routed, State::Canceled, rid);
    }
    json_resp(
        202,
        rid,
        json!({"status": "CANCELLATION_REQUESTED"}).to_string(),
    )
}

fn replicate_state(
    s: &Shared,
    rec: &ImageRecording,
    id: &str,
    _create: bool,
    rid: &str,
) -> Response {
    let (state, routed) = {
        let mut jobs = lock(&s.jobs);
        let Some(job) = jobs.get_mut(id) else {
            return no_such_job(rid);
        };
        (job.advance(s), job.routed)
    };
    let mut resp = replicate_body(s, rec, id, routed, state, rid);
    *resp.status_mut() = axum::http::StatusCode::OK;
    resp
}

fn replicate_body(
    s: &Shared,
    rec: &ImageRecording,
    id: &str,
    routed: bool,
    state: State,
    rid: &str,
) -> Response {
    let done = rewrite(
        s,
        rec,
        "replicate",
        routed,
        Some(id),
        rec.response.body_str(),
    );
    if let State::Done = state {
        return replay_rec(&rec.response, rid, done);
    }
    let mut v: Value = serde_json::from_str(&done).unwrap_or_else(|_| json!({}));
    let (status, error) = match state {
        State::Pending => ("starting", Value::Null),
        State::Canceled => ("canceled", Value::Null),
        State::Failed(m) => ("failed", Value::String(m)),
        State::Flagged => ("failed", Value::String(NSFW_MESSAGE.into())),
        State::Done => unreachable!(),
    };
    v["status"] = json!(status);
    v["error"] = error;
    v["output"] = Value::Null;
    crate::server::respond(
        201,
        "application/json; charset=UTF-8",
        &[],
        rid,
        v.to_string(),
    )
}

/// `GET /ext/{host}/{path}`: another host of a recording (a picture, Black Forest Labs' polling).
pub(crate) async fn ext(s: &Arc<Shared>, host: &str, path: &str, query: Option<&str>) -> Response {
    let rid = s.request_id();
    let url = match query {
        Some(q) => format!("https://{host}/{path}?{q}"),
        None => format!("https://{host}/{path}"),
    };
    let bare = format!("https://{host}/{path}");
    // Black Forest Labs' polling: the recorded URL with the job's id.
    for (provider, rec) in &s.fixtures.images {
        let polls = rec.followups.iter().any(|(u, r)| {
            u.split('?').next() == Some(bare.as_str()) && r.body_str().contains("\"status\"")
        });
        if !polls {
            continue;
        }
        let id = query
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("id=")))
            .unwrap_or_default()
            .to_string();
        let state = {
            let mut jobs = lock(&s.jobs);
            let Some(job) = jobs.get_mut(&id) else {
                return json_resp(
                    200,
                    &rid,
                    json!({"id": id, "status": "Task not found"}).to_string(),
                );
            };
            job.advance(s)
        };
        let pending: Vec<&Recorded> = rec
            .followups
            .iter()
            .filter(|(u, _)| u.split('?').next() == Some(bare.as_str()))
            .map(|(_, r)| r)
            .collect();
        let (Some(first), Some(last)) = (pending.first(), pending.last()) else {
            continue;
        };
        let body = match state {
            State::Pending => first.body_str().to_string(),
            State::Done => last.body_str().to_string(),
            State::Failed(m) => {
                json!({"id": "", "status": "Error", "result": null, "details": m}).to_string()
            }
            State::Flagged => {
                json!({"id": "", "status": "Content Moderated", "result": null}).to_string()
            }
            State::Canceled => {
                json!({"id": "", "status": "Task not found", "result": null}).to_string()
            }
        };
        let body = rewrite(s, rec, provider, true, Some(&id), &body);
        return replay_rec(last, &rid, body);
    }
    // A picture.
    let found = s.fixtures.images.values().find_map(|rec| {
        rec.followup(&url)
            .or_else(|| {
                rec.followups
                    .iter()
                    .find(|(u, _)| u.split('?').next() == Some(bare.as_str()))
                    .map(|(_, r)| r)
            })
            .cloned()
    });
    let Some(file) = found else {
        return json_resp(404, &rid, json!({"error": "Not Found"}).to_string());
    };
    match s.take_fault(Scope::ImageFile, false, false, None) {
        Some(FaultKind::Status {
            code,
            body,
            content_type,
            headers,
        }) => crate::server::respond(code, &content_type, &headers, &rid, body),
        Some(FaultKind::Oversized { bytes }) => {
            let mut big = file.body.to_vec();
            big.resize(bytes.max(big.len()), 0);
            replay_rec(&file, &rid, big)
        }
        Some(FaultKind::Hang) => {
            s.until_shutdown().await;
            json_resp(503, &rid, "{}".into())
        }
        Some(FaultKind::Redirect { code, location }) => crate::server::respond(
            code,
            "text/plain",
            &[("location".into(), location.clone())],
            &rid,
            format!("Redirecting to {location}"),
        ),
        _ => replay_rec(&file, &rid, file.body.clone()),
    }
}
