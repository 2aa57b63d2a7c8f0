//! The HTTP side: routes, authentication, replay and faults.

use crate::catalog::{self, CatalogModel};
use crate::fault::{FaultKind, Scope, FORBIDDEN_BODY, UNAUTHORIZED_BODY};
use crate::fixtures::Recorded;
use crate::sse::{self, DONE_EVENT, MALFORMED_EVENT};
use crate::{
    lock, png, tokens, BilledCall, BillingControl, Fault, RecordedRequest, Shared, Target,
};
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;

type S = State<Arc<Shared>>;

/// A refusal, ready to send (boxed: responses are large).
type Refusal = Box<Response>;

/// Index of the current request among the recorded ones.
#[derive(Debug, Clone, Copy)]
struct ReqIndex(usize);

/// Headers never replayed from recordings (stale or describing the original connection).
const NEVER_REPLAYED: [&str; 4] = ["date", "set-cookie", "x-request-id", "content-type"];
/// Headers that only Hugging Face's front adds: not replayed on direct provider answers.
const HF_FRONT_HEADERS: [&str; 10] = [
    "x-powered-by",
    "access-control-expose-headers",
    "x-amz-cf-id",
    "x-amz-cf-pop",
    "x-cache",
    "via",
    "cross-origin-opener-policy",
    "referrer-policy",
    "x-robots-tag",
    "x-inference-provider",
];
/// Providers reachable only through the router / only directly.
const ROUTED_ONLY: [&str; 1] = ["hf-inference"];
const DIRECT_ONLY: [&str; 1] = ["openai"];
/// The models a direct-only provider lists for a valid key.
pub const DIRECT_ONLY_MODELS: [&str; 2] = ["gpt-4.1-mini", "gpt-4o-mini"];

pub(crate) fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/whoami-v2", get(whoami))
        .route("/api/models", get(hub_model_list))
        .route("/api/models/{*id}", get(hub_model))
        .route("/avatars/{file}", get(avatar))
        .route("/api/settings/billing/usage-v2", get(billing_usage))
        .route(
            "/api/settings/billing/usage-by-inference-session",
            get(billing_sessions),
        )
        .route("/router/v1/models", get(models_list))
        .route("/router/v1/models/{*id}", get(model_one))
        .route("/router/v1/chat/completions", post(router_chat))
        .route("/router/{provider}/{*route}", any(router_provider))
        .route("/direct/{provider}/{*route}", any(direct))
        .route("/ext/{host}/{*path}", get(ext))
        .route(
            "/__double/requests",
            get(ctl_requests).delete(ctl_clear_requests),
        )
        .route(
            "/__double/faults",
            get(ctl_faults)
                .post(ctl_push_fault)
                .delete(ctl_clear_faults),
        )
        .route("/__double/streams", get(ctl_streams))
        .route("/__double/tokens", post(ctl_register_token))
        .route("/__double/billing", post(ctl_billing))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(shared.clone(), record))
        .with_state(shared)
}

/// Records every request but the control ones, and tags it with its index.
async fn record(State(s): S, req: Request, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.starts_with("/__double/") {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes = match axum::body::to_bytes(body, 256 << 20).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let rec = RecordedRequest {
        index: 0,
        method: parts.method.to_string(),
        target: Target::of(&path),
        path,
        query: parts.uri.query().map(str::to_string),
        headers: parts
            .headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body: String::from_utf8_lossy(&bytes).into_owned(),
    };
    let index = s.record(rec);
    let mut req = Request::from_parts(parts, Body::from(bytes));
    req.extensions_mut().insert(ReqIndex(index));
    next.run(req).await
}

// ---------------------------------------------------------------- responses

/// Values for the `{user}`, `{model}` and `{provider}` placeholders of fault bodies.
#[derive(Debug, Default, Clone)]
struct Subst {
    user: Option<String>,
    model: Option<String>,
    provider: Option<String>,
    /// The credential the request carried (bearer or `Key`), for `EchoCredential`.
    credential: Option<String>,
}

impl Subst {
    fn apply(&self, body: &str) -> String {
        body.replace("{user}", self.user.as_deref().unwrap_or("unknown"))
            .replace("{model}", self.model.as_deref().unwrap_or("unknown"))
            .replace(
                "{provider}",
                self.provider.as_deref().unwrap_or("hf-inference"),
            )
    }
}

pub(crate) fn respond(
    status: u16,
    content_type: &str,
    headers: &[(String, String)],
    request_id: &str,
    body: impl Into<Body>,
) -> Response {
    let mut resp = Response::new(body.into());
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = resp.headers_mut();
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            HeaderName::from_bytes(k.as_bytes()),
            HeaderValue::from_str(v),
        ) {
            h.append(k, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(content_type) {
        h.insert("content-type", v);
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        h.insert("x-request-id", v);
    }
    resp
}

fn json_error(status: u16, body: &str, request_id: &str) -> Response {
    respond(
        status,
        "application/json; charset=utf-8",
        &[],
        request_id,
        body.to_string(),
    )
}

fn unauthorized(request_id: &str) -> Response {
    respond(
        401,
        "application/json; charset=utf-8",
        &[
            (
                "www-authenticate".into(),
                r#"Bearer realm="Authentication required", charset="UTF-8""#.into(),
            ),
            (
                "x-error-message".into(),
                "Invalid credentials in Authorization header".into(),
            ),
        ],
        request_id,
        UNAUTHORIZED_BODY,
    )
}

fn error_json(message: &str) -> String {
    json!({ "error": message }).to_string()
}

/// Recorded headers worth replaying.
fn replay_headers(rec: &Recorded, direct: bool) -> Vec<(String, String)> {
    rec.headers
        .iter()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            let hf_only = direct && HF_FRONT_HEADERS.contains(&k.as_str());
            !hf_only && !NEVER_REPLAYED.contains(&k.as_str())
        })
        .cloned()
        .collect()
}

fn replay(rec: &Recorded, request_id: &str, direct: bool) -> Response {
    respond(
        rec.status,
        rec.header("content-type")
            .unwrap_or("application/octet-stream"),
        &replay_headers(rec, direct),
        request_id,
        rec.body.clone(),
    )
}

fn status_fault(kind: &FaultKind, subst: &Subst, request_id: &str) -> Option<Response> {
    match kind {
        FaultKind::Status {
            code,
            body,
            content_type,
            headers,
        } => Some(respond(
            *code,
            content_type,
            headers,
            request_id,
            subst.apply(body),
        )),
        FaultKind::Redirect { code, location } => Some(respond(
            *code,
            "text/plain; charset=utf-8",
            &[("location".to_string(), location.clone())],
            request_id,
            format!("Redirecting to {location}"),
        )),
        FaultKind::EchoCredential { code, fragment } => {
            let key = subst.credential.clone().unwrap_or_default();
            let quoted = match fragment {
                Some(n) => {
                    let chars: Vec<char> = key.chars().collect();
                    let n = (*n).min(chars.len());
                    let start = (chars.len() - n) / 2;
                    chars[start..start + n].iter().collect()
                }
                None => key,
            };
            let body = json!({
                "error": {
                    "message": format!("Incorrect API key provided: {quoted}. You can find your API key in your account settings."),
                    "type": "invalid_request_error",
                    "code": "invalid_api_key"
                }
            });
            Some(json_error(*code, &body.to_string(), request_id))
        }
        _ => None,
    }
}

/// The credential of a request: the value after `Bearer ` or `Key `.
fn credential_of(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (_, value) = auth.split_once(' ')?;
    Some(value.trim().to_string())
}

/// About `bytes` bytes of `fill`, in 64 KiB chunks.
fn filler_chunks(bytes: usize, fill: u8) -> Vec<Bytes> {
    const CHUNK: usize = 64 * 1024;
    let block = Bytes::from(vec![fill; CHUNK]);
    let mut chunks = vec![block.clone(); bytes / CHUNK];
    let rest = bytes - chunks.len() * CHUNK;
    if rest > 0 {
        chunks.push(block.slice(..rest));
    }
    chunks
}

async fn hang(s: &Shared) -> Response {
    s.until_shutdown().await;
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

/// Sends about half of a response's body, then breaks the connection.
async fn cut_body(resp: Response) -> Response {
    let (mut parts, body) = resp.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap_or_default();
    parts.headers.remove("content-length");
    let half = bytes.slice(..bytes.len() / 2);
    let items: Vec<Result<Bytes, std::io::Error>> = vec![
        Ok(half),
        Err(std::io::Error::other("body cut by the double")),
    ];
    Response::from_parts(parts, Body::from_stream(tokio_stream::iter(items)))
}

/// Answers a non-chat request, applying the first matching fault.
async fn guarded<F, Fut>(
    s: &Arc<Shared>,
    index: usize,
    scope: Scope,
    subst: Subst,
    normal: F,
) -> Response
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Response>,
{
    let Some(kind) = s.take_fault(scope, false, false, None) else {
        return normal().await;
    };
    let rid = s.request_id();
    if let FaultKind::Oversized { bytes } = kind {
        let resp = normal().await;
        let (mut parts, _) = resp.into_parts();
        parts.headers.remove("content-length");
        let body = stream_body(s, index, filler_chunks(bytes, b'x'), Duration::ZERO, None);
        return Response::from_parts(parts, body);
    }
    if let Some(resp) = status_fault(&kind, &subst, &rid) {
        return resp;
    }
    match kind {
        FaultKind::Hang => hang(s).await,
        FaultKind::SlowStream { delay_ms_per_chunk } => {
            tokio::time::sleep(Duration::from_millis(delay_ms_per_chunk)).await;
            normal().await
        }
        FaultKind::CutStream { .. } => cut_body(normal().await).await,
        _ => normal().await,
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let auth = headers.get("authorization")?.to_str().ok()?;
    let (scheme, value) = auth.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(value.trim())
}

fn user_of(s: &Shared, headers: &HeaderMap) -> Option<String> {
    let profile = s.profile(bearer(headers)?)?;
    profile["name"].as_str().map(str::to_string)
}

// ---------------------------------------------------------------- hub

async fn whoami(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    headers: HeaderMap,
) -> Response {
    let subst = Subst {
        user: user_of(&s, &headers),
        ..Subst::default()
    };
    guarded(&s, index, Scope::Whoami, subst, || async {
        let rid = s.request_id();
        match bearer(&headers).and_then(|t| s.profile(t)) {
            Some(profile) => respond(
                200,
                "application/json; charset=utf-8",
                &[],
                &rid,
                profile.to_string(),
            ),
            None => unauthorized(&rid),
        }
    })
    .await
}

/// `GET /api/models?inference_provider=all&pipeline_tag={task}&expand[]=inferenceProviderMapping`:
/// the recorded models whose provider mapping serves `{task}` (the mapping's `task`; chat
/// models say `conversational`), as the Hub lists them: the mapping as a list, paged with
/// `limit` and `skip`.
async fn hub_model_list(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    uri: Uri,
) -> Response {
    let task = query_param(&uri, "pipeline_tag").unwrap_or_default();
    let limit: usize = query_param(&uri, "limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(1000);
    let skip: usize = query_param(&uri, "skip")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    guarded(&s, index, Scope::Mapping, Subst::default(), || async {
        let rid = s.request_id();
        let models: Vec<Value> = s
            .fixtures
            .hub_models
            .keys()
            .filter_map(|id| {
                let mapping = s.fixtures.mapping(id)?;
                let list: Vec<Value> = mapping
                    .iter()
                    .filter(|(_, e)| task.is_empty() || e["task"].as_str() == Some(task.as_str()))
                    .map(|(p, e)| {
                        json!({"provider": p, "providerId": e["providerId"], "status": e["status"], "task": e["task"]})
                    })
                    .collect();
                (!list.is_empty()).then(|| {
                    json!({"_id": id, "id": id, "pipeline_tag": task, "likes": 0, "inferenceProviderMapping": list})
                })
            })
            .chain(crate::video::hub_list(&task))
            .skip(skip)
            .take(limit)
            .collect();
        respond(
            200,
            "application/json; charset=utf-8",
            &[],
            &rid,
            Value::Array(models).to_string(),
        )
    })
    .await
}

async fn hub_model(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    Path(id): Path<String>,
    uri: Uri,
) -> Response {
    let expanded = uri
        .query()
        .is_some_and(|q| q.contains("inferenceProviderMapping"));
    let subst = Subst {
        model: Some(id.clone()),
        ..Subst::default()
    };
    guarded(&s, index, Scope::Mapping, subst, || async {
        let rid = s.request_id();
        if let Some(hm) = s.fixtures.hub_models.get(&id) {
            let rec = if expanded {
                hm.expanded.as_ref()
            } else {
                hm.full.as_ref().or(hm.expanded.as_ref())
            };
            if let Some(rec) = rec {
                return replay(rec, &rid, false);
            }
            // Only the full model info was recorded: the expanded answer has no provider.
            let full: Value = hm
                .full
                .as_ref()
                .and_then(|r| serde_json::from_slice(&r.body).ok())
                .unwrap_or(Value::Null);
            let body = json!({"_id": full["_id"], "id": id, "inferenceProviderMapping": {}});
            return respond(
                200,
                "application/json; charset=utf-8",
                &[],
                &rid,
                body.to_string(),
            );
        }
        if let Some(body) = crate::speech::synthetic_hub_model(&id)
            .or_else(|| crate::video::synthetic_hub_model(&id))
        {
            return respond(
                200,
                "application/json; charset=utf-8",
                &[],
                &rid,
                body.to_string(),
            );
        }
        if let Some(m) = s.catalog.get(&id).filter(|m| m.synthetic) {
            let body = catalog::synthetic_hub_model(m).to_string();
            return respond(200, "application/json; charset=utf-8", &[], &rid, body);
        }
        respond(
            404,
            "application/json; charset=utf-8",
            &[
                ("x-error-code".into(), "RepoNotFound".into()),
                ("x-error-message".into(), "Repository not found".into()),
            ],
            &rid,
            error_json("Repository not found"),
        )
    })
    .await
}

async fn avatar(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    Path(file): Path<String>,
) -> Response {
    guarded(&s, index, Scope::Avatar, Subst::default(), || async {
        let rid = s.request_id();
        match file.strip_suffix(".png") {
            Some(name) if !name.is_empty() => respond(
                200,
                "image/png",
                &[("cache-control".into(), "public, max-age=86400".into())],
                &rid,
                png::avatar(name, 32),
            ),
            _ => json_error(404, &error_json("Not Found"), &rid),
        }
    })
    .await
}

// ---------------------------------------------------------------- billing

/// Query values must be whole numbers of seconds; more than this is milliseconds.
const MAX_UNIX_SECONDS: i64 = 100_000_000_000;

fn query_param(uri: &Uri, key: &str) -> Option<String> {
    uri.query()?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=')?;
        (k == key).then(|| {
            v.replace("%3A", ":")
                .replace("%3a", ":")
                .replace("%2B", "+")
        })
    })
}

/// The token of a billing request, if it may read billing; else the refusal.
fn billing_auth(s: &Shared, headers: &HeaderMap, rid: &str) -> Result<String, Refusal> {
    let token = bearer(headers)
        .filter(|t| s.profile(t).is_some())
        .ok_or_else(|| Box::new(unauthorized(rid)))?;
    if !tokens::billing_profile(token).can_read_billing {
        let body = error_json("This authentication method does not have sufficient permissions to read billing information. Grant the 'Billing: read' permission to your token.");
        return Err(Box::new(json_error(403, &body, rid)));
    }
    Ok(token.to_string())
}

/// Records a routed chat call against its token (and session), as Hugging Face bills it.
fn bill_call(s: &Shared, headers: &HeaderMap) {
    let Some(token) = bearer(headers) else { return };
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    lock(&s.billing).calls.push(BilledCall {
        token: token.to_string(),
        session: header("x-hf-session-id"),
        bill_to: header("x-hf-bill-to"),
        at: std::time::Instant::now(),
        at_unix: tokens::now_unix(),
        cost_nano_usd: tokens::CALL_COST_NANO_USD,
    });
}

/// Adds `usage.estimated_cost` (USD) to the answer's usage, where it has one.
fn add_estimated_cost(answer: &mut Answer) {
    let cost = json!(tokens::CALL_COST_NANO_USD as f64 / tokens::NANO_PER_USD as f64);
    let add = |text: &str| -> Option<String> {
        let mut v: Value = serde_json::from_str(text).ok()?;
        let usage = v.get_mut("usage").filter(|u| u.is_object())?;
        usage["estimated_cost"] = cost.clone();
        Some(v.to_string())
    };
    match answer {
        Answer::Stream { events, .. } => {
            for e in events.iter_mut() {
                let Some(data) = e.strip_prefix("data:") else {
                    continue;
                };
                if let Some(new) = add(data.trim()) {
                    *e = format!("data: {new}");
                }
            }
        }
        Answer::Whole { body, .. } => {
            if let Some(new) = add(body) {
                *body = new;
            }
        }
    }
}

async fn billing_usage(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    guarded(&s, index, Scope::Billing, Subst::default(), || async {
        let rid = s.request_id();
        let token = match billing_auth(&s, &headers, &rid) {
            Ok(t) => t,
            Err(resp) => return *resp,
        };
        let bound = |k: &str| query_param(&uri, k).and_then(|v| v.parse::<i64>().ok());
        let (Some(start), Some(end)) = (bound("startDate"), bound("endDate")) else {
            return json_error(
                400,
                &error_json("startDate and endDate must be unix timestamps in seconds"),
                &rid,
            );
        };
        if start > MAX_UNIX_SECONDS || end > MAX_UNIX_SECONDS {
            // What Hugging Face does when given milliseconds.
            return json_error(500, &error_json("Internal Server Error"), &rid);
        }
        let profile = tokens::billing_profile(&token);
        let (mut used, mut requests) = (profile.used_nano_usd, profile.requests);
        for c in lock(&s.billing).calls.iter().filter(|c| {
            c.token == token && c.bill_to.is_none() && (start..=end).contains(&c.at_unix)
        }) {
            used += c.cost_nano_usd;
            requests += 1;
        }
        let now = tokens::now_unix();
        let body = json!({
            "usage": {
                "inferenceProviders": {
                    "usedNanoUsd": used,
                    "includedNanoUsd": profile.included_nano_usd,
                    "limitNanoUsd": profile.limit_nano_usd,
                    "numRequests": requests,
                    "periodStart": tokens::iso_from_unix(tokens::start_of_month(now)),
                    "periodEnd": tokens::iso_from_unix(tokens::start_of_next_month(now)),
                },
                "jobs": {"usedMicroUsd": 0, "totalMinutes": 0}
            }
        });
        respond(
            200,
            "application/json; charset=utf-8",
            &[],
            &rid,
            body.to_string(),
        )
    })
    .await
}

async fn billing_sessions(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    guarded(&s, index, Scope::Billing, Subst::default(), || async {
        let rid = s.request_id();
        let token = match billing_auth(&s, &headers, &rid) {
            Ok(t) => t,
            Err(resp) => return *resp,
        };
        let bound = |k: &str| query_param(&uri, k).and_then(|v| tokens::unix_from_iso(&v));
        let (Some(start), Some(end)) = (bound("startDate"), bound("endDate")) else {
            return json_error(
                400,
                &error_json("startDate and endDate must be ISO 8601 dates"),
                &rid,
            );
        };
        let billing = lock(&s.billing);
        let settled = |c: &&BilledCall| c.at.elapsed() >= billing.settle_delay;
        // (id, nano-USD, requests), in first-call order.
        let mut sessions: Vec<(String, i64, u64)> = Vec::new();
        for c in billing.calls.iter().filter(settled).filter(|c| {
            c.token == token && c.bill_to.is_none() && (start..=end).contains(&c.at_unix)
        }) {
            let Some(id) = &c.session else { continue };
            match sessions.iter_mut().find(|(s, _, _)| s == id) {
                Some(e) => {
                    e.1 += c.cost_nano_usd;
                    e.2 += 1;
                }
                None => sessions.push((id.clone(), c.cost_nano_usd, 1)),
            }
        }
        drop(billing);
        let sessions: Vec<Value> = sessions
            .into_iter()
            .map(|(id, nano, n)| {
                json!({"id": id, "costCents": nano as f64 / 10_000_000.0, "requestCount": n})
            })
            .collect();
        let body = json!({"periods": [{
            "periodStart": tokens::iso_from_unix(start),
            "periodEnd": tokens::iso_from_unix(end),
            "sessions": sessions
        }]});
        respond(
            200,
            "application/json; charset=utf-8",
            &[],
            &rid,
            body.to_string(),
        )
    })
    .await
}

// ---------------------------------------------------------------- router catalog

async fn models_list(State(s): S, Extension(ReqIndex(index)): Extension<ReqIndex>) -> Response {
    guarded(&s, index, Scope::Models, Subst::default(), || async {
        let body = s.catalog.list_json().to_string();
        respond(200, "application/json", &[], &s.request_id(), body)
    })
    .await
}

async fn model_one(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    Path(id): Path<String>,
) -> Response {
    let subst = Subst {
        model: Some(id.clone()),
        ..Subst::default()
    };
    guarded(&s, index, Scope::Models, subst, || async {
        let rid = s.request_id();
        match s.catalog.get(&id) {
            Some(m) => respond(
                200,
                "application/json",
                &[],
                &rid,
                catalog::model_json(m).to_string(),
            ),
            None => json_error(
                404,
                &error_json(&format!("Model {id} does not exist")),
                &rid,
            ),
        }
    })
    .await
}

// ---------------------------------------------------------------- chat

/// How a chat request reached the double.
#[derive(Debug, Clone)]
enum Mode {
    /// `/router/v1/chat/completions`: provider from the model suffix.
    Router,
    /// `/router/{provider}/{route}`; hf-inference carries the model in the path.
    Routed {
        provider: String,
        path_model: Option<String>,
    },
    /// `/direct/{provider}/{route}`.
    Direct { provider: String },
}

impl Mode {
    fn routed(&self) -> bool {
        !matches!(self, Mode::Direct { .. })
    }
}

async fn router_chat(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    chat(&s, index, &headers, &body, Mode::Router).await
}

async fn ext(State(s): S, Path((host, path)): Path<(String, String)>, uri: Uri) -> Response {
    if let Some(resp) = crate::speech::ext(&s, &host, path.trim_start_matches('/')) {
        return resp;
    }
    if let Some(resp) = crate::video::ext(&s, path.trim_start_matches('/')).await {
        return resp;
    }
    crate::images::ext(&s, &host, path.trim_start_matches('/'), uri.query()).await
}

async fn router_provider(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    Path((provider, route)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = route.trim_start_matches('/').to_string();
    let speech = crate::speech::SpeechCall {
        provider: &provider,
        route: &route,
        query: uri.query(),
        method: &method,
        routed: true,
        content_type: headers.get("content-type").and_then(|v| v.to_str().ok()),
        body: &body,
    };
    let auth = |rid: &str| router_auth(&s, &headers, rid).map(|_| ());
    if let Some(mut resp) = crate::speech::serve(&s, speech, auth).await {
        if let Ok(v) = HeaderValue::from_str(&provider) {
            resp.headers_mut().insert("x-inference-provider", v);
        }
        return resp;
    }
    let video = crate::video::VideoCall {
        provider: &provider,
        route: &route,
        query: uri.query(),
        method: &method,
        routed: true,
        body: &body,
    };
    let auth = |rid: &str| router_auth(&s, &headers, rid).map(|_| ());
    if let Some(mut resp) = crate::video::serve(&s, video, auth).await {
        if let Ok(v) = HeaderValue::from_str(&provider) {
            resp.headers_mut().insert("x-inference-provider", v);
        }
        return resp;
    }
    let call = crate::images::ImageCall {
        provider: &provider,
        route: &route,
        query: uri.query(),
        method: &method,
        routed: true,
    };
    let auth = |rid: &str| router_auth(&s, &headers, rid).map(|_| ());
    if let Some(mut resp) = crate::images::serve(&s, call, &headers, auth).await {
        if let Ok(v) = HeaderValue::from_str(&provider) {
            resp.headers_mut().insert("x-inference-provider", v);
        }
        return resp;
    }
    if method == Method::POST && crate::embeddings::is_route(&provider, &route) {
        return embeddings(&s, index, (&provider, &route), &headers, &body, true).await;
    }
    if method == Method::POST
        && catalog::is_chat_route(&provider, &route)
        && !DIRECT_ONLY.contains(&provider.as_str())
    {
        let path_model = route
            .strip_prefix("models/")
            .and_then(|r| r.strip_suffix("/v1/chat/completions"))
            .map(str::to_string);
        let mode = Mode::Routed {
            provider,
            path_model,
        };
        return chat(&s, index, &headers, &body, mode).await;
    }
    let key = (method.to_string(), format!("/{provider}/{route}"));
    let Some(rec) = s.fixtures.routed.get(&key).cloned() else {
        return json_error(404, &error_json("Not Found"), &s.request_id());
    };
    let subst = Subst {
        user: user_of(&s, &headers),
        provider: Some(provider.clone()),
        ..Subst::default()
    };
    guarded(&s, index, Scope::Any, subst, || async {
        let rid = s.request_id();
        if let Err(resp) = router_auth(&s, &headers, &rid) {
            return *resp;
        }
        let mut resp = replay(&rec, &rid, false);
        if let Ok(v) = HeaderValue::from_str(&provider) {
            resp.headers_mut().insert("x-inference-provider", v);
        }
        resp
    })
    .await
}

async fn direct(
    State(s): S,
    Extension(ReqIndex(index)): Extension<ReqIndex>,
    Path((provider, route)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let route = route.trim_start_matches('/').to_string();
    if ROUTED_ONLY.contains(&provider.as_str()) {
        return json_error(404, &error_json("Not Found"), &s.uuid());
    }
    let speech = crate::speech::SpeechCall {
        provider: &provider,
        route: &route,
        query: uri.query(),
        method: &method,
        routed: false,
        content_type: headers.get("content-type").and_then(|v| v.to_str().ok()),
        body: &body,
    };
    let auth = |rid: &str| direct_auth(&provider, &headers, rid);
    if let Some(resp) = crate::speech::serve(&s, speech, auth).await {
        return resp;
    }
    let video = crate::video::VideoCall {
        provider: &provider,
        route: &route,
        query: uri.query(),
        method: &method,
        routed: false,
        body: &body,
    };
    let auth = |rid: &str| direct_auth(&provider, &headers, rid);
    if let Some(resp) = crate::video::serve(&s, video, auth).await {
        return resp;
    }
    let call = crate::images::ImageCall {
        provider: &provider,
        route: &route,
        query: uri.query(),
        method: &method,
        routed: false,
    };
    let auth = |rid: &str| direct_auth(&provider, &headers, rid);
    if let Some(resp) = crate::images::serve(&s, call, &headers, auth).await {
        return resp;
    }
    if method == Method::POST && crate::embeddings::is_route(&provider, &route) {
        return embeddings(&s, index, (&provider, &route), &headers, &body, false).await;
    }
    if method == Method::POST && catalog::is_chat_route(&provider, &route) {
        return chat(&s, index, &headers, &body, Mode::Direct { provider }).await;
    }
    // The provider's OpenAI-style model list (the chat route's folder + `models`): what a key
    // test or an OpenAI-compatible endpoint lists.
    let models_route = catalog::chat_route(&provider)
        .and_then(|r| r.strip_suffix("chat/completions"))
        .map(|r| format!("{r}models"));
    if method == Method::GET && models_route.as_deref() == Some(route.as_str()) {
        let mut served = s
            .catalog
            .models
            .iter()
            .filter_map(|m| m.provider(&provider))
            .map(|p| serde_json::json!({"id": p.provider_id, "object": "model", "owned_by": provider}))
            .collect::<Vec<_>>();
        // A provider the router never lists (OpenAI) has models of its own all the same.
        if DIRECT_ONLY.contains(&provider.as_str()) {
            served.extend(
                DIRECT_ONLY_MODELS.iter().map(
                    |id| serde_json::json!({"id": id, "object": "model", "owned_by": provider}),
                ),
            );
        }
        return guarded(
            &s,
            index,
            Scope::Any,
            Subst {
                credential: credential_of(&headers),
                ..Subst::default()
            },
            || async {
                let rid = s.uuid();
                if let Err(resp) = direct_auth(&provider, &headers, &rid) {
                    return *resp;
                }
                let body = serde_json::json!({"object": "list", "data": served}).to_string();
                respond(200, "application/json", &[], &rid, body)
            },
        )
        .await;
    }
    let key = (method.to_string(), format!("/{provider}/{route}"));
    let Some(rec) = s.fixtures.routed.get(&key).cloned() else {
        return json_error(404, &error_json("Not Found"), &s.uuid());
    };
    guarded(&s, index, Scope::Any, Subst::default(), || async {
        let rid = s.uuid();
        if let Err(resp) = direct_auth(&provider, &headers, &rid) {
            return *resp;
        }
        replay(&rec, &rid, true)
    })
    .await
}

/// A feature-extraction call (see [`crate::embeddings`]), with the faults of its scope.
async fn embeddings(
    s: &Arc<Shared>,
    index: usize,
    (provider, route): (&str, &str),
    headers: &HeaderMap,
    body: &Bytes,
    routed: bool,
) -> Response {
    let subst = Subst {
        user: user_of(s, headers),
        provider: Some(provider.to_string()),
        credential: credential_of(headers),
        ..Subst::default()
    };
    guarded(s, index, Scope::Embeddings, subst, || async {
        let rid = s.request_id();
        let auth = if routed {
            router_auth(s, headers, &rid).map(|_| ())
        } else {
            direct_auth(provider, headers, &rid)
        };
        if let Err(resp) = auth {
            return *resp;
        }
        let parsed = serde_json::from_slice::<Value>(body).map_err(|e| e.to_string());
        match parsed.and_then(|b| crate::embeddings::answer(provider, route, &b)) {
            Ok(v) => {
                let mut resp = respond(200, "application/json", &[], &rid, v.to_string());
                if let Ok(v) = HeaderValue::from_str(provider) {
                    resp.headers_mut().insert("x-inference-provider", v);
                }
                resp
            }
            Err(msg) => json_error(400, &error_json(&msg), &rid),
        }
    })
    .await
}

/// Router credentials: a registered `hf_` token allowed to call Inference Providers, and an
/// `X-HF-Bill-To` organization the user belongs to.
fn router_auth(s: &Shared, headers: &HeaderMap, rid: &str) -> Result<Value, Refusal> {
    let profile = bearer(headers)
        .filter(|t| t.starts_with("hf_"))
        .and_then(|t| s.profile(t))
        .ok_or_else(|| Box::new(unauthorized(rid)))?;
    let user = profile["name"].as_str().unwrap_or("unknown").to_string();
    if !tokens::can_call_inference(&profile) {
        let body = FORBIDDEN_BODY.replace("{user}", &user);
        return Err(Box::new(json_error(403, &body, rid)));
    }
    if let Some(org) = headers.get("x-hf-bill-to").and_then(|v| v.to_str().ok()) {
        let orgs = profile["orgs"].as_array().cloned().unwrap_or_default();
        match orgs.iter().find(|o| o["name"].as_str() == Some(org)) {
            None => {
                let msg = format!("User {user} is not a member of organization {org}");
                return Err(Box::new(json_error(403, &error_json(&msg), rid)));
            }
            Some(o) if o["canPay"].as_bool() != Some(true) => {
                let msg = format!(
                    "Organization {org} cannot be billed for Inference Providers: it has no payment method or plan"
                );
                return Err(Box::new(json_error(402, &error_json(&msg), rid)));
            }
            Some(_) => {}
        }
    }
    Ok(profile)
}

/// Direct credentials: a provider key (`pk-...`), as `Key <key>` for fal-ai and `Bearer <key>`
/// elsewhere. A Hugging Face token is refused the way providers refuse unknown keys.
fn direct_auth(provider: &str, headers: &HeaderMap, rid: &str) -> Result<(), Refusal> {
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let scheme = if provider == "fal-ai" {
        "Key "
    } else {
        "Bearer "
    };
    match auth.strip_prefix(scheme).map(str::trim) {
        Some(key) if tokens::is_valid_provider_key(key) => Ok(()),
        _ => Err(Box::new(json_error(
            401,
            r#"{"error":{"message":"Invalid API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#,
            rid,
        ))),
    }
}

/// Splits `model[:suffix]`.
fn split_model(model: &str) -> (&str, Option<&str>) {
    match model.rsplit_once(':') {
        Some((m, suffix)) if !suffix.contains('/') => (m, Some(suffix)),
        _ => (model, None),
    }
}

/// Picks the provider serving a routed `/v1/chat/completions` call.
fn pick_provider<'a>(
    m: &'a CatalogModel,
    suffix: Option<&str>,
    rid: &str,
) -> Result<&'a catalog::CatalogProvider, Refusal> {
    let unavailable = || {
        let msg = format!(
            "Model {} is not supported by any provider you have enabled",
            m.id
        );
        Box::new(json_error(400, &error_json(&msg), rid))
    };
    match suffix {
        None | Some("fastest" | "cheapest" | "preferred") => m.first_live().ok_or_else(unavailable),
        Some(p) => match m.provider(p) {
            Some(cp) if cp.status == "live" => Ok(cp),
            Some(_) => {
                let msg = format!("Provider {p} is currently unavailable for model {}", m.id);
                Err(Box::new(json_error(503, &error_json(&msg), rid)))
            }
            None => {
                let msg = format!("Model {} is not supported by provider {p}", m.id);
                Err(Box::new(json_error(400, &error_json(&msg), rid)))
            }
        },
    }
}

/// The answer body to send, before faults.
enum Answer {
    Stream {
        events: Vec<String>,
        headers: Vec<(String, String)>,
        content_type: String,
    },
    Whole {
        status: u16,
        body: String,
        headers: Vec<(String, String)>,
        content_type: String,
    },
}

async fn chat(
    s: &Arc<Shared>,
    index: usize,
    headers: &HeaderMap,
    body: &Bytes,
    mode: Mode,
) -> Response {
    let rid = if mode.routed() {
        s.request_id()
    } else {
        s.uuid()
    };
    let Ok(req) = serde_json::from_slice::<Value>(body) else {
        return json_error(400, &error_json("Invalid JSON body"), &rid);
    };
    let body_model = req["model"].as_str().map(str::to_string);
    let mut subst = Subst {
        user: user_of(s, headers),
        model: body_model.as_deref().map(|m| split_model(m).0.to_string()),
        provider: match &mode {
            Mode::Router => body_model
                .as_deref()
                .and_then(|m| split_model(m).1)
                .map(str::to_string),
            Mode::Routed { provider, .. } | Mode::Direct { provider } => Some(provider.clone()),
        },
        credential: credential_of(headers),
    };
    if let Some(resp) = immediate_fault(s, Scope::Chat, true, &subst, &rid).await {
        return resp;
    }

    let auth = match &mode {
        Mode::Direct { provider } => direct_auth(provider, headers, &rid).map(|_| ()),
        _ => router_auth(s, headers, &rid).map(|_| ()),
    };
    if let Err(resp) = auth {
        return *resp;
    }

    // Which provider serves, and which model id it reports.
    let (provider, report_model) = match &mode {
        Mode::Router => {
            let Some(full) = body_model.as_deref() else {
                return json_error(400, &error_json("Missing required parameter: model"), &rid);
            };
            let (id, suffix) = split_model(full);
            let Some(m) = s.catalog.get(id) else {
                return json_error(
                    400,
                    &error_json(&format!("Model {id} does not exist")),
                    &rid,
                );
            };
            match pick_provider(m, suffix, &rid) {
                Ok(p) => (p.provider.clone(), p.provider_id.clone()),
                Err(resp) => return *resp,
            }
        }
        Mode::Routed {
            provider,
            path_model,
        } => {
            let model = body_model.clone().or_else(|| path_model.clone());
            (provider.clone(), model.unwrap_or_default())
        }
        Mode::Direct { provider } => (provider.clone(), body_model.clone().unwrap_or_default()),
    };
    subst.provider = Some(provider.clone());

    let stream = req["stream"].as_bool() == Some(true);
    let include_usage = req["stream_options"]["include_usage"].as_bool() == Some(true);
    let prompt = sse::estimate_prompt_tokens(&req);
    let fault = s.take_fault(Scope::Chat, true, false, Some(&provider));
    if let Some(kind) = &fault {
        if let Some(resp) = status_fault(kind, &subst, &rid) {
            return resp;
        }
        if matches!(kind, FaultKind::Hang) {
            return hang(s).await;
        }
    }

    if mode.routed() {
        bill_call(s, headers);
    }
    let chat_id = format!("chatcmpl-{}", s.uuid().replace('-', ""));
    let synthesized = |content: &str, pieces: Vec<String>| {
        if stream {
            Answer::Stream {
                events: s.templates.stream(&report_model, &chat_id, &pieces, prompt),
                headers: Vec::new(),
                content_type: "text/event-stream; charset=utf-8".into(),
            }
        } else {
            Answer::Whole {
                status: 200,
                body: s
                    .templates
                    .completion(&report_model, &chat_id, content, prompt),
                headers: Vec::new(),
                content_type: "application/json; charset=utf-8".into(),
            }
        }
    };
    let mut delay = Duration::ZERO;
    let oversized = matches!(fault, Some(FaultKind::Oversized { .. }));
    let mut answer = match &fault {
        Some(FaultKind::Answer { content }) => synthesized(content, sse::split_content(content, 5)),
        Some(FaultKind::Oversized { bytes }) if !stream => {
            let content = "x".repeat(*bytes);
            synthesized(&content, Vec::new())
        }
        Some(FaultKind::Oversized { bytes }) => {
            // Content chunks of 4 KiB until about `bytes` bytes were sent.
            let piece = "x".repeat(4096);
            let pieces = vec![piece; bytes.div_ceil(4096).max(1)];
            synthesized("", pieces)
        }
        Some(FaultKind::LongStream { chunks, delay_us }) => {
            delay = Duration::from_micros(*delay_us);
            let pieces: Vec<String> = (0..*chunks).map(sse::filler_piece).collect();
            synthesized(&pieces.concat(), pieces)
        }
        _ => {
            let rec = s
                .fixtures
                .chat
                .get(&(provider.clone(), stream))
                .or_else(|| s.fixtures.chat.get(&("together".to_string(), stream)));
            match rec {
                Some(rec) => {
                    let text = sse::rewrite_model(
                        rec.response.body_str(),
                        &rec.request_model,
                        &report_model,
                    );
                    let headers = replay_headers(&rec.response, !mode.routed());
                    let content_type = rec
                        .response
                        .header("content-type")
                        .unwrap_or(if stream {
                            "text/event-stream"
                        } else {
                            "application/json"
                        })
                        .to_string();
                    if stream {
                        let mut events = sse::split_events(&text);
                        if include_usage && !sse::has_usage(&events) {
                            if let Some(u) = sse::usage_event(&events, prompt) {
                                let at = events
                                    .iter()
                                    .rposition(|e| e == DONE_EVENT)
                                    .unwrap_or(events.len());
                                events.insert(at, u);
                            }
                        }
                        Answer::Stream {
                            events,
                            headers,
                            content_type,
                        }
                    } else {
                        Answer::Whole {
                            status: rec.response.status,
                            body: text,
                            headers,
                            content_type,
                        }
                    }
                }
                None => {
                    let content = "Deep learning is a subset of machine learning.";
                    synthesized(content, sse::split_content(content, 5))
                }
            }
        }
    };

    if mode.routed() && lock(&s.billing).estimated_cost {
        add_estimated_cost(&mut answer);
    }
    let mut extra = Vec::new();
    if mode.routed() {
        extra.push(("x-inference-provider".to_string(), provider.clone()));
    }
    let mut cut_after = None;
    let mut unended = None;
    match fault {
        Some(FaultKind::UnendedStream { line_end }) => unended = Some(line_end),
        Some(FaultKind::SlowStream { delay_ms_per_chunk }) => {
            delay = Duration::from_millis(delay_ms_per_chunk);
        }
        Some(FaultKind::CutStream { after_chunks }) => cut_after = Some(after_chunks),
        Some(FaultKind::MalformedEvent { after_chunks }) => match &mut answer {
            Answer::Stream { events, .. } => {
                events.insert(after_chunks.min(events.len()), MALFORMED_EVENT.to_string());
            }
            Answer::Whole { body, .. } => *body = "{not json".to_string(),
        },
        Some(FaultKind::ErrorEvent {
            after_chunks,
            payload,
        }) => match &mut answer {
            Answer::Stream { events, .. } => {
                events.truncate(after_chunks);
                events.push(format!("data: {payload}"));
            }
            Answer::Whole { body, .. } => *body = payload,
        },
        _ => {}
    }

    match answer {
        Answer::Stream {
            events,
            mut headers,
            content_type,
        } => {
            headers.extend(extra);
            let mut events = events;
            if unended.is_some() {
                events.retain(|e| e != DONE_EVENT);
            }
            let last = events.len().saturating_sub(1);
            let chunks = events
                .into_iter()
                .enumerate()
                .map(|(i, e)| match unended {
                    Some(true) if i == last => Bytes::from(format!("{e}\n")),
                    Some(false) if i == last => Bytes::from(e),
                    _ => Bytes::from(format!("{e}\n\n")),
                })
                .collect();
            let body = stream_body(s, index, chunks, delay, cut_after);
            respond(200, &content_type, &headers, &rid, body)
        }
        Answer::Whole {
            status,
            body,
            mut headers,
            content_type,
        } => {
            headers.extend(extra);
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if oversized {
                // Sent in pieces, so the double sees whether the client read it all.
                let chunks = body
                    .as_bytes()
                    .chunks(64 * 1024)
                    .map(Bytes::copy_from_slice)
                    .collect();
                let body = stream_body(s, index, chunks, Duration::ZERO, None);
                return respond(status, &content_type, &headers, &rid, body);
            }
            let resp = respond(status, &content_type, &headers, &rid, body);
            if cut_after.is_some() {
                cut_body(resp).await
            } else {
                resp
            }
        }
    }
}

/// Applies a queued `Status` or `Hang` fault (only those) before anything else is checked.
async fn immediate_fault(
    s: &Arc<Shared>,
    scope: Scope,
    chat: bool,
    subst: &Subst,
    rid: &str,
) -> Option<Response> {
    let kind = s.take_fault(scope, chat, true, subst.provider.as_deref())?;
    if let Some(resp) = status_fault(&kind, subst, rid) {
        return Some(resp);
    }
    Some(hang(s).await)
}

/// Streams `chunks` one by one, recording the outcome; `cut_after` breaks the connection after
/// that many chunks.
fn stream_body(
    s: &Arc<Shared>,
    index: usize,
    chunks: Vec<Bytes>,
    delay: Duration,
    cut_after: Option<usize>,
) -> Body {
    let (tx, rx) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let pos = s.start_stream(index);
    let s = s.clone();
    tokio::spawn(async move {
        let total = chunks.len();
        let cut = || Err(std::io::Error::other("stream cut by the double"));
        for (i, chunk) in chunks.into_iter().enumerate() {
            if cut_after == Some(i) {
                let _ = tx.send(cut()).await;
                return;
            }
            if !delay.is_zero() {
                tokio::select! {
                    _ = tokio::time::sleep(delay) => {}
                    _ = tx.closed() => {
                        s.update_stream(pos, |o| o.client_disconnected = true);
                        return;
                    }
                    _ = s.until_shutdown() => return,
                }
            }
            if tx.send(Ok(chunk)).await.is_err() {
                s.update_stream(pos, |o| o.client_disconnected = true);
                return;
            }
            s.update_stream(pos, |o| o.chunks_sent = i + 1);
        }
        if cut_after.is_some_and(|n| n >= total) {
            let _ = tx.send(cut()).await;
            return;
        }
        s.update_stream(pos, |o| o.completed = true);
    });
    Body::from_stream(ReceiverStream::new(rx))
}

// ---------------------------------------------------------------- control

async fn ctl_requests(State(s): S) -> Json<Vec<RecordedRequest>> {
    Json(lock(&s.requests).clone())
}

async fn ctl_clear_requests(State(s): S) -> StatusCode {
    lock(&s.requests).clear();
    StatusCode::NO_CONTENT
}

async fn ctl_faults(State(s): S) -> Json<Vec<Fault>> {
    Json(lock(&s.faults).clone())
}

async fn ctl_push_fault(State(s): S, Json(fault): Json<Fault>) -> StatusCode {
    lock(&s.faults).push(fault);
    StatusCode::NO_CONTENT
}

async fn ctl_clear_faults(State(s): S) -> StatusCode {
    lock(&s.faults).clear();
    StatusCode::NO_CONTENT
}

async fn ctl_streams(State(s): S) -> Json<Vec<crate::StreamOutcome>> {
    Json(lock(&s.streams).clone())
}

#[derive(serde::Deserialize)]
struct TokenRegistration {
    token: String,
    profile: Value,
}

async fn ctl_register_token(State(s): S, Json(t): Json<TokenRegistration>) -> StatusCode {
    lock(&s.tokens).insert(t.token, t.profile);
    StatusCode::NO_CONTENT
}

async fn ctl_billing(State(s): S, Json(c): Json<BillingControl>) -> StatusCode {
    lock(&s.billing).apply(&c);
    StatusCode::NO_CONTENT
}

async fn not_found(State(s): S) -> Response {
    json_error(404, &error_json("Not Found"), &s.request_id())
}
