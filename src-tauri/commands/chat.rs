//! IPC for the playground: the model catalog, streamed chat calls (started, stopped) and the
//! playground's saved settings. Each command only translates; the work is in `catalog` and `chat`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use tauri::ipc::Channel;
use tauri::State;
use tokio_util::sync::CancellationToken;

use super::AppState;
use crate::auth::now_unix;
use crate::catalog::{self, Catalog};
use crate::chat::stream::CallContext;
use crate::chat::{self, CallOptions, ChatEvent, ChatPreview, ChatRequest};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::settings::{set_typed, PlaygroundPrefs, KEY_PLAYGROUND};

/// The playground's share of the app state.
pub struct ChatState {
    catalog: RwLock<Arc<Catalog>>,
    catalog_path: std::path::PathBuf,
    /// Only one download of the catalog at a time.
    refreshing: tokio::sync::Mutex<()>,
    calls: Mutex<HashMap<u64, CancellationToken>>,
    next_call: AtomicU64,
    options: CallOptions,
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
    state.chat.catalog()
}

/// Downloads the catalog when the cached one is stale, or always with `force`.
#[tauri::command]
pub async fn catalog_refresh(state: State<'_, AppState>, force: bool) -> AppResult<Arc<Catalog>> {
    let chat = &state.chat;
    let _one_at_a_time = chat.refreshing.lock().await;
    let current = chat.catalog();
    let now = now_unix().max(0) as u64;
    if !force && !current.is_stale(now) {
        return Ok(current);
    }
    let fresh = Arc::new(catalog::fetch(&state.hf, now).await?);
    if let Err(e) = fresh.save(&chat.catalog_path) {
        log::warn!("could not cache the catalog: {e}");
    }
    *chat.catalog.write().unwrap_or_else(|e| e.into_inner()) = fresh.clone();
    log::info!("catalog refreshed: {} models", fresh.models.len());
    Ok(fresh)
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

/// Starts a streamed call and returns its id at once; the answer comes over `on_event`.
#[tauri::command]
pub fn chat_start(
    state: State<'_, AppState>,
    request: ChatRequest,
    on_event: Channel<ChatEvent>,
) -> AppResult<u64> {
    let catalog = state.chat.catalog();
    let preview = chat::build(&state.config.endpoints, &request, Some(&catalog))?;
    let Some((token, _)) = state.auth.token() else {
        return Err(AppError::new(
            ErrorCode::NotSignedIn,
            "Sign in with a Hugging Face token to send messages.",
        ));
    };
    let id = state.chat.next_call.fetch_add(1, Ordering::Relaxed);
    let cancel = CancellationToken::new();
    state.chat.calls().insert(id, cancel.clone());

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
        let ctx = CallContext {
            who: "Hugging Face",
            pinned: request.routing.pinned(),
            price: &price,
            prompt_chars,
            message_count: request.messages.len() + usize::from(!request.system.is_empty()),
        };
        let mut emit = |e: ChatEvent| {
            // The window may be gone; the call still ends cleanly.
            let _ = on_event.send(e);
        };
        let result = chat::run(&http, &preview, &token, &ctx, &options, &cancel, &mut emit).await;
        log::info!(
            "chat call {id}: {:?}, provider {:?}, {} tokens out, request id {:?}",
            result.outcome,
            result.stats.provider,
            result.stats.tokens_out,
            result.request_id
        );
        chat_state.calls().remove(&id);
    });
    Ok(id)
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
