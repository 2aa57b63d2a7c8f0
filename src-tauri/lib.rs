//! Switchboard: a desktop playground for Hugging Face Inference Providers.
//!
//! Two layers. Domain modules know nothing of Tauri and are unit-tested directly:
//! [`config`], [`error`], [`secrets`], [`settings`], [`hf`], [`auth`], [`links`].
//! [`commands`] is the thin IPC layer over them.

pub mod auth;
pub mod billing;
pub mod catalog;
pub mod chat;
pub mod commands;
pub mod config;
pub mod error;
pub mod hf;
pub mod history;
pub mod links;
pub mod providers;
pub mod routing;
pub mod secrets;
pub mod settings;

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

#[cfg_attr(mobile, tauri::mobile_entry_point)]
pub fn run() {
    commands::perf::mark_start();
    let app = tauri::Builder::default()
        .plugin(log_plugin())
        .plugin(tauri_plugin_store::Builder::new().build())
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_dialog::init())
        .setup(|app| {
            // Tauri has created the window and its webview from the config by now.
            commands::perf::mark("setup");
            let state = commands::init(app.handle())?;
            app.manage(state);
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
        .invoke_handler(tauri::generate_handler![
            commands::app_info,
            commands::auth_status,
            commands::sign_in,
            commands::sign_out,
            commands::refresh_account,
            commands::cli_token_source,
            commands::import_cli_token,
            commands::get_settings,
            commands::set_theme,
            commands::open_external,
            commands::chat::catalog_get,
            commands::chat::catalog_refresh,
            commands::chat::chat_preview,
            commands::chat::chat_start,
            commands::chat::chat_stop,
            commands::chat::get_playground,
            commands::chat::set_playground,
            commands::history::history_status,
            commands::history::history_list,
            commands::history::history_get,
            commands::history::history_search,
            commands::history::history_facets,
            commands::history::history_rename,
            commands::history::history_pin,
            commands::history::history_trash,
            commands::history::history_restore,
            commands::history::history_delete,
            commands::history::history_export,
            commands::history::history_export_all,
            commands::history::history_import,
            commands::providers::providers_get,
            commands::providers::provider_set,
            commands::providers::provider_key_set,
            commands::providers::provider_key_remove,
            commands::providers::provider_key_test,
            commands::providers::endpoint_add,
            commands::providers::endpoint_remove,
            commands::providers::endpoint_test,
            commands::billing::billing_status,
            commands::billing::billing_calls,
            commands::billing::billing_totals,
            commands::billing::billing_rates,
            commands::billing::billing_averages,
            commands::billing::credits_get,
            commands::billing::credits_set,
            commands::billing::billing_export_csv,
            commands::perf::report_first_paint,
        ])
        .build(tauri::generate_context!())
        .expect("error while starting Switchboard");
    commands::perf::mark("built");
    app.run(|_, _| {});
}
