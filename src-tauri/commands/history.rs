//! History commands: list, open, search, rename, pin, trash, export and import.

use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::blocking;
use super::dialog::{open_path, save_path};
use switchboard_core::error::AppResult;
use switchboard_core::history::{
    Conversation, ConversationSummary, ImportReport, ListCursor, SearchHit, SearchQuery,
};
use switchboard_core::service::history::{write_file, ExportFormat, HistoryFacets, HistoryStatus};
use switchboard_core::service::Services;

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct IdArgs {
    pub id: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ListArgs {
    /// The trash instead of the conversations.
    pub trash: bool,
    /// The next page starts after this row (none: the first page).
    #[serde(default)]
    pub after: Option<ListCursor>,
    /// At most this many rows (none: all of them).
    #[serde(default)]
    pub limit: Option<u32>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RenameArgs {
    pub id: String,
    pub title: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct PinArgs {
    pub id: String,
    pub pinned: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ExportArgs {
    pub id: String,
    pub format: ExportFormat,
}

/// Async: it may wait for the history to finish opening, which must not block the UI thread.
#[tauri::command]
pub async fn history_status(s: State<'_, Services>) -> AppResult<HistoryStatus> {
    Ok(s.history_status().await)
}

#[tauri::command]
pub async fn history_list(
    s: State<'_, Services>,
    args: ListArgs,
) -> AppResult<Vec<ConversationSummary>> {
    s.history_blocking(move |h| h.list_page(args.trash, args.after.as_ref(), args.limit))
        .await
}

#[tauri::command]
pub async fn history_get(s: State<'_, Services>, args: IdArgs) -> AppResult<Conversation> {
    s.history_blocking(move |h| h.get(&args.id)).await
}

#[tauri::command]
pub async fn history_search(
    s: State<'_, Services>,
    args: SearchQuery,
) -> AppResult<Vec<SearchHit>> {
    s.history_blocking(move |h| h.search(&args)).await
}

#[tauri::command]
pub async fn history_facets<R: Runtime>(app: AppHandle<R>) -> AppResult<HistoryFacets> {
    blocking(app, |s| s.history_facets()).await
}

#[tauri::command]
pub async fn history_rename(s: State<'_, Services>, args: RenameArgs) -> AppResult<()> {
    s.history_blocking(move |h| h.rename(&args.id, &args.title))
        .await
}

#[tauri::command]
pub async fn history_pin(s: State<'_, Services>, args: PinArgs) -> AppResult<()> {
    s.history_blocking(move |h| h.set_pinned(&args.id, args.pinned))
        .await
}

#[tauri::command]
pub async fn history_trash(s: State<'_, Services>, args: IdArgs) -> AppResult<()> {
    s.history_blocking(move |h| h.trash(&args.id)).await
}

#[tauri::command]
pub async fn history_restore(s: State<'_, Services>, args: IdArgs) -> AppResult<()> {
    s.history_blocking(move |h| h.restore(&args.id)).await
}

#[tauri::command]
pub async fn history_delete(s: State<'_, Services>, args: IdArgs) -> AppResult<()> {
    s.history_delete_forever(args.id).await
}

/// Exports one conversation; returns where it was written, or `None` if the user cancelled.
#[tauri::command]
pub async fn history_export<R: Runtime>(
    app: AppHandle<R>,
    args: ExportArgs,
) -> AppResult<Option<String>> {
    let export = blocking(app.clone(), move |s| {
        s.history_export_text(&args.id, args.format)
    })
    .await?;
    let Some(path) = save_path(&app, export.file_name, export.filter).await else {
        return Ok(None);
    };
    let to = path.clone();
    blocking(app, move |_| write_file(&to, &export.text)).await?;
    Ok(Some(path.display().to_string()))
}

/// Exports everything as one JSON backup.
#[tauri::command]
pub async fn history_export_all<R: Runtime>(app: AppHandle<R>) -> AppResult<Option<String>> {
    let text = blocking(app.clone(), |s| s.history_export_all_text()).await?;
    let Some(path) = save_path(&app, "switchboard-history.json".into(), ("JSON", "json")).await
    else {
        return Ok(None);
    };
    let to = path.clone();
    blocking(app, move |_| write_file(&to, &text)).await?;
    Ok(Some(path.display().to_string()))
}

/// Imports an export file (one conversation or a full backup); duplicates are skipped.
#[tauri::command]
pub async fn history_import<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
) -> AppResult<Option<ImportReport>> {
    s.history.wait().await?;
    let Some(path) = open_path(&app).await else {
        return Ok(None);
    };
    s.history_import_file(&path).await.map(Some)
}
