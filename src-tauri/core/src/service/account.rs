//! The account and app-wide settings: app info, signing in and out, the `huggingface-cli`
//! token, the theme.

use serde::{Deserialize, Serialize};
use ts_rs::TS;
use zeroize::Zeroizing;

use super::Services;
use crate::auth::{find_cli_token, AuthStatus, CliTokenSource};
use crate::error::AppResult;
use crate::secrets::Storage;
use crate::settings::{set_typed, Settings, Theme, KEY_THEME};

#[derive(Debug, Clone, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AppInfo {
    pub version: String,
    pub data_dir: String,
    /// The app's process id (diagnostics; the crash-recovery test kills it by this id).
    pub pid: u32,
}

fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

/// Where a token is kept: the keyring, or this session's memory only.
pub fn storage_for(session_only: bool) -> Storage {
    if session_only {
        Storage::Session
    } else {
        Storage::Keyring
    }
}

impl Services {
    pub fn app_info(&self, version: &str) -> AppInfo {
        AppInfo {
            version: version.to_string(),
            data_dir: self.config.data_dir.display().to_string(),
            pid: std::process::id(),
        }
    }

    pub async fn sign_in(&self, token: String, session_only: bool) -> AppResult<AuthStatus> {
        let token = Zeroizing::new(token);
        self.auth.sign_in(&token, storage_for(session_only)).await
    }

    pub async fn sign_out(&self) -> AppResult<AuthStatus> {
        self.auth.sign_out()?;
        Ok(self.auth.status().await)
    }

    /// Where `huggingface-cli` keeps a token, if it does (the token itself is not read).
    pub fn cli_token_source(&self) -> Option<CliTokenSource> {
        find_cli_token(&env_var, &self.home).map(|(_, source)| source)
    }

    pub async fn import_cli_token(&self, session_only: bool) -> AppResult<AuthStatus> {
        self.auth
            .import_cli_token(&env_var, &self.home, storage_for(session_only))
            .await
    }

    pub fn settings(&self) -> Settings {
        Settings::load(&*self.store)
    }

    pub fn set_theme(&self, theme: Theme) -> AppResult<Settings> {
        set_typed(&*self.store, KEY_THEME, &theme)?;
        Ok(self.settings())
    }
}
