//! IPC for the offline history: list, open, search, rename, pin, trash, export and import.
//! Files are chosen with the system's dialogs, from Rust: the web view never names a path.

use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex};

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
/// It is opened on a thread of its own at start-up, so a large database never delays the
/// window; commands that need it wait for the opening to finish.
pub struct HistoryState {
    slot: Arc<(Mutex<Option<Opened>>, Condvar)>,
    pub path: PathBuf,
}

type Opened = Result<Arc<History>, AppError>;

impl HistoryState {
    pub fn open(path: PathBuf) -> Self {
        let slot: Arc<(Mutex<Option<Opened>>, Condvar)> = Arc::default();
        let (s, p) = (slot.clone(), path.clone());
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let opened = History::open(&p).map(Arc::new);
            match &opened {
                Ok(_) => log::info!("history opened in {:?}", started.elapsed()),
                Err(e) => log::error!("history unavailable: {e}"),
            }
            let (lock, ready) = &*s;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(opened);
            ready.notify_all();
        });
        Self { slot, path }
    }

    fn opened(&self) -> Opened {
        let (lock, ready) = &*self.slot;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        while g.is_none() {
            g = ready.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.clone().expect("set above")
    }

    /// The history, waiting for it to be opened; the reason when it could not be.
    pub fn get(&self) -> AppResult<Arc<History>> {
        self.opened()
    }

    pub fn history(&self) -> Option<Arc<History>> {
        self.opened().ok()
    }
}

/// Async: it may wait for the history to finish opening, which must not block the UI thread.
#[tauri::command]
pub async fn history_status(state: State<'_, AppState>) -> Result<HistoryStatus, AppError> {
    let opened = state.history.get();
    Ok(HistoryStatus {
        available: opened.is_ok(),
        read_only: opened.as_ref().is_ok_and(|x| x.is_read_only()),
        error: opened.err(),
        path: state.history.path.display().to_string(),
    })
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
    let history = state.history.get()?;
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
    let history = state.history.get()?;
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
    let history = state.history.get()?;
    let Some(path) = open_path(&app).await else {
        return Ok(None);
    };
    let bytes = std::fs::read(&path).map_err(|e| AppError::io("read the file", &e))?;
    let file = export::from_json(&bytes)?;
    Ok(Some(history.import(&file.conversations)?))
}
