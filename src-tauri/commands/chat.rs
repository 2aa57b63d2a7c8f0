//! Playground commands: the catalog, streamed chat calls (the answer comes over a Channel),
//! the playground's saved settings.

use std::sync::Arc;

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use switchboard_core::call::{ChatEvent, ChatRequest, RouteDecision, Routing, StoredImage};
use switchboard_core::catalog::Catalog;
use switchboard_core::chat::{ChatPreview, PlaygroundPrefs};
use switchboard_core::error::AppResult;
use switchboard_core::service::chat::ChatStarted;
use switchboard_core::service::Services;

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RefreshArgs {
    /// Download even when the cached catalog is fresh.
    pub force: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatStartArgs {
    /// The conversation to continue; `null` starts a new one.
    pub conversation_id: Option<String>,
    /// A compare session's pane (the conversation is then saved as a compare session).
    pub pane: Option<u32>,
    pub request: ChatRequest,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RouteArgs {
    pub routing: Routing,
    /// The organisation the playground bills, if any.
    pub bill_to: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CallIdArgs {
    #[ts(type = "number")]
    pub id: u64,
}

#[tauri::command]
pub fn catalog_get(s: State<'_, Services>) -> Arc<Catalog> {
    s.catalog()
}

#[tauri::command]
pub async fn catalog_refresh(s: State<'_, Services>, args: RefreshArgs) -> AppResult<Arc<Catalog>> {
    s.catalog_refresh(args.force).await
}

#[tauri::command]
pub async fn chat_preview(s: State<'_, Services>, args: ChatRequest) -> AppResult<ChatPreview> {
    s.chat_preview(&args).await
}

/// Where a call would go and who would pay, to show before sending.
#[tauri::command]
pub fn chat_route(s: State<'_, Services>, args: RouteArgs) -> RouteDecision {
    s.chat_route(&args.routing, args.bill_to.as_deref())
}

/// Starts a call and answers at once; its events go to `on_event`. It runs until it ends or
/// `chat_stop` stops it, whatever the window shows meanwhile.
#[tauri::command]
pub async fn chat_start(
    s: State<'_, Services>,
    reconciler: State<'_, super::reconcile::Reconciler>,
    args: ChatStartArgs,
    on_event: Channel<ChatEvent>,
) -> AppResult<ChatStarted> {
    let reconciler = reconciler.inner().clone();
    let sink = Box::new(move |e: ChatEvent| {
        if matches!(e, ChatEvent::Finished { .. }) {
            // Its billed cost settles minutes later: the background reconciliation asks then.
            reconciler.call_finished();
        }
        // The window may be gone; the call still ends cleanly.
        let _ = on_event.send(e);
    });
    s.chat_start(args.conversation_id, args.pane, args.request, sink)
        .await
}

#[tauri::command]
pub fn chat_stop(s: State<'_, Services>, args: CallIdArgs) {
    s.chat_stop(args.id)
}

/// Tries again to save what a finished call could not (its `not_saved` event).
#[tauri::command]
pub async fn chat_save_retry(s: State<'_, Services>, args: CallIdArgs) -> AppResult<()> {
    s.chat_save_retry(args.id).await
}

/// A dropped or pasted picture to attach to a chat message.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AttachArgs {
    /// The picture as a `data:` URL; checked by its bytes (PNG, JPEG, WebP or GIF, 10 MB).
    pub data_url: String,
}

/// A picture to attach to a chat message, chosen in the system's file dialog, checked and
/// kept under its hash; `null` when the user cancels.
#[tauri::command]
pub async fn chat_attach_pick<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
) -> AppResult<Option<StoredImage>> {
    match super::dialog::open_image_path(&app).await {
        Some(path) => s.chat_attach_file(path).await.map(Some),
        None => Ok(None),
    }
}

/// A dropped or pasted picture, checked and kept under its hash.
#[tauri::command]
pub async fn chat_attach_data(s: State<'_, Services>, args: AttachArgs) -> AppResult<StoredImage> {
    s.chat_attach_data(args.data_url).await
}

#[tauri::command]
pub fn get_playground(s: State<'_, Services>) -> PlaygroundPrefs {
    s.playground()
}

/// Called on every parameter change: the settings file is written on a blocking thread, never
/// on the UI thread.
#[tauri::command]
pub async fn set_playground<R: Runtime>(app: AppHandle<R>, args: PlaygroundPrefs) -> AppResult<()> {
    super::blocking(app, move |s| s.set_playground(&args)).await
}
