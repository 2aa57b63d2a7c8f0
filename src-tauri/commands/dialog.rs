//! Files are chosen with the system's dialogs, from Rust: the web view never names a path.

use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

/// Tests cannot drive native dialogs: when set, every save/open dialog answers this path.
pub const ENV_DIALOG_FILE: &str = "SWITCHBOARD_E2E_DIALOG_FILE";

fn test_override() -> Option<PathBuf> {
    std::env::var(ENV_DIALOG_FILE).ok().map(PathBuf::from)
}

/// Asks where to save (or the test override); `None` when the user cancels.
pub async fn save_path<R: Runtime>(
    app: &AppHandle<R>,
    name: String,
    filter: (&'static str, &'static str),
) -> Option<PathBuf> {
    if let Some(p) = test_override() {
        return Some(p);
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

/// Asks which export file to open (or the test override); `None` when the user cancels.
pub async fn open_path<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    if let Some(p) = test_override() {
        return Some(p);
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
