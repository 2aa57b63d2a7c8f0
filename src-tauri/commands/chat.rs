//! IPC for the playground: the model catalog, streamed chat calls (started, stopped) and the
//! playground's saved settings. Each command only translates; the work is in `catalog` and `chat`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use ts_rs::TS;

use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::auth::now_unix;
use crate::billing::{billing_month, CreditSettings};
use crate::catalog::{self, Catalog};
use crate::chat::stream::CallContext;
use crate::chat::{self, CallOptions, ChatEvent, ChatPreview, ChatRequest};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::ledger::{Billing, CallKind, CallRow};
use crate::history::{AnswerStart, CallMode};
use crate::routing::{MappingCache, Resolver};
use crate::settings::{set_typed, PlaygroundPrefs, KEY_PLAYGROUND};

/// A streamed answer is saved at least this often: a crash loses at most this much of it.
const SAVE_EVERY: Duration = Duration::from_millis(500);

/// The playground's share of the app state.
pub struct ChatState {
    catalog: RwLock<Arc<Catalog>>,
    catalog_path: std::path::PathBuf,
    /// Only one download of the catalog at a time.
    refreshing: tokio::sync::Mutex<()>,
    calls: Mutex<HashMap<u64, CancellationToken>>,
    next_call: AtomicU64,
    options: CallOptions,
    pub(super) mappings: Arc<MappingCache>,
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
}

/// The cached catalog, as it is (possibly empty or old): the pickers work offline.
#[tauri::command]
pub fn catalog_get(state: State<'_, AppState>) -> Arc<Catalog> {
    with_endpoints(state.chat.catalog(), &state)
}

/// The router's catalog plus the models of the user's custom endpoints, each offered by the
/// pseudo-provider `endpoint:{id}`.
fn with_endpoints(catalog: Arc<Catalog>, state: &AppState) -> Arc<Catalog> {
    let prefs = crate::providers::ProviderPrefs::load(&*state.store);
    if prefs.endpoints.iter().all(|e| e.models.is_empty()) {
        return catalog;
    }
    let mut c = (*catalog).clone();
    c.merge_endpoints(&prefs.endpoints);
    Arc::new(c)
}

/// Downloads the catalog when the cached one is stale, or always with `force`.
#[tauri::command]
pub async fn catalog_refresh(state: State<'_, AppState>, force: bool) -> AppResult<Arc<Catalog>> {
    let chat = &state.chat;
    let _one_at_a_time = chat.refreshing.lock().await;
    let current = chat.catalog();
    let now = now_unix().max(0) as u64;
    if !force && !current.is_stale(now) {
        return Ok(with_endpoints(current, &state));
    }
    let fresh = Arc::new(catalog::fetch(&state.hf, now).await?);
    if let Err(e) = fresh.save(&chat.catalog_path) {
        log::warn!("could not cache the catalog: {e}");
    }
    *chat.catalog.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
    log::info!("catalog refreshed: {} models", fresh.models.len());
    Ok(with_endpoints(fresh, &state))
}

/// The exact request a send would make, for "Get code" (the token is never in it).
#[tauri::command]
pub fn chat_preview(state: State<'_, AppState>, request: ChatRequest) -> AppResult<ChatPreview> {
    chat::build(
        &state.config.endpoints,
        &request,
        Some(&state.chat.catalog()),
    )
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
}

/// Starts a streamed call and returns its id at once; the answer comes over `on_event`. The
/// user's message is saved before the request goes out, the answer while it streams.
#[tauri::command]
pub async fn chat_start(
    state: State<'_, AppState>,
    conversation_id: Option<String>,
    pane: Option<u32>,
    request: ChatRequest,
    on_event: Channel<ChatEvent>,
) -> AppResult<ChatStarted> {
    let catalog = state.chat.catalog();
    let routed = chat::build(&state.config.endpoints, &request, Some(&catalog))?;
    let resolver = Resolver {
        endpoints: state.config.endpoints.clone(),
        hf: state.hf.clone(),
        secrets: state.secrets.clone(),
        store: state.store.clone(),
        mappings: state.chat.mappings.clone(),
    };
    let mode = resolver.mode_of(&request);
    let hf_token = state.auth.token().map(|(t, _)| t);
    if mode == CallMode::Routed && hf_token.is_none() {
        return Err(AppError::new(
            ErrorCode::NotSignedIn,
            "Sign in with a Hugging Face token to send messages.",
        ));
    }
    let (saved, save_error) = match state.history.get() {
        Ok(h) => match h.begin_answer(&AnswerStart {
            conversation_id: conversation_id.as_deref(),
            request: &request,
            mode,
            pane: pane.unwrap_or(0),
            kind: if pane.is_some() { "compare" } else { "chat" },
        }) {
            Ok((conv, answer)) => (Some((h.clone(), conv, answer)), None),
            Err(e) => {
                log::error!("could not save the conversation: {e}");
                (None, Some(e))
            }
        },
        Err(e) => (None, Some(e)),
    };
    let conversation_id = saved.as_ref().map(|(_, c, _)| c.clone());
    let id = state.chat.next_call.fetch_add(1, Ordering::Relaxed);
    let cancel = CancellationToken::new();
    state.chat.calls().insert(id, cancel.clone());

    let ledger_ctx = LedgerContext {
        history: state.history.history(),
        store: state.store.clone(),
        period_end: state.auth.cached_account().and_then(|a| a.period_end),
        billing: match mode {
            CallMode::OwnKey => Billing::Provider,
            CallMode::Endpoint => Billing::Endpoint,
            CallMode::Routed if request.bill_to.is_some() => Billing::Org,
            CallMode::Routed => Billing::HfCredits,
        },
        kind: if pane.is_some() {
            CallKind::Compare
        } else {
            CallKind::Chat
        },
    };
    let http = state.hf.http().clone();
    let options = state.chat.options.clone();
    let chat_state = state.chat.clone();
    tauri::async_runtime::spawn(async move {
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
        let resolved = resolver.resolve(&request, routed, hf_token).await;
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
        let mut emit = |e: ChatEvent| {
            if let (
                ChatEvent::Delta {
                    content: c,
                    reasoning: r,
                },
                Some((h, _, answer)),
            ) = (&e, &saved)
            {
                content.push_str(c);
                reasoning.push_str(r);
                if last_save.elapsed() >= SAVE_EVERY {
                    last_save = Instant::now();
                    if let Err(err) = h.save_partial(*answer, &content, &reasoning) {
                        log::error!("could not save the partial answer: {err}");
                    }
                }
            }
            if let ChatEvent::Retrying {
                error, request_id, ..
            } = &e
            {
                retries.push((error.clone(), request_id.clone()));
            }
            // The window may be gone; the call still ends cleanly.
            let _ = on_event.send(e);
        };
        let result = match resolved {
            Ok(r) => {
                chat::run(
                    &http,
                    &r.preview,
                    &r.credential,
                    &ctx,
                    &options,
                    &cancel,
                    &mut emit,
                )
                .await
            }
            // Nothing was sent: the reason is the answer, saved like any failure.
            Err(e) => chat::stream::failed_before_sending(e, &mut emit),
        };
        if let Some((h, _, answer)) = &saved {
            if let Err(err) = h.finish_answer(*answer, &result) {
                log::error!("could not save the answer: {err}");
            }
        }
        record_call(
            &ledger_ctx,
            &request,
            &result,
            &retries,
            saved.as_ref().map(|(_, c, a)| (c.as_str(), *a)),
        );
        log::info!(
            "chat call {id}: {:?}, provider {:?}, {} tokens out, request id {:?}",
            result.outcome,
            result.stats.provider,
            result.stats.tokens_out,
            result.request_id
        );
        chat_state.calls().remove(&id);
    });
    Ok(ChatStarted {
        call_id: id,
        conversation_id,
        save_error,
    })
}

/// What the ledger needs to record a call from a background task.
struct LedgerContext {
    history: Option<Arc<crate::history::History>>,
    store: Arc<dyn crate::settings::Store>,
    period_end: Option<i64>,
    billing: Billing,
    kind: CallKind,
}

/// One ledger row per attempt (failed retried attempts, then the call itself); a 402 on HF
/// credits marks the month "used up".
fn record_call(
    ctx: &LedgerContext,
    request: &ChatRequest,
    result: &chat::stream::CallResult,
    retries: &[(AppError, Option<String>)],
    saved: Option<(&str, i64)>,
) {
    let now = crate::history::now_ms();
    if let Some(h) = &ctx.history {
        let bill_to = request.bill_to.as_deref();
        for (error, request_id) in retries {
            let row = CallRow {
                id: 0,
                at: now,
                kind: CallKind::Retry,
                model: Some(request.model.clone()),
                provider: request.routing.pinned().map(str::to_string),
                billing: ctx.billing,
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
            };
            if let Err(e) = h.record_call(&row) {
                log::error!("could not record a retried call: {e}");
            }
        }
        let row = CallRow::from_result(
            now,
            ctx.kind,
            &request.model,
            ctx.billing,
            bill_to,
            result,
            saved.map(|(c, _)| c),
            saved.map(|(_, m)| m),
        );
        if let Err(e) = h.record_call(&row) {
            log::error!("could not record the call in the ledger: {e}");
        }
    }
    let depleted = result
        .error
        .as_ref()
        .is_some_and(|e| e.code == ErrorCode::PaymentRequired);
    if depleted && ctx.billing == Billing::HfCredits {
        let mut s = CreditSettings::load(&*ctx.store);
        s.depleted_month = Some(billing_month(now, ctx.period_end).label());
        if let Err(e) = s.save(&*ctx.store) {
            log::error!("could not note the used-up credits: {e}");
        }
    }
}

/// Stops a call: its connection is dropped at once, the partial answer is kept.
#[tauri::command]
pub fn chat_stop(state: State<'_, AppState>, id: u64) {
    if let Some(cancel) = state.chat.calls().get(&id) {
        cancel.cancel();
    }
}

#[tauri::command]
pub fn get_playground(state: State<'_, AppState>) -> PlaygroundPrefs {
    PlaygroundPrefs::load(&*state.store)
}

#[tauri::command]
pub fn set_playground(state: State<'_, AppState>, prefs: PlaygroundPrefs) -> AppResult<()> {
    set_typed(&*state.store, KEY_PLAYGROUND, &prefs)
}
