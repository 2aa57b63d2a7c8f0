//! `hf-double`: a loopback imitation of the Hugging Face Hub, the HF router and providers' direct
//! endpoints, replaying real recorded traffic, that can be told to misbehave.
//!
//! One server, one port:
//! - Hub, no prefix: `GET /api/whoami-v2`, `GET /api/models/{id}`, `GET /avatars/{name}.png`,
//!   and billing: `GET /api/settings/billing/usage-v2` (Unix seconds; milliseconds answer 500)
//!   and `GET /api/settings/billing/usage-by-inference-session` (ISO 8601), from the routed calls
//!   it billed ($0.0018 each), per account variant of [`tokens`] (`NO_BILLING_TOKEN`: 403).
//! - Router, under `/router`: `GET /v1/models[/{id}]`, `POST /v1/chat/completions`,
//!   `POST /{provider}/{route}`.
//! - Providers' own endpoints, under `/direct/{provider}/{route}` (provider keys only).
//! - Text-to-image, speech, embeddings and video jobs on the providers' routes, routed or direct
//!   (see [`speech`], [`embeddings`], [`video`]).
//! - Control, under `/__double/` (never recorded): `GET|DELETE requests`, `POST|DELETE faults`,
//!   `GET streams`, `POST tokens`, `POST billing` (settle delay, `usage.estimated_cost`).
//!
//! Deliberate differences from the recordings are listed in the README of this crate.

mod catalog;
pub mod embeddings;
mod fault;
mod fixtures;
mod images;
pub mod png;
mod server;
pub mod speech;
pub mod sse;
pub mod tokens;
pub mod video;

pub use catalog::{chat_route, Catalog, CatalogModel, CatalogProvider, REMOVED_PROVIDERS};
pub use fault::{
    Fault, FaultKind, Scope, CREDITS_DEPLETED_BODY, FORBIDDEN_BODY, UNAUTHORIZED_BODY,
};
pub use images::NSFW_MESSAGE;
pub use server::DIRECT_ONLY_MODELS;

use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::pin::pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio::sync::{watch, Notify};

/// Environment variable overriding [`default_fixtures_dir`].
pub const FIXTURES_ENV: &str = "SWITCHBOARD_FIXTURES_DIR";

/// `$SWITCHBOARD_FIXTURES_DIR`, else `<repo>/../shared/fixtures/hf-recorded`, canonicalised when
/// it exists.
pub fn default_fixtures_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os(FIXTURES_ENV).filter(|v| !v.is_empty()) {
        let dir = PathBuf::from(dir);
        return dir.canonicalize().unwrap_or(dir);
    }
    // Looked up at run time from the folder cargo runs the test in, not baked in at compile
    // time: CI keeps one build folder in ~/.cache for many clones, and a reused artifact must
    // not point at another (perhaps deleted) clone's path.
    let start = std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    start
        .ancestors()
        .map(|a| a.join("shared/fixtures/hf-recorded"))
        .find(|p| p.is_dir())
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/hf-recorded")
        })
}

/// Where a request was addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Target {
    /// The Hub (`/api/...`, `/avatars/...`).
    Hub,
    /// The router (`/router/...`).
    Router,
    /// A provider's own endpoint (`/direct/{provider}/...`).
    Direct { provider: String },
    /// Another host of a recording, served under `/ext/{host}/...` (pictures, polling).
    External { host: String },
    /// Anything else (answered 404).
    Other,
}

impl Target {
    fn of(path: &str) -> Target {
        if path == "/router" || path.starts_with("/router/") {
            Target::Router
        } else if let Some(rest) = path.strip_prefix("/direct/") {
            Target::Direct {
                provider: rest.split('/').next().unwrap_or_default().to_string(),
            }
        } else if let Some(rest) = path.strip_prefix("/ext/") {
            Target::External {
                host: rest.split('/').next().unwrap_or_default().to_string(),
            }
        } else if path.starts_with("/api/") || path.starts_with("/avatars/") {
            Target::Hub
        } else {
            Target::Other
        }
    }
}

/// A request the double received.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// Position among all requests since start (not reset by `clear_requests`); matches
    /// [`StreamOutcome::request_index`].
    pub index: usize,
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    /// Lowercase names, in received order.
    pub headers: Vec<(String, String)>,
    /// The body, lossily decoded as UTF-8.
    pub body: String,
    pub target: Target,
}

impl RecordedRequest {
    /// First value of a header (name case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON, if it is.
    pub fn json(&self) -> Option<serde_json::Value> {
        serde_json::from_str(&self.body).ok()
    }

    /// The bearer token (or `Key` key) of the `authorization` header.
    pub fn credential(&self) -> Option<&str> {
        let auth = self.header("authorization")?;
        auth.strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("Key "))
            .map(str::trim)
    }
}

/// What happened to one streamed answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamOutcome {
    /// [`RecordedRequest::index`] of the request answered.
    pub request_index: usize,
    /// Chunks (events) handed to the connection.
    pub chunks_sent: usize,
    /// Every planned chunk was sent (false for cut streams and dropped connections).
    pub completed: bool,
    /// The client went away before the stream finished.
    pub client_disconnected: bool,
}

/// State shared by the handlers and the [`HfDouble`] handle.
pub(crate) struct Shared {
    pub fixtures: Arc<fixtures::Fixtures>,
    pub catalog: Catalog,
    pub templates: sse::Templates,
    pub base_url: String,
    pub tokens: Mutex<HashMap<String, serde_json::Value>>,
    pub faults: Mutex<Vec<Fault>>,
    pub requests: Mutex<Vec<RecordedRequest>>,
    pub requests_cv: Condvar,
    pub requests_notify: Notify,
    pub next_index: AtomicUsize,
    pub streams: Mutex<Vec<StreamOutcome>>,
    pub streams_notify: Notify,
    pub shutdown: watch::Receiver<bool>,
    pub billing: Mutex<BillingState>,
    /// Image generations in progress or done, by job id.
    pub jobs: Mutex<HashMap<String, images::Job>>,
    /// Speech jobs (fal queue, Replicate predictions), by id.
    pub speech_jobs: Mutex<HashMap<String, speech::SpeechJob>>,
    /// Video jobs (every provider), by id.
    pub video_jobs: Mutex<HashMap<String, video::VideoJob>>,
    ids: AtomicU64,
}

/// One routed chat call the double billed.
#[derive(Debug, Clone)]
pub(crate) struct BilledCall {
    pub token: String,
    /// `X-HF-Session-id`, if the call carried one.
    pub session: Option<String>,
    /// `X-HF-Bill-To`: billed to that organisation, not to the user.
    pub bill_to: Option<String>,
    pub at: Instant,
    pub at_unix: i64,
    pub cost_nano_usd: i64,
}

/// The billing side of the double: the calls it billed and how it reports them.
#[derive(Debug, Default)]
pub(crate) struct BillingState {
    pub calls: Vec<BilledCall>,
    /// How long after a call its session cost appears (Hugging Face settles in minutes).
    pub settle_delay: Duration,
    /// Whether routed answers carry `usage.estimated_cost`.
    pub estimated_cost: bool,
}

/// How the billing endpoints behave (`POST /__double/billing`); unset fields stay as they are.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct BillingControl {
    #[serde(default)]
    pub settle_delay_ms: Option<u64>,
    #[serde(default)]
    pub estimated_cost: Option<bool>,
}

impl BillingState {
    pub fn apply(&mut self, c: &BillingControl) {
        if let Some(ms) = c.settle_delay_ms {
            self.settle_delay = Duration::from_millis(ms);
        }
        if let Some(e) = c.estimated_cost {
            self.estimated_cost = e;
        }
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    fn new(
        fixtures: Arc<fixtures::Fixtures>,
        base_url: String,
        shutdown: watch::Receiver<bool>,
    ) -> Shared {
        let catalog = Catalog::build(&fixtures);
        let body = |stream: bool| {
            fixtures
                .chat
                .get(&("together".to_string(), stream))
                .map(|r| r.response.body_str().to_string())
        };
        let templates = sse::Templates::new(body(true).as_deref(), body(false).as_deref());
        let tokens = tokens::builtin_profiles(&base_url).into_iter().collect();
        Shared {
            fixtures,
            catalog,
            templates,
            base_url,
            tokens: Mutex::new(tokens),
            faults: Mutex::new(Vec::new()),
            requests: Mutex::new(Vec::new()),
            requests_cv: Condvar::new(),
            requests_notify: Notify::new(),
            next_index: AtomicUsize::new(0),
            streams: Mutex::new(Vec::new()),
            streams_notify: Notify::new(),
            shutdown,
            billing: Mutex::new(BillingState::default()),
            jobs: Mutex::new(HashMap::new()),
            speech_jobs: Mutex::new(HashMap::new()),
            video_jobs: Mutex::new(HashMap::new()),
            ids: AtomicU64::new(1),
        }
    }

    pub fn record(&self, mut req: RecordedRequest) -> usize {
        let index = self.next_index.fetch_add(1, Ordering::SeqCst);
        req.index = index;
        lock(&self.requests).push(req);
        self.requests_cv.notify_all();
        self.requests_notify.notify_waiters();
        index
    }

    /// Takes the first queued fault applying to a request. With `immediate_only`, a first
    /// applicable fault that is not a `Status` or `Hang` is left queued and `None` is returned.
    pub fn take_fault(
        &self,
        scope: Scope,
        chat: bool,
        immediate_only: bool,
        provider: Option<&str>,
    ) -> Option<FaultKind> {
        let mut faults = lock(&self.faults);
        let pos = faults.iter().position(|f| {
            f.applies_to(scope, chat) && f.provider.as_deref().is_none_or(|p| Some(p) == provider)
        })?;
        let kind = faults[pos].kind.clone();
        if immediate_only && !kind.is_immediate() {
            return None;
        }
        match &mut faults[pos].times {
            Some(n) if *n <= 1 => {
                faults.remove(pos);
            }
            Some(n) => *n -= 1,
            None => {}
        }
        Some(kind)
    }

    /// Registers a new stream outcome; returns its position.
    pub fn start_stream(&self, request_index: usize) -> usize {
        let mut streams = lock(&self.streams);
        streams.push(StreamOutcome {
            request_index,
            chunks_sent: 0,
            completed: false,
            client_disconnected: false,
        });
        streams.len() - 1
    }

    pub fn update_stream(&self, pos: usize, f: impl FnOnce(&mut StreamOutcome)) {
        if let Some(o) = lock(&self.streams).get_mut(pos) {
            f(o);
        }
        self.streams_notify.notify_waiters();
    }

    pub fn profile(&self, token: &str) -> Option<serde_json::Value> {
        lock(&self.tokens).get(token).cloned()
    }

    /// Resolves when the double shuts down.
    pub async fn until_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|v| *v).await;
    }

    fn next_random(&self) -> u64 {
        let n = self.ids.fetch_add(1, Ordering::Relaxed);
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or(0);
        splitmix64(n.wrapping_mul(0x9e37_79b9) ^ u64::from(nanos) << 20)
    }

    /// A uuid-shaped random id.
    pub fn uuid(&self) -> String {
        let (a, b) = (self.next_random(), self.next_random());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            0x8000 | (b >> 48) & 0x3fff,
            b & 0xffff_ffff_ffff
        )
    }

    /// An HF-style `X-Request-Id`: `Root=1-<time hex>-<24 hex>;<uuid>`, unique per call.
    pub fn request_id(&self) -> String {
        let (a, b) = (self.next_random(), self.next_random());
        format!(
            "Root=1-{:08x}-{:016x}{:08x};{}",
            tokens::now_unix(),
            a,
            b >> 32,
            self.uuid()
        )
    }
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A running double. Shuts down on [`HfDouble::shutdown`] or drop.
pub struct HfDouble {
    shared: Arc<Shared>,
    addr: std::net::SocketAddr,
    shutdown_tx: watch::Sender<bool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for HfDouble {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HfDouble")
            .field("addr", &self.addr)
            .finish()
    }
}

/// How long a shutting-down server waits for open connections before giving up on them.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

impl HfDouble {
    /// Starts on `127.0.0.1:0` in the current tokio runtime.
    pub async fn start(fixtures: &Path) -> std::io::Result<HfDouble> {
        HfDouble::start_on_port(fixtures, 0).await
    }

    /// Starts on `127.0.0.1:port` (0 = any free port) in the current tokio runtime.
    pub async fn start_on_port(fixtures: &Path, port: u16) -> std::io::Result<HfDouble> {
        let fx = fixtures::load(fixtures)?;
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        let addr = listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(fx, format!("http://{addr}"), rx.clone()));
        tokio::spawn(serve(listener, shared.clone(), rx));
        Ok(HfDouble {
            shared,
            addr,
            shutdown_tx: tx,
            thread: None,
        })
    }

    /// Starts on `127.0.0.1:0` with its own runtime on a background thread, for sync tests.
    pub fn start_blocking(fixtures: &Path) -> std::io::Result<HfDouble> {
        let fx = fixtures::load(fixtures)?;
        let std_listener = std::net::TcpListener::bind(("127.0.0.1", 0))?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(fx, format!("http://{addr}"), rx.clone()));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("hf-double")
            .enable_all()
            .build()?;
        let listener = {
            let _guard = runtime.enter();
            tokio::net::TcpListener::from_std(std_listener)?
        };
        let task_shared = shared.clone();
        let thread = std::thread::Builder::new()
            .name("hf-double".into())
            .spawn(move || {
                runtime.block_on(serve(listener, task_shared, rx));
                runtime.shutdown_timeout(Duration::from_millis(200));
            })?;
        Ok(HfDouble {
            shared,
            addr,
            shutdown_tx: tx,
            thread: Some(thread),
        })
    }

    /// `http://127.0.0.1:PORT`, no trailing slash.
    pub fn url(&self) -> String {
        self.shared.base_url.clone()
    }

    /// The Hub's base URL (same as [`HfDouble::url`]).
    pub fn hub_url(&self) -> String {
        self.url()
    }

    /// The router's base URL: `{url}/router`.
    pub fn router_url(&self) -> String {
        format!("{}/router", self.url())
    }

    /// Providers' direct base URL template: `{url}/direct/{provider}`.
    pub fn provider_base_template(&self) -> String {
        format!("{}/direct/{{provider}}", self.url())
    }

    /// A provider's direct base URL: `{url}/direct/{provider}`.
    pub fn provider_base(&self, provider: &str) -> String {
        format!("{}/direct/{provider}", self.url())
    }

    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The router catalog served at `/router/v1/models`.
    pub fn catalog(&self) -> &Catalog {
        &self.shared.catalog
    }

    pub fn push_fault(&self, fault: Fault) {
        lock(&self.shared.faults).push(fault);
    }

    pub fn clear_faults(&self) {
        lock(&self.shared.faults).clear();
    }

    /// Faults still queued.
    pub fn faults(&self) -> Vec<Fault> {
        lock(&self.shared.faults).clone()
    }

    /// Every request received, in order (control routes excluded).
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.requests).clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.shared.requests).clear();
    }

    /// Adds a token answering `whoami-v2` with `profile` (also valid on the router).
    pub fn register_token(&self, token: &str, profile: serde_json::Value) {
        lock(&self.shared.tokens).insert(token.to_string(), profile);
    }

    /// How long after a routed call its cost appears in `usage-by-inference-session`
    /// (0 at start).
    pub fn set_settle_delay(&self, delay: Duration) {
        lock(&self.shared.billing).settle_delay = delay;
    }

    /// Whether routed answers carry `usage.estimated_cost` (USD), as some do (off at start).
    pub fn set_estimated_cost(&self, on: bool) {
        lock(&self.shared.billing).estimated_cost = on;
    }

    /// Routed chat calls the double billed so far.
    pub fn billed_calls(&self) -> usize {
        lock(&self.shared.billing).calls.len()
    }

    /// The first recorded request matching `pred`, waiting up to `timeout` for one to arrive.
    pub async fn wait_for_request(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut notified = pin!(self.shared.requests_notify.notified());
            notified.as_mut().enable();
            if let Some(r) = lock(&self.shared.requests).iter().find(|r| pred(r)) {
                return Some(r.clone());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// [`HfDouble::wait_for_request`] for sync code.
    pub fn wait_for_request_blocking(
        &self,
        pred: impl Fn(&RecordedRequest) -> bool,
        timeout: Duration,
    ) -> Option<RecordedRequest> {
        let deadline = Instant::now() + timeout;
        let mut requests = lock(&self.shared.requests);
        loop {
            if let Some(r) = requests.iter().find(|r| pred(r)) {
                return Some(r.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            requests = self
                .shared
                .requests_cv
                .wait_timeout(requests, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// What happened to every streamed answer, in start order.
    pub fn stream_outcomes(&self) -> Vec<StreamOutcome> {
        lock(&self.shared.streams).clone()
    }

    /// Waits until a streamed answer satisfies `pred` (e.g. `|o| o.client_disconnected`).
    pub async fn wait_for_stream_outcome(
        &self,
        pred: impl Fn(&StreamOutcome) -> bool,
        timeout: Duration,
    ) -> Option<StreamOutcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let mut notified = pin!(self.shared.streams_notify.notified());
            notified.as_mut().enable();
            if let Some(o) = lock(&self.shared.streams).iter().find(|o| pred(o)) {
                return Some(o.clone());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return None;
            }
        }
    }

    /// Stops the server (also done on drop).
    pub fn shutdown(self) {}
}

impl Drop for HfDouble {
    fn drop(&mut self) {
        let _ = self.shutdown_tx.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn serve(listener: tokio::net::TcpListener, shared: Arc<Shared>, rx: watch::Receiver<bool>) {
    let app = server::router(shared);
    let mut stop = rx.clone();
    let graceful = axum::serve(listener, app).with_graceful_shutdown(async move {
        let _ = stop.wait_for(|v| *v).await;
    });
    let mut stop = rx;
    tokio::select! {
        _ = graceful => {}
        _ = async {
            let _ = stop.wait_for(|v| *v).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {}
    }
}
