//! Files are chosen with the system's dialogs, from Rust: the web view never names a path.

use std::ffi::OsString;
use std::path::PathBuf;

use tauri::{AppHandle, Runtime};
use tauri_plugin_dialog::DialogExt;

/// Tests cannot drive native dialogs: when set, every save/open dialog answers this path. Read
/// only by a build with the `e2e-hooks` feature ([`crate::HOOKS`]); otherwise every dialog is a
/// real one.
pub const ENV_DIALOG_FILE: &str = "SWITCHBOARD_E2E_DIALOG_FILE";

fn test_override() -> Option<PathBuf> {
    override_from(|| std::env::var_os(ENV_DIALOG_FILE))
}

/// The dialogs' answer from the test hook: the path that `read` gives (the value of
/// [`ENV_DIALOG_FILE`]) in a build with the hooks; never otherwise, without even reading it.
fn override_from(read: impl FnOnce() -> Option<OsString>) -> Option<PathBuf> {
    if !crate::HOOKS {
        return None;
    }
    read().map(PathBuf::from)
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
    pick_file(app, "Switchboard export", &["json"]).await
}

/// Asks for a picture to start from (or the test override); `None` when the user cancels.
pub async fn open_image_path<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    pick_file(app, "Pictures", &["png", "jpg", "jpeg", "webp", "gif"]).await
}

/// Asks for an audio file to transcribe (or the test override); `None` when the user cancels.
/// The filter only helps the eye: the file is checked by its content.
pub async fn open_audio_path<R: Runtime>(app: &AppHandle<R>) -> Option<PathBuf> {
    pick_file(
        app,
        "Audio",
        &[
            "wav", "flac", "mp3", "ogg", "oga", "opus", "m4a", "mp4", "aac", "webm",
        ],
    )
    .await
}

/// The system's open dialog with one filter (or the test override), off the main thread;
/// `None` when the user cancels.
async fn pick_file<R: Runtime>(
    app: &AppHandle<R>,
    filter: &'static str,
    extensions: &'static [&'static str],
) -> Option<PathBuf> {
    if let Some(p) = test_override() {
        return Some(p);
    }
    let app = app.clone();
    tauri::async_runtime::spawn_blocking(move || {
        app.dialog()
            .file()
            .add_filter(filter, extensions)
            .blocking_pick_file()
            .and_then(|p| p.into_path().ok())
    })
    .await
    .ok()
    .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each build checks its own side: `cargo test` without the feature (no override), `make
    /// test` with it (the override answers).
    #[test]
    fn only_a_build_with_the_hooks_answers_dialogs_from_the_environment() {
        let mut read = false;
        let answer = override_from(|| {
            read = true;
            Some("/tmp/export.json".into())
        });
        if cfg!(feature = "e2e-hooks") {
            assert_eq!(answer, Some(PathBuf::from("/tmp/export.json")));
            assert!(read);
        } else {
            assert_eq!(
                answer, None,
                "a build without e2e-hooks must show real dialogs"
            );
            assert!(
                !read,
                "a build without e2e-hooks must not read the override"
            );
        }
        assert_eq!(override_from(|| None), None);
    }
}
