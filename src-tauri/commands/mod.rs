//! The IPC layer: each command translates between Tauri and the domain modules, nothing more.
//! Errors cross as [`AppError`] (`{code, message}`).

use std::path::PathBuf;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::auth::{find_cli_token, Auth, AuthStatus, CliTokenSource};
use crate::config::Config;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::HfClient;
use crate::links::Link;
use crate::secrets::{Secrets, Storage};
use crate::settings::{set_typed, Settings, Store, Theme, KEY_THEME};

pub mod billing;
pub mod chat;
pub mod history;
pub mod perf;
pub mod providers;
mod store;

pub struct AppState {
    config: Config,
    auth: Auth,
    hf: HfClient,
    store: Arc<dyn Store>,
    home: PathBuf,
    chat: Arc<chat::ChatState>,
    history: history::HistoryState,
    secrets: Arc<Secrets>,
}

/// Builds the app's state at start-up: configuration from the environment, the HTTP client,
/// the keyring and the settings store.
pub fn init<R: Runtime>(app: &AppHandle<R>) -> AppResult<AppState> {
    let default_data_dir = app
        .path()
        .app_data_dir()
        .map_err(|e| AppError::internal(format!("no data folder: {e}")))?;
    let config = Config::from_env(default_data_dir)?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| AppError::io("create the data folder", &e))?;
    let store = store::open(app, &config.data_dir.join("settings.json"));
    let hf = HfClient::new(config.endpoints.clone())?;
    let secrets = Arc::new(Secrets::os_keyring());
    let auth = Auth::new(hf.clone(), secrets.clone(), store.clone());
    let home = app.path().home_dir().unwrap_or_default();
    log::info!("data folder: {}", config.data_dir.display());
    let chat = Arc::new(chat::ChatState::new(
        &config.data_dir,
        config.chat_timeout_secs,
    ));
    let history = history::HistoryState::open(config.data_dir.join("history.sqlite3"));
    Ok(AppState {
        config,
        auth,
        hf,
        store,
        home,
        chat,
        history,
        secrets,
    })
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

fn storage_for(session_only: bool) -> Storage {
    if session_only {
        Storage::Session
    } else {
        Storage::Keyring
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    /// The app's process id (diagnostics; the crash-recovery test kills it by this id).
    pub pid: u32,
}

#[tauri::command]
pub fn app_info(state: State<'_, AppState>) -> AppInfo {
    AppInfo {
        version: env!("CARGO_PKG_VERSION").to_string(),
        data_dir: state.config.data_dir.display().to_string(),
        pid: std::process::id(),
    }
}

#[tauri::command]
pub async fn auth_status(state: State<'_, AppState>) -> AppResult<AuthStatus> {
    Ok(state.auth.status().await)
}

#[tauri::command]
pub async fn sign_in(
    state: State<'_, AppState>,
    token: String,
    session_only: bool,
) -> AppResult<AuthStatus> {
    let token = Zeroizing::new(token);
    state.auth.sign_in(&token, storage_for(session_only)).await
}

#[tauri::command]
pub async fn sign_out(state: State<'_, AppState>) -> AppResult<AuthStatus> {
    state.auth.sign_out()?;
    Ok(state.auth.status().await)
}

#[tauri::command]
pub async fn refresh_account(state: State<'_, AppState>) -> AppResult<AuthStatus> {
    state.auth.refresh().await
}

#[tauri::command]
pub fn cli_token_source(state: State<'_, AppState>) -> Option<CliTokenSource> {
    find_cli_token(&env_var, &state.home).map(|(_, source)| source)
}

#[tauri::command]
pub async fn import_cli_token(
    state: State<'_, AppState>,
    session_only: bool,
) -> AppResult<AuthStatus> {
    state
        .auth
        .import_cli_token(&env_var, &state.home, storage_for(session_only))
        .await
}

#[tauri::command]
pub fn get_settings(state: State<'_, AppState>) -> Settings {
    Settings::load(&*state.store)
}

#[tauri::command]
pub fn set_theme(state: State<'_, AppState>, theme: Theme) -> AppResult<Settings> {
    set_typed(&*state.store, KEY_THEME, &theme)?;
    Ok(Settings::load(&*state.store))
}

/// Opens one of the app's known pages in the system browser. The web view cannot name an
/// arbitrary URL: it names a [`Link`], resolved here against the configured Hub.
#[tauri::command]
pub fn open_external<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    link: Link,
) -> AppResult<()> {
    let url = link.url(&state.config.endpoints);
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        AppError::new(
            ErrorCode::ForbiddenUrl,
            format!("Could not open the browser: {e}"),
        )
    })
}
