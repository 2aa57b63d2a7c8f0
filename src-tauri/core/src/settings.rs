//! Non-secret preferences and caches. The app keeps them in [`FileStore`] (a JSON file in the
//! data folder, written atomically); the rest of the core only sees the [`Store`] trait.
//! Secrets never go here: they live in [`crate::secrets`].

use std::collections::HashMap;
use std::sync::Mutex;

use serde::{de::DeserializeOwned, Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, AppResult};

/// A key-value store of JSON values that persists itself.
pub trait Store: Send + Sync {
    fn get(&self, key: &str) -> Option<serde_json::Value>;
    fn set(&self, key: &str, value: serde_json::Value) -> AppResult<()>;
    fn delete(&self, key: &str) -> AppResult<()>;
}

pub const KEY_THEME: &str = "theme";
pub const KEY_ACCOUNT: &str = "account";

/// Reads `key` as `T`; a value of the wrong shape (an older version, a hand edit) reads as absent.
pub fn get_typed<T: DeserializeOwned>(store: &dyn Store, key: &str) -> Option<T> {
    store.get(key).and_then(|v| serde_json::from_value(v).ok())
}

pub fn set_typed<T: Serialize>(store: &dyn Store, key: &str, value: &T) -> AppResult<()> {
    let v = serde_json::to_value(value)
        .map_err(|e| AppError::internal(format!("could not serialise {key}: {e}")))?;
    store.set(key, v)
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Theme {
    /// Follow the operating system.
    #[default]
    System,
    Light,
    Dark,
}

/// The preferences the UI reads at start-up.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Settings {
    pub theme: Theme,
}

impl Settings {
    pub fn load(store: &dyn Store) -> Self {
        Self {
            theme: get_typed(store, KEY_THEME).unwrap_or_default(),
        }
    }
}

/// A store in memory, for tests and as a stand-in when the settings file cannot be opened.
#[derive(Default)]
pub struct MemoryStore(Mutex<HashMap<String, serde_json::Value>>);

impl Store for MemoryStore {
    fn get(&self, key: &str) -> Option<serde_json::Value> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
    fn set(&self, key: &str, value: serde_json::Value) -> AppResult<()> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.into(), value);
        Ok(())
    }
    fn delete(&self, key: &str) -> AppResult<()> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).remove(key);
        Ok(())
    }
}

/// The settings file: a JSON object of keys to values, kept in memory and written whole on
/// every change, atomically (a temporary file, fsync, rename): a crash, a power cut or a full
/// disk during a save leaves the old settings or the new ones, never none. Blocking: write from
/// a blocking thread.
pub struct FileStore {
    path: std::path::PathBuf,
    values: Mutex<serde_json::Map<String, serde_json::Value>>,
}

impl FileStore {
    /// Opens the settings file at `path` (missing: empty). A file that cannot be read is an
    /// error; the caller decides what to do with it.
    pub fn open(path: &std::path::Path) -> AppResult<Self> {
        let values = match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
                AppError::new(
                    crate::error::ErrorCode::Io,
                    format!("The settings file is unreadable: {e}"),
                )
            })?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => serde_json::Map::new(),
            Err(e) => return Err(AppError::io("read the settings", &e)),
        };
        Ok(Self {
            path: path.to_path_buf(),
            values: Mutex::new(values),
        })
    }

    /// Applies `change` and writes the file; if the write fails the change is undone, so what
    /// the app reads stays what is on disk.
    fn change(
        &self,
        change: impl FnOnce(&mut serde_json::Map<String, serde_json::Value>),
    ) -> AppResult<()> {
        let mut values = self.values.lock().unwrap_or_else(|e| e.into_inner());
        let before = values.clone();
        change(&mut values);
        let bytes = serde_json::to_vec_pretty(&*values)
            .map_err(|e| AppError::internal(format!("could not serialise the settings: {e}")))?;
        if let Err(e) = write_atomic(&self.path, &bytes) {
            *values = before;
            return Err(e);
        }
        Ok(())
    }
}

impl Store for FileStore {
    fn get(&self, key: &str) -> Option<serde_json::Value> {
        self.values
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .cloned()
    }
    fn set(&self, key: &str, value: serde_json::Value) -> AppResult<()> {
        self.change(|v| {
            v.insert(key.into(), value);
        })
    }
    fn delete(&self, key: &str) -> AppResult<()> {
        self.change(|v| {
            v.remove(key);
        })
    }
}

/// Writes `bytes` to `path` so that a crash at any moment leaves the old file or the new one:
/// a temporary file beside it, fsynced, renamed over it, then the folder fsynced. A full disk
/// has its own code and leaves the old file as it was.
pub fn write_atomic(path: &std::path::Path, bytes: &[u8]) -> AppResult<()> {
    use std::io::Write;
    let fail = |e: std::io::Error| {
        if e.raw_os_error() == Some(28) {
            AppError::new(
                crate::error::ErrorCode::DiskFull,
                "The disk is full: the settings were not saved (the previous ones are kept).",
            )
        } else {
            AppError::io("save the settings", &e)
        }
    };
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("settings")
    ));
    let written = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(bytes).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(fail(e));
    }
    // The rename itself is durable once the folder is synced (where the OS allows it).
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_file_round_trips_and_a_failed_save_keeps_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("settings.json");
        let store = FileStore::open(&path).unwrap();
        set_typed(&store, KEY_THEME, &Theme::Dark).unwrap();
        let saved = std::fs::read(&path).unwrap();
        assert_eq!(
            Settings::load(&FileStore::open(&path).unwrap()).theme,
            Theme::Dark
        );
        // A save that cannot complete (here: its temporary file cannot be created) leaves the
        // file as it was, and what the app reads matches the file.
        std::fs::create_dir(dir.path().join(".settings.json.tmp")).unwrap();
        assert!(set_typed(&store, KEY_THEME, &Theme::Light).is_err());
        assert_eq!(std::fs::read(&path).unwrap(), saved);
        assert_eq!(Settings::load(&store).theme, Theme::Dark);
    }

    #[test]
    fn defaults_and_round_trip() {
        let store = MemoryStore::default();
        assert_eq!(Settings::load(&store).theme, Theme::System);
        set_typed(&store, KEY_THEME, &Theme::Dark).unwrap();
        assert_eq!(Settings::load(&store).theme, Theme::Dark);
    }

    #[test]
    fn a_bad_value_reads_as_default() {
        let store = MemoryStore::default();
        store.set(KEY_THEME, serde_json::json!("purple")).unwrap();
        assert_eq!(Settings::load(&store).theme, Theme::System);
    }
}
