//! Non-secret preferences and caches. The app keeps them in tauri-plugin-store (a JSON file in
//! the data folder); this module only sees the [`Store`] trait, so it is tested without Tauri.
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

#[cfg(test)]
mod tests {
    use super::*;

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
