//! The settings file: [`FileStore`] (written atomically: temporary file, fsync, rename), so a
//! crash, a power cut or a full disk during a save never leaves it truncated.

use std::path::Path;
use std::sync::Arc;

use switchboard_core::settings::{FileStore, MemoryStore, Store};

/// Opens the settings file. A file that cannot be read (a hand edit, or one truncated by an
/// older version's plain writes) is moved aside, so the user's data is kept for inspection, and
/// a fresh one is started; if even that fails the app runs on settings in memory.
pub fn open(path: &Path) -> Arc<dyn Store> {
    match FileStore::open(path) {
        Ok(s) => return Arc::new(s),
        Err(e) => log::warn!("settings file unreadable, starting a new one: {e}"),
    }
    let aside = path.with_extension(format!(
        "json.unreadable-{}",
        switchboard_core::auth::now_unix()
    ));
    if let Err(e) = std::fs::rename(path, &aside) {
        log::warn!("could not move the unreadable settings aside: {e}");
    }
    match FileStore::open(path) {
        Ok(s) => Arc::new(s),
        Err(e) => {
            log::error!("settings kept in memory only: {e}");
            Arc::new(MemoryStore::default())
        }
    }
}
