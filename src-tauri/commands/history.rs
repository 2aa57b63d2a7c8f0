//! IPC for the offline history: list, open, search, rename, pin, trash, export and import.
//! Files are chosen with the system's dialogs, from Rust: the web view never names a path.

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_dialog::DialogExt;
use ts_rs::TS;

use super::AppState;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::{
    export, now_ms, Conversation, ConversationSummary, History, ImportReport, SearchHit,
    SearchQuery,
};

/// Tests cannot drive native dialogs: when set, every save/open dialog answers this path.
pub const ENV_DIALOG_FILE: &str = "SWITCHBOARD_E2E_DIALOG_FILE";

/// Whether the history works, and if not, why.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HistoryStatus {
    pub available: bool,
    pub read_only: bool,
    pub error: Option<AppError>,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HistoryFacets {
    pub models: Vec<String>,
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExportFormat {
    Markdown,
    Json,
}

/// The history, or why it is missing (damaged, newer version…): the app runs on without it.
pub struct HistoryState {
    pub history: Option<Arc<History>>,
    pub error: Option<AppError>,
    pub path: PathBuf,
}

impl HistoryState {
    pub fn open(path: PathBuf) -> Self {
        match History::open(&path) {
            Ok(h) => Self {
                history: Some(Arc::new(h)),
                error: None,
                path,
            },
            Err(e) => {
                log::error!("history unavailable: {e}");
                Self {
                    history: None,
                    error: Some(e),
                    path,
                }
            }
        }
    }

    pub fn get(&self) -> AppResult<&Arc<History>> {
        self.history.as_ref().ok_or_else(|| {
            self.error.clone().unwrap_or_else(|| {
                AppError::new(
                    ErrorCode::HistoryUnavailable,
                    "The history is not available.",
                )
            })
        })
    }
}

#[tauri::command]
pub fn history_status(state: State<'_, AppState>) -> HistoryStatus {
    let h = &state.history;
    HistoryStatus {
        available: h.history.is_some(),
        read_only: h.history.as_ref().is_some_and(|x| x.is_read_only()),
        error: h.error.clone(),
        path: h.path.display().to_string(),
    }
}

#[tauri::command]
pub async fn history_list(
    state: State<'_, AppState>,
    trash: bool,
) -> AppResult<Vec<ConversationSummary>> {
    state.history.get()?.list(trash)
}

#[tauri::command]
pub async fn history_get(state: State<'_, AppState>, id: String) -> AppResult<Conversation> {
    state.history.get()?.get(&id)
}

#[tauri::command]
pub async fn history_search(
    state: State<'_, AppState>,
    query: SearchQuery,
) -> AppResult<Vec<SearchHit>> {
    state.history.get()?.search(&query)
}

#[tauri::command]
pub async fn history_facets(state: State<'_, AppState>) -> AppResult<HistoryFacets> {
    let (models, providers) = state.history.get()?.facets()?;
    Ok(HistoryFacets { models, providers })
}

#[tauri::command]
pub async fn history_rename(
    state: State<'_, AppState>,
    id: String,
    title: String,
) -> AppResult<()> {
    state.history.get()?.rename(&id, &title)
}

#[tauri::command]
pub async fn history_pin(state: State<'_, AppState>, id: String, pinned: bool) -> AppResult<()> {
    state.history.get()?.set_pinned(&id, pinned)
}

#[tauri::command]
pub async fn history_trash(state: State<'_, AppState>, id: String) -> AppResult<()> {
    state.history.get()?.trash(&id)
}

#[tauri::command]
pub async fn history_restore(state: State<'_, AppState>, id: String) -> AppResult<()> {
    state.history.get()?.restore(&id)
}

#[tauri::command]
pub async fn history_delete(state: State<'_, AppState>, id: String) -> AppResult<()> {
    state.history.get()?.delete_forever(&id)
}

/// Asks where to save (or the test override); `None` when the user cancels.
pub(super) async fn save_path<R: Runtime>(
    app: &AppHandle<R>,
    name: String,
    filter: (&'static str, &'static str),
) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(ENV_DIALOG_FILE) {
        return Some(PathBuf::from(p));
    }
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .set_file_name(name)
            .add_filter(filter.0, &[filter.1])
            .blocking_save_file()
            .and_then(|p| p.into_path().ok())
    })
    .await
    .ok()
    .flatten()
}

async fn open_path<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    if let Ok(p) = std::env::var(ENV_DIALOG_FILE) {
        return Some(PathBuf::from(p));
    }
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .add_filter("Switchboard export", &["json"])
            .blocking_pick_file()
            .and_then(|p| p.into_path().ok())
    })
    .await
    .ok()
    .flatten()
}

fn write_file(path: &std::path::Path, text: &str) -> AppResult<()> {
    std::fs::write(path, text).map_err(|e| {
        if e.raw_os_error() == Some(28) {
            AppError::new(
                ErrorCode::DiskFull,
                "The disk is full: the file was not written.",
            )
        } else {
            AppError::io("write the file", &e)
        }
    })
}

/// Exports one conversation; returns where it was written, or `None` if the user cancelled.
#[tauri::command]
pub async fn history_export<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    id: String,
    format: ExportFormat,
) -> AppResult<Option<String>> {
    let history = state.history.get()?.clone();
    let c = history.get(&id)?;
    let (text, name, filter) = match format {
        ExportFormat::Markdown => (
            export::to_markdown(&c),
            export::file_name(&c.summary.title, "md"),
            ("Markdown", "md"),
        ),
        ExportFormat::Json => (
            export::to_json(vec![c.clone()], now_ms()),
            export::file_name(&c.summary.title, "json"),
            ("JSON", "json"),
        ),
    };
    let Some(path) = save_path(&app, name, filter).await else {
        return Ok(None);
    };
    write_file(&path, &text)?;
    Ok(Some(path.display().to_string()))
}

/// Exports everything as one JSON backup.
#[tauri::command]
pub async fn history_export_all<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> AppResult<Option<String>> {
    let history = state.history.get()?.clone();
    let text = export::to_json(history.all()?, now_ms());
    let Some(path) = save_path(&app, "switchboard-history.json".into(), ("JSON", "json")).await
    else {
        return Ok(None);
    };
    write_file(&path, &text)?;
    Ok(Some(path.display().to_string()))
}

/// Imports an export file (one conversation or a full backup); duplicates are skipped.
#[tauri::command]
pub async fn history_import<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> AppResult<Option<ImportReport>> {
    let history = state.history.get()?.clone();
    let Some(path) = open_path(&app).await else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path).map_err(|e| AppError::io("read the file", &e))?;
    let file = export::from_json(&bytes)?;
    Ok(Some(history.import(&file.conversations)?))
}
