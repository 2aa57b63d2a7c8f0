//! [`Store`] on top of tauri-plugin-store.

use std::path::Path;
use std::sync::Arc;

use tauri::{AppHandle, Runtime};
use tauri_plugin_store::StoreExt;

use switchboard_core::error::{AppError, AppResult, ErrorCode};
use switchboard_core::settings::{MemoryStore, Store};

struct PluginStore<R: Runtime>(Arc<tauri_plugin_store::Store<R>>);

impl<R: Runtime> Store for PluginStore<R> {
    fn get(&self, key: &str) -> Option<serde_json::Value> {
        self.0.get(key)
    }

    fn set(&self, key: &str, value: serde_json::Value) -> AppResult<()> {
        self.0.set(key, value);
        self.save()
    }

    fn delete(&self, key: &str) -> AppResult<()> {
        self.0.delete(key);
        self.save()
    }
}

impl<R: Runtime> PluginStore<R> {
    fn save(&self) -> AppResult<()> {
        self.0
            .save()
            .map_err(|e| AppError::new(ErrorCode::Io, format!("Could not save the settings: {e}")))
    }
}

/// Opens the settings file. A file that cannot be read (corrupted by a crash or a hand edit) is
/// moved aside, so the user's data is kept for inspection, and a fresh one is started; if even
/// that fails the app runs on settings in memory.
pub fn open<R: Runtime>(app: &AppHandle<R>, path: &Path) -> Arc<dyn Store> {
    match app.store(path) {
        Ok(s) => return Arc::new(PluginStore(s)),
        Err(e) => log::warn!("settings file unreadable, starting a new one: {e}"),
    }
    let aside = path.with_extension(format!(
        "json.unreadable-{}",
        switchboard_core::auth::now_unix()
    ));
    if let Err(e) = std::fs::rename(path, &aside) {
        log::warn!("could not move the unreadable settings aside: {e}");
    }
    match app.store(path) {
        Ok(s) => Arc::new(PluginStore(s)),
        Err(e) => {
            log::error!("settings kept in memory only: {e}");
            Arc::new(MemoryStore::default())
        }
    }
}
