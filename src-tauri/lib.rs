//! Switchboard: a desktop playground for Hugging Face Inference Providers.
//!
//! This crate is the Tauri glue only: the window, the plugins, and [`commands`], each a forward
//! of a few lines to `switchboard_core`, where the whole domain lives (tested without Tauri).

pub mod commands;

/// Whether this build has the test hooks (the `e2e-hooks` feature, off in what users get): file
/// dialogs answered by `$SWITCHBOARD_E2E_DIALOG_FILE` ([`commands`]' dialogs) and the first-paint
/// report printed with `$SWITCHBOARD_REPORT_FIRST_PAINT=1` ([`commands::perf`]).
pub const HOOKS: bool = cfg!(feature = "e2e-hooks");

use switchboard_core::config;

use tauri::Manager;
use tauri_plugin_log::{Target, TargetKind};

fn log_plugin<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    // Logs go to the data folder's `logs/` when it is overridden (tests look there), else to
    // the OS log folder. Nothing secret is ever logged.
    let file = match std::env::var(config::ENV_DATA_DIR) {
        Ok(dir) if !dir.trim().is_empty() => Target::new(TargetKind::Folder {
            path: std::path::Path::new(&dir).join("logs"),
            file_name: Some("switchboard".into()),
        }),
        _ => Target::new(TargetKind::LogDir {
            file_name: Some("switchboard".into()),
        }),
    };
    tauri_plugin_log::Builder::new()
        .clear_targets()
        .target(file)
        .target(Target::new(TargetKind::Stderr))
        .level(log::LevelFilter::Info)
        .level_for("hyper", log::LevelFilter::Warn)
        .level_for("reqwest", log::LevelFilter::Warn)
        .build()
}

/// The window opens at 1280x800; on a smaller screen it shrinks to the screen (down to its
/// 900x600 minimum) and stays centred, instead of spilling over the edges.
fn fit_to_screen<R: tauri::Runtime>(window: &tauri::WebviewWindow<R>) {
    let monitor = match window.current_monitor() {
        Ok(Some(m)) => Some(m),
        _ => window.primary_monitor().ok().flatten(),
    };
    let (Some(monitor), Ok(size)) = (monitor, window.outer_size()) else {
        return;
    };
    let screen = monitor.size();
    if size.width > screen.width || size.height > screen.height {
        let fitted =
            tauri::PhysicalSize::new(size.width.min(screen.width), size.height.min(screen.height));
        let _ = window.set_size(fitted);
        // Centre from the new size: `center()` would still see the old one.
        let origin = monitor.position();
        let _ = window.set_position(tauri::PhysicalPosition::new(
            origin.x + ((screen.width - fitted.width) / 2) as i32,
            origin.y + ((screen.height - fitted.height) / 2) as i32,
        ));
    }
}

/// The name under which the running instance is found (a D-Bus name on Linux): the app's
/// identifier, or, when the data folder is overridden, one name per data folder, so two
/// instances never share one folder and instances on different folders may run side by side.
fn instance_id(identifier: &str) -> String {
    match std::env::var(config::ENV_DATA_DIR) {
        Ok(dir) if !dir.trim().is_empty() => {
            let path = std::path::absolute(dir.trim()).unwrap_or_else(|_| dir.trim().into());
            // FNV-1a: stable across runs and builds (std's hasher is not).
            let hash = path
                .as_os_str()
                .as_encoded_bytes()
                .iter()
                .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
                    (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
                });
            format!("{identifier}.d{hash:016x}")
        }
        _ => identifier.to_string(),
    }
}

/// One instance per data folder: two would mark each other's live answers "interrupted" and
/// overwrite each other's settings. A second launch focuses the running window and exits before
/// it opens a window or touches the data folder (this plugin is registered first).
fn single_instance<R: tauri::Runtime>(identifier: &str) -> tauri::plugin::TauriPlugin<R> {
    tauri_plugin_single_instance::Builder::new()
        .dbus_id(instance_id(identifier))
        .callback(|app, _argv, _cwd| {
            log::info!("a second launch: showing this window instead");
            if let Some(window) = app.get_webview_window("main") {
                let _ = window.unminimize();
                let _ = window.show();
                let _ = window.set_focus();
            }
        })
        .build()
}

/// Whether the app's window may show `url`: only the app's own pages (and, in `make dev`, Vite's
/// dev server). A link in an answer opens in the system browser after a confirmation
/// ([`commands::account::open_url`]); nothing navigates the window away from the app.
fn own_page(url: &tauri::Url, dev_url: Option<&tauri::Url>) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" if url.host_str() == Some("tauri.localhost") => true,
        "about" => url.as_str() == "about:blank",
        _ => dev_url.is_some_and(|d| d.origin() == url.origin()),
    }
}

fn navigation_guard<R: tauri::Runtime>() -> tauri::plugin::TauriPlugin<R> {
    tauri::plugin::Builder::new("navigation-guard")
        .on_navigation(|webview, url| {
            let dev_url = if tauri::is_dev() {
                webview.app_handle().config().build.dev_url.clone()
            } else {
                None
            };
            let allowed = own_page(url, dev_url.as_ref());
            if !allowed {
                // The scheme and host only: a query could carry anything.
                log::warn!(
                    "blocked the window from leaving the app for {}://{}",
                    url.scheme(),
                    url.host_str().unwrap_or("")
                );
            }
            allowed
        })
        .build()
}

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    commands::perf::mark_start();
    let context = tauri::generate_context!();
    let identifier = context.config().identifier.clone();
    let app = tauri::Builder::default()
        .plugin(single_instance(&identifier))
        .plugin(log_plugin())
        .plugin(navigation_guard())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .plugin(tauri_plugin_clipboard_manager::init())
        .setup(|app| {
            // Tauri has created the window and its webview from the config by now.
            commands::perf::mark("setup");
            let state = commands::init(app.handle())?;
            app.manage(state);
            // Billed costs in the background, on the async runtime: returns at once.
            commands::reconcile::start(app.handle());
            // Image jobs the app was waiting on when it ended: polled again, in the background.
            commands::images::resume(app.handle());
            // Speech runs likewise (fal queue jobs, Replicate predictions).
            commands::speech::resume(app.handle());
            commands::perf::mark("state");
            if let Some(window) = app.get_webview_window("main") {
                fit_to_screen(&window);
            }
            commands::perf::mark("window");
            Ok(())
        })
        .on_page_load(|_, payload| {
            commands::perf::mark(match payload.event() {
                tauri::webview::PageLoadEvent::Started => "page_started",
                tauri::webview::PageLoadEvent::Finished => "page_loaded",
            })
        })
        .invoke_handler(commands::handler())
        .build(context)
        .expect("error while starting Switchboard");
    commands::perf::mark("built");
    app.run(|_, _| {});
}

#[cfg(test)]
mod tests {
    use super::own_page;

    #[test]
    fn the_window_stays_on_the_apps_own_pages() {
        let url = |s: &str| tauri::Url::parse(s).unwrap();
        for ok in [
            "tauri://localhost/",
            "tauri://localhost/index.html#x",
            "http://tauri.localhost/",
            "about:blank",
        ] {
            assert!(own_page(&url(ok), None), "{ok}");
        }
        for away in [
            "https://example.com/",
            "http://localhost:5173/",
            "file:///etc/passwd",
            "tauri://evil.com/",
            "https://tauri.localhost.evil.com/",
        ] {
            assert!(!own_page(&url(away), None), "{away}");
        }
        let dev = url("http://localhost:5173");
        assert!(own_page(
            &url("http://localhost:5173/src/main.ts"),
            Some(&dev)
        ));
        assert!(!own_page(&url("http://localhost:5174/"), Some(&dev)));
    }
}
