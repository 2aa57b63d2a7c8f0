//! Provider commands: routed or own key per provider, keys (the UI only ever learns "set, ends
//! in abcd"), key tests, custom OpenAI-compatible endpoints.

use serde::Deserialize;
use tauri::State;
use ts_rs::TS;

use switchboard_core::error::AppResult;
use switchboard_core::providers::ProviderMode;
use switchboard_core::service::providers::{ProviderSettings, TestResult};
use switchboard_core::service::Services;

use super::history::IdArgs;

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct NameArgs {
    pub name: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProvidersGetArgs {
    /// `false` leaves out which keys are set (the playground only needs the choices).
    pub with_keys: bool,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderSetArgs {
    pub name: String,
    pub enabled: bool,
    pub mode: ProviderMode,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderKeyArgs {
    pub name: String,
    pub key: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EndpointAddArgs {
    pub name: String,
    pub base_url: String,
    pub key: Option<String>,
    /// The user chose to send to a plain-http public address without encryption.
    #[serde(default)]
    #[ts(optional)]
    pub allow_plain_http: Option<bool>,
}

#[tauri::command]
pub async fn providers_get(
    s: State<'_, Services>,
    args: ProvidersGetArgs,
) -> AppResult<ProviderSettings> {
    s.providers_get(Some(args.with_keys)).await
}

#[tauri::command]
pub async fn provider_set(
    s: State<'_, Services>,
    args: ProviderSetArgs,
) -> AppResult<ProviderSettings> {
    s.provider_set(args.name, args.enabled, args.mode).await
}

#[tauri::command]
pub async fn provider_key_set(
    s: State<'_, Services>,
    args: ProviderKeyArgs,
) -> AppResult<ProviderSettings> {
    s.provider_key_set(args.name, args.key).await
}

#[tauri::command]
pub async fn provider_key_remove(
    s: State<'_, Services>,
    args: NameArgs,
) -> AppResult<ProviderSettings> {
    s.provider_key_remove(args.name).await
}

#[tauri::command]
pub async fn provider_key_test(s: State<'_, Services>, args: NameArgs) -> AppResult<TestResult> {
    s.provider_key_test(args.name).await
}

#[tauri::command]
pub async fn endpoint_add(
    s: State<'_, Services>,
    args: EndpointAddArgs,
) -> AppResult<ProviderSettings> {
    s.endpoint_add(
        args.name,
        args.base_url,
        args.key,
        args.allow_plain_http.unwrap_or(false),
    )
    .await
}

#[tauri::command]
pub async fn endpoint_remove(s: State<'_, Services>, args: IdArgs) -> AppResult<ProviderSettings> {
    s.endpoint_remove(args.id).await
}

#[tauri::command]
pub async fn endpoint_test(s: State<'_, Services>, args: IdArgs) -> AppResult<TestResult> {
    s.endpoint_test(args.id).await
}
