//! The chat call service: the model catalog, and a call run end to end. A call is resolved
//! (routed, own key or custom endpoint), the user's message saved before anything is sent, the
//! answer streamed to a sink and saved as it streams, every attempt recorded in the ledger, and
//! a 402 on HF credits marks the month used up. Running calls belong to the services, not to
//! the screen that started them: only [`Services::chat_stop`] stops one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::Services;
use crate::auth::now_unix;
use crate::billing::{billing_month, CreditSettings};
use crate::call::{Billing, CallMode, CallResult, ChatEvent, ChatRequest, RouteDecision, Routing};
use crate::catalog::{self, Catalog};
use crate::chat::stream::CallContext;
use crate::chat::{self, CallOptions, ChatPreview, PlaygroundPrefs};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::ledger::{CallKind, CallRow};
use crate::history::{AnswerStart, History};
use crate::routing::{MappingCache, Resolver};
use crate::settings::Store;

/// A streamed answer is saved at least this often: a crash loses at most this much of it.
pub const SAVE_EVERY: Duration = Duration::from_millis(500);

/// Where the events of a running call go (the app: a Tauri channel to the window). The window
/// may be gone: a sink never fails the call.
pub type EventSink = Box<dyn FnMut(ChatEvent) + Send + 'static>;

/// The chat share of the services: the cached catalog and the running calls.
pub struct ChatState {
    catalog: RwLock<Arc<Catalog>>,
    catalog_path: std::path::PathBuf,
    /// Only one download of the catalog at a time.
    refreshing: tokio::sync::Mutex<()>,
    calls: Mutex<HashMap<u64, CancellationToken>>,
    /// What calls that ended could not save, by call id, until it is saved.
    unsaved: Mutex<HashMap<u64, Unsaved>>,
    next_call: AtomicU64,
    options: CallOptions,
    pub mappings: Arc<MappingCache>,
}

impl ChatState {
    pub fn new(data_dir: &std::path::Path, timeout_secs: Option<u64>) -> Self {
        let catalog_path = data_dir.join("catalog.json");
        let mut options = CallOptions::default();
        if let Some(s) = timeout_secs {
            options.first_byte_timeout = Duration::from_secs(s);
            options.idle_timeout = Duration::from_secs(s);
        }
        Self {
            catalog: RwLock::new(Arc::new(Catalog::load(&catalog_path))),
            catalog_path,
            refreshing: tokio::sync::Mutex::new(()),
            calls: Mutex::new(HashMap::new()),
            unsaved: Mutex::new(HashMap::new()),
            next_call: AtomicU64::new(1),
            options,
            mappings: Arc::new(MappingCache::default()),
        }
    }

    fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn calls(&self) -> std::sync::MutexGuard<'_, HashMap<u64, CancellationToken>> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn unsaved(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Unsaved>> {
        self.unsaved.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Tries again to save what ended calls could not: the ledger rows and used-up marks of
    /// all of them, and the answers too with `answers`. Blocking.
    fn retry_unsaved(&self, answers: bool) {
        let pending: Vec<(u64, Unsaved)> = self.unsaved().drain().collect();
        for (id, mut u) in pending {
            if u.retry(answers).is_err() || !u.is_empty() {
                self.unsaved().entry(id).or_insert(u);
            }
        }
    }

    /// How many calls are running now.
    pub fn running(&self) -> usize {
        self.calls().len()
    }
}

/// What `chat_start` answers at once.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatStarted {
    #[ts(type = "number")]
    pub call_id: u64,
    /// The conversation in the history (new if none was given); `None` if it is not saved.
    pub conversation_id: Option<String>,
    /// Why this answer is not being saved, if it is not.
    pub save_error: Option<AppError>,
    /// Where the call goes and who pays, decided here from the user's provider settings.
    pub route: RouteDecision,
}

impl Services {
    /// The cached catalog, as it is (possibly empty or old), with the custom endpoints' models:
    /// the pickers work offline.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.with_endpoints(self.chat.catalog())
    }

    /// The router's catalog plus the models of the user's custom endpoints, each offered by
    /// the pseudo-provider `endpoint:{id}`, and the models providers on the user's own key
    /// listed for it (OpenAI's only way in: the router never lists it).
    fn with_endpoints(&self, catalog: Arc<Catalog>) -> Arc<Catalog> {
        let prefs = crate::providers::ProviderPrefs::load(&*self.store);
        if prefs.endpoints.iter().all(|e| e.models.is_empty())
            && prefs.provider_models.values().all(Vec::is_empty)
        {
            return catalog;
        }
        let mut c = (*catalog).clone();
        crate::providers::merge_endpoints(&mut c, &prefs.endpoints);
        crate::providers::merge_provider_models(&mut c, &prefs);
        Arc::new(c)
    }

    /// Downloads the catalog when the cached one is stale, or always with `force`.
    pub async fn catalog_refresh(&self, force: bool) -> AppResult<Arc<Catalog>> {
        let chat = &self.chat;
        let _one_at_a_time = chat.refreshing.lock().await;
        let current = chat.catalog();
        let now = now_unix().max(0) as u64;
        if !force && !current.is_stale(now) {
            return Ok(self.with_endpoints(current));
        }
        let fresh = Arc::new(catalog::fetch(&self.hf, now).await?);
        if let Err(e) = fresh.save(&chat.catalog_path) {
            log::warn!("could not cache the catalog: {e}");
        }
        *chat.catalog.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
        log::info!("catalog refreshed: {} models", fresh.models.len());
        Ok(self.with_endpoints(fresh))
    }

    /// The exact request a send would make, for "Get code": the route resolved as a send
    /// would (the provider's URL and model id with the user's own key, the endpoint's URL),
    /// nothing sent, and no credential in it.
    pub async fn chat_preview(&self, request: &ChatRequest) -> AppResult<ChatPreview> {
        let routed = self.chat_build(request, &self.chat.catalog()).await?;
        let (preview, _) = self.resolver().route(request, routed).await?;
        Ok(preview)
    }

    /// Where a call chosen as `routing` would go and who would pay, for the UI to show before
    /// sending (no network).
    pub fn chat_route(&self, routing: &Routing, bill_to: Option<&str>) -> RouteDecision {
        self.resolver().decide(routing, bill_to)
    }

    /// [`chat::build`], with attached pictures read from the images folder (on a blocking
    /// thread, only when there are some).
    async fn chat_build(
        &self,
        request: &ChatRequest,
        catalog: &Arc<Catalog>,
    ) -> AppResult<ChatPreview> {
        if request.messages.iter().all(|m| m.images.is_empty()) {
            return chat::build(&self.config.endpoints, request, Some(catalog));
        }
        let dir = self.images.dir().to_path_buf();
        let endpoints = self.config.endpoints.clone();
        let (request, catalog) = (request.clone(), catalog.clone());
        tokio::task::spawn_blocking(move || {
            chat::build_with_images(&endpoints, &request, Some(&catalog), &|f| {
                crate::service::images::chat_picture(&dir, f)
            })
        })
        .await
        .unwrap_or_else(|e| Err(AppError::internal(format!("reading pictures failed: {e}"))))
    }

    pub(crate) fn resolver(&self) -> Resolver {
        Resolver {
            endpoints: self.config.endpoints.clone(),
            hf: self.hf.clone(),
            secrets: self.secrets.clone(),
            store: self.store.clone(),
            mappings: self.chat.mappings.clone(),
        }
    }

    /// Starts a streamed call and answers at once; the answer goes to `sink`. The user's
    /// message is saved before the request goes out, the answer while it streams. `pane` makes
    /// it one pane of a compare session.
    pub async fn chat_start(
        &self,
        conversation_id: Option<String>,
        pane: Option<u32>,
        request: ChatRequest,
        sink: EventSink,
    ) -> AppResult<ChatStarted> {
        self.chat_call(conversation_id, pane, request, sink)
            .await
            .map(|(started, _)| started)
    }

    /// [`Self::chat_start`], with the running call's task: it ends when the call has been
    /// saved and recorded, with the call's result.
    pub async fn chat_call(
        &self,
        conversation_id: Option<String>,
        pane: Option<u32>,
        request: ChatRequest,
        sink: EventSink,
    ) -> AppResult<(ChatStarted, JoinHandle<CallResult>)> {
        let catalog = self.chat.catalog();
        let mut routed = self.chat_build(&request, &catalog).await?;
        let resolver = self.resolver();
        resolver.check_enabled(&request.routing)?;
        let route = resolver.decide(&request.routing, request.bill_to.as_deref());
        let mode = route.mode;
        let hf_token = self.auth.token().map(|(t, _)| t);
        if mode == CallMode::Routed && hf_token.is_none() {
            return Err(AppError::new(
                ErrorCode::NotSignedIn,
                "Sign in with a Hugging Face token to send messages.",
            ));
        }
        let kind = if pane.is_some() {
            CallKind::Compare
        } else {
            CallKind::Chat
        };
        // Waiting for the history to open and saving block: neither parks a runtime worker.
        let history = self.history.wait().await;
        let begun = match &history {
            Ok(h) => {
                let (h, request) = (h.clone(), request.clone());
                tokio::task::spawn_blocking(move || {
                    let (conv, answer) = h.begin_answer(&AnswerStart {
                        conversation_id: conversation_id.as_deref(),
                        request: &request,
                        mode,
                        pane: pane.unwrap_or(0),
                        kind: if pane.is_some() { "compare" } else { "chat" },
                    })?;
                    // Routed calls name the conversation's (pane's) session, so Hugging Face
                    // reports what it billed for it. Without one the call still goes.
                    let session = if mode == CallMode::Routed {
                        h.session_id(&conv, pane.unwrap_or(0))
                            .map_err(|e| log::warn!("no billing session for the call: {e}"))
                            .ok()
                    } else {
                        None
                    };
                    Ok((conv, answer, session))
                })
                .await
                .unwrap_or_else(|e| Err(AppError::internal(format!("saving failed: {e}"))))
            }
            Err(e) => Err(e.clone()),
        };
        let (saved, save_error) = match begun {
            Ok((conv, answer, session)) => {
                routed.session_id = session;
                (Some(Saved { conv, answer }), None)
            }
            Err(e) => {
                if history.is_ok() {
                    log::error!("could not save the conversation: {e}");
                }
                (None, Some(e))
            }
        };
        let id = self.chat.next_call.fetch_add(1, Ordering::Relaxed);
        let cancel = CancellationToken::new();
        self.chat.calls().insert(id, cancel.clone());
        let billing = route.billing;
        let started = ChatStarted {
            call_id: id,
            conversation_id: saved.as_ref().map(|s| s.conv.clone()),
            save_error,
            route,
        };
        let run = RunningCall {
            id,
            request,
            routed,
            catalog,
            resolver,
            hf_token,
            http: self.hf.http().clone(),
            options: self.chat.options.clone(),
            cancel,
            history: history.ok(),
            saved,
            ledger: LedgerContext {
                store: self.store.clone(),
                period_end: self.auth.cached_account().and_then(|a| a.period_end),
                billing,
                kind,
            },
            chat: self.chat.clone(),
        };
        let task = tokio::spawn(run.run(sink));
        Ok((started, task))
    }

    /// Stops a call: its connection is dropped at once, the partial answer is kept.
    pub fn chat_stop(&self, id: u64) {
        if let Some(cancel) = self.chat.calls().get(&id) {
            cancel.cancel();
        }
    }

    /// Tries again to save what call `id` could not (its answer, its ledger rows, the used-up
    /// mark), on a blocking thread. Ok once everything is saved (also when nothing was left).
    pub async fn chat_save_retry(&self, id: u64) -> AppResult<()> {
        let chat = self.chat.clone();
        tokio::task::spawn_blocking(move || {
            let Some(mut u) = chat.unsaved().remove(&id) else {
                return Ok(());
            };
            let result = u.retry(true);
            if !u.is_empty() {
                chat.unsaved().insert(id, u);
            }
            result
        })
        .await
        .map_err(|e| AppError::internal(format!("saving failed: {e}")))?
    }

    pub fn playground(&self) -> PlaygroundPrefs {
        PlaygroundPrefs::load(&*self.store)
    }

    pub fn set_playground(&self, prefs: &PlaygroundPrefs) -> AppResult<()> {
        prefs.save(&*self.store)
    }
}

/// The rows of the history a call saves into.
struct Saved {
    conv: String,
    answer: i64,
}

/// Everything a running call needs, moved into its task.
struct RunningCall {
    id: u64,
    request: ChatRequest,
    /// The router request, built and checked before the call started.
    routed: ChatPreview,
    catalog: Arc<Catalog>,
    resolver: Resolver,
    hf_token: Option<crate::secrets::Secret>,
    http: reqwest::Client,
    options: CallOptions,
    cancel: CancellationToken,
    history: Option<Arc<History>>,
    saved: Option<Saved>,
    ledger: LedgerContext,
    chat: Arc<ChatState>,
}

impl RunningCall {
    async fn run(mut self, mut sink: EventSink) -> CallResult {
        let hf_token = self.hf_token.take();
        let request = &self.request;
        let catalog = self.catalog.clone();
        let model = request.model.clone();
        let price = move |provider: &str| {
            catalog
                .offer(&model, provider)
                .map(|o| (o.pricing, o.is_free))
                .unwrap_or((None, false))
        };
        let prompt_chars = request.system.chars().count()
            + request
                .messages
                .iter()
                .map(|m| m.content.chars().count())
                .sum::<usize>();
        let resolved = self
            .resolver
            .resolve(request, self.routed.clone(), hf_token)
            .await;
        let who = resolved.as_ref().map(|r| r.who.clone()).unwrap_or_default();
        let ctx = CallContext {
            who: &who,
            pinned: request.routing.pinned(),
            price: &price,
            prompt_chars,
            message_count: request.messages.len() + usize::from(!request.system.is_empty()),
        };
        // Automatic retries are calls too: each failed attempt gets its ledger row.
        let mut retries: Vec<(AppError, Option<String>)> = Vec::new();
        // The answer so far, saved at least every SAVE_EVERY while it streams.
        let mut content = String::new();
        let mut reasoning = String::new();
        let mut last_save = Instant::now();
        // The partial save in flight, on a blocking thread: at most one at a time, in order.
        let mut partial: Option<JoinHandle<()>> = None;
        let history = self.history.as_ref();
        let saved = self.saved.as_ref();
        let mut emit = |e: ChatEvent| {
            if let (
                ChatEvent::Delta {
                    content: c,
                    reasoning: r,
                },
                Some(h),
                Some(s),
            ) = (&e, history, saved)
            {
                content.push_str(c);
                reasoning.push_str(r);
                if last_save.elapsed() >= SAVE_EVERY
                    && partial.as_ref().is_none_or(|p| p.is_finished())
                {
                    last_save = Instant::now();
                    let (h, id) = (h.clone(), s.answer);
                    let (c, r) = (content.clone(), reasoning.clone());
                    partial = Some(tokio::task::spawn_blocking(move || {
                        if let Err(err) = h.save_partial(id, &c, &r) {
                            log::error!("could not save the partial answer: {err}");
                        }
                    }));
                }
            }
            if let ChatEvent::Retrying {
                error, request_id, ..
            } = &e
            {
                retries.push((error.clone(), request_id.clone()));
            }
            sink(e);
        };
        let result = match resolved {
            Ok(r) => {
                chat::run(
                    &self.http,
                    &r.preview,
                    &r.credential,
                    &ctx,
                    &self.options,
                    &self.cancel,
                    &mut emit,
                )
                .await
            }
            // Nothing was sent: the reason is the answer, saved like any failure.
            Err(e) => chat::stream::failed_before_sending(e, &mut emit),
        };
        if let Some(p) = partial.take() {
            let _ = p.await;
        }
        // Saving blocks: on a blocking thread. What cannot be saved is kept in memory, the user
        // is told, and it is tried again (the ledger after every call, all of it on Retry).
        // Through Hugging Face, the HF token was used: a 401 means the account needs a new one
        // (shown until one works), an answer means it works.
        if matches!(self.ledger.billing, Billing::HfCredits | Billing::Org) {
            let rejected = result
                .error
                .as_ref()
                .is_some_and(|e| e.code == ErrorCode::Unauthorized);
            if rejected || result.outcome == crate::call::Outcome::Complete {
                if let Err(e) = crate::auth::note_token_rejected(&*self.ledger.store, rejected) {
                    log::error!("could not note the token's state: {e}");
                }
            }
        }
        let mut unsaved = Unsaved {
            history: self.history.clone(),
            answer: saved.map(|s| (s.answer, result.clone())),
            rows: self.ledger.rows(
                request,
                &result,
                &retries,
                saved.map(|s| (s.conv.as_str(), s.answer)),
            ),
            depleted: self.ledger.depleted(&result),
        };
        let chat = self.chat.clone();
        let (unsaved, error) = tokio::task::spawn_blocking(move || {
            let error = unsaved.retry(true).err();
            // Space may have come back: what earlier calls could not save goes in too.
            chat.retry_unsaved(false);
            (unsaved, error)
        })
        .await
        .unwrap_or_else(|e| {
            (
                Unsaved::default(),
                Some(AppError::internal(format!("saving failed: {e}"))),
            )
        });
        if let Some(error) = error {
            log::error!("chat call {}: not saved: {error}", self.id);
            self.chat.unsaved().insert(self.id, unsaved);
            sink(ChatEvent::NotSaved {
                call_id: self.id,
                error,
            });
        }
        log::info!(
            "chat call {}: {:?}, provider {:?}, {} tokens out, request id {:?}",
            self.id,
            result.outcome,
            result.stats.provider,
            result.stats.tokens_out,
            result.request_id
        );
        self.chat.calls().remove(&self.id);
        result
    }
}

/// What the ledger needs to record a call from its task.
struct LedgerContext {
    store: Arc<dyn Store>,
    period_end: Option<i64>,
    billing: Billing,
    kind: CallKind,
}

impl LedgerContext {
    /// One ledger row per attempt: failed retried attempts, then the call itself.
    fn rows(
        &self,
        request: &ChatRequest,
        result: &CallResult,
        retries: &[(AppError, Option<String>)],
        saved: Option<(&str, i64)>,
    ) -> Vec<CallRow> {
        let now = crate::history::now_ms();
        let bill_to = request.bill_to.as_deref();
        let mut rows: Vec<CallRow> = retries
            .iter()
            .map(|(error, request_id)| CallRow {
                id: 0,
                at: now,
                kind: CallKind::Retry,
                model: Some(request.model.clone()),
                provider: request.routing.pinned().map(str::to_string),
                billing: self.billing,
                bill_to: bill_to.map(str::to_string),
                tokens_in: 0,
                tokens_out: 0,
                usage_estimated: false,
                price: None,
                cost: Some(0.0),
                ttft_ms: None,
                total_ms: None,
                status: "error".into(),
                error_code: Some(error.code),
                request_id: request_id.clone(),
                conversation_id: saved.map(|(c, _)| c.to_string()),
                message_id: None,
                rate_limit: None,
                router_cost: None,
                conversation_billed: None,
                conversation_billed_requests: None,
            })
            .collect();
        rows.push(CallRow::from_result(
            now,
            self.kind,
            &request.model,
            self.billing,
            bill_to,
            result,
            saved.map(|(c, _)| c),
            saved.map(|(_, m)| m),
        ));
        rows
    }

    /// A 402 on HF credits marks the month "used up": the store and the month to mark.
    fn depleted(&self, result: &CallResult) -> Option<(Arc<dyn Store>, String)> {
        let depleted = result
            .error
            .as_ref()
            .is_some_and(|e| e.code == ErrorCode::PaymentRequired);
        (depleted && self.billing == Billing::HfCredits).then(|| {
            let now = crate::history::now_ms();
            (
                self.store.clone(),
                billing_month(now, self.period_end).label(),
            )
        })
    }
}

/// What a call has not saved yet: its answer's final state, its ledger rows, the used-up mark.
#[derive(Default)]
struct Unsaved {
    history: Option<Arc<History>>,
    answer: Option<(i64, CallResult)>,
    rows: Vec<CallRow>,
    depleted: Option<(Arc<dyn Store>, String)>,
}

impl Unsaved {
    fn is_empty(&self) -> bool {
        self.answer.is_none() && self.rows.is_empty() && self.depleted.is_none()
    }

    /// Saves what it can (the answer only with `answer`), keeps the rest; the first failure.
    /// Without a history only the used-up mark can be saved: the rest is dropped (the user was
    /// told at the start that the history is unavailable). Blocking.
    fn retry(&mut self, answer: bool) -> AppResult<()> {
        let mut first: Option<AppError> = None;
        let mut fail = |e: AppError| {
            if first.is_none() {
                first = Some(e);
            }
        };
        match &self.history {
            Some(h) => {
                if answer {
                    if let Some((id, result)) = &self.answer {
                        match h.finish_answer(*id, result) {
                            Ok(()) => self.answer = None,
                            Err(e) => fail(e),
                        }
                    }
                }
                let mut kept = Vec::new();
                for row in std::mem::take(&mut self.rows) {
                    if let Err(e) = h.record_call(&row) {
                        fail(e);
                        kept.push(row);
                    }
                }
                self.rows = kept;
            }
            None => {
                self.answer = None;
                self.rows.clear();
            }
        }
        if let Some((store, month)) = &self.depleted {
            let mut s = CreditSettings::load(&**store);
            s.depleted_month = Some(month.clone());
            match s.save(&**store) {
                Ok(()) => self.depleted = None,
                Err(e) => fail(e),
            }
        }
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}
