//! The playground as the user left it, kept in the settings store.

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::call::{ChatParams, Routing};
use crate::error::AppResult;
use crate::settings::{get_typed, set_typed, Store};

pub const KEY_PLAYGROUND: &str = "playground";

/// The playground as the user left it: restored at the next start.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct PlaygroundPrefs {
    pub model: Option<String>,
    pub routing: Routing,
    pub system: String,
    pub params: ChatParams,
    /// Most recent first.
    pub recent_models: Vec<String>,
    /// Organisation billed with `X-HF-Bill-To`; `None` bills the user.
    pub bill_to: Option<String>,
}

impl PlaygroundPrefs {
    pub fn load(store: &dyn Store) -> Self {
        get_typed(store, KEY_PLAYGROUND).unwrap_or_default()
    }
}

impl PlaygroundPrefs {
    pub fn save(&self, store: &dyn Store) -> AppResult<()> {
        set_typed(store, KEY_PLAYGROUND, self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::MemoryStore;

    #[test]
    fn playground_prefs_survive_partial_values() {
        let store = MemoryStore::default();
        assert_eq!(PlaygroundPrefs::load(&store), PlaygroundPrefs::default());
        store
            .set(
                KEY_PLAYGROUND,
                serde_json::json!({"model": "a/b", "routing": {"kind": "pinned", "provider": "groq"}}),
            )
            .unwrap();
        let p = PlaygroundPrefs::load(&store);
        assert_eq!(p.model.as_deref(), Some("a/b"));
        assert_eq!(p.routing.pinned(), Some("groq"));
        assert!(p.recent_models.is_empty());
    }
}
