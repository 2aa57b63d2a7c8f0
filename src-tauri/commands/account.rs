//! Account commands: app info, signing in and out, the CLI token, theme, opening known pages.

use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use switchboard_core::auth::{AuthStatus, CliTokenSource};
use switchboard_core::error::{AppError, AppResult, ErrorCode};
use switchboard_core::links::Link;
use switchboard_core::service::account::AppInfo;
use switchboard_core::service::Services;
use switchboard_core::settings::{Settings, Theme};

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SignInArgs {
    pub token: String,
    /// Keep the token for this session only, not in the keyring.
    pub session_only: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SessionOnlyArgs {
    pub session_only: bool,
}

#[tauri::command]
pub fn app_info(s: State<'_, Services>) -> AppInfo {
    s.app_info(env!("CARGO_PKG_VERSION"))
}

#[tauri::command]
pub async fn auth_status(s: State<'_, Services>) -> AppResult<AuthStatus> {
    super::perf::mark("auth_asked");
    let status = s.auth.status().await;
    super::perf::mark("auth_answered");
    Ok(status)
}

#[tauri::command]
pub async fn sign_in(s: State<'_, Services>, args: SignInArgs) -> AppResult<AuthStatus> {
    s.sign_in(args.token, args.session_only).await
}

#[tauri::command]
pub async fn sign_out(s: State<'_, Services>) -> AppResult<AuthStatus> {
    s.sign_out().await
}

#[tauri::command]
pub async fn refresh_account(s: State<'_, Services>) -> AppResult<AuthStatus> {
    s.auth.refresh().await
}

#[tauri::command]
pub fn cli_token_source(s: State<'_, Services>) -> Option<CliTokenSource> {
    s.cli_token_source()
}

#[tauri::command]
pub async fn import_cli_token(
    s: State<'_, Services>,
    args: SessionOnlyArgs,
) -> AppResult<AuthStatus> {
    s.import_cli_token(args.session_only).await
}

#[tauri::command]
pub fn get_settings(s: State<'_, Services>) -> Settings {
    s.settings()
}

/// The settings file is written on a blocking thread, never on the UI thread.
#[tauri::command]
pub async fn set_theme<R: tauri::Runtime>(
    app: tauri::AppHandle<R>,
    args: Theme,
) -> AppResult<Settings> {
    super::blocking(app, move |s| s.set_theme(args)).await
}

/// Opens one of the app's known pages in the system browser. The web view cannot name an
/// arbitrary URL: it names a [`Link`], resolved here against the configured Hub.
#[tauri::command]
pub fn open_external<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: Link,
) -> AppResult<()> {
    let url = args.url(&s.config.endpoints);
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        AppError::new(
            ErrorCode::ForbiddenUrl,
            format!("Could not open the browser: {e}"),
        )
    })
}

#[derive(Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct UrlArgs {
    pub url: String,
}

/// Opens a link from an answer in the system browser, after the user confirmed its host in the
/// window. Only http(s) addresses are opened ([`switchboard_core::links::web_url`]).
#[tauri::command]
pub fn open_url<R: Runtime>(app: AppHandle<R>, args: UrlArgs) -> AppResult<()> {
    let url = switchboard_core::links::web_url(&args.url)?;
    app.opener().open_url(url, None::<&str>).map_err(|e| {
        AppError::new(
            ErrorCode::ForbiddenUrl,
            format!("Could not open the browser: {e}"),
        )
    })
}
