//! Billing commands: the credits meter, the ledger table and its totals, rate limits, the
//! user's corrections, CSV export through the save dialog.

use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::blocking;
use super::dialog::save_path;
use switchboard_core::billing::{CreditSettings, CreditStatus};
use switchboard_core::error::{AppError, AppResult};
use switchboard_core::history::ledger::{CallPage, CallQuery, Totals};
use switchboard_core::history::sessions::{ConversationCost, ProviderAccuracy};
use switchboard_core::service::billing::RateInfo;
use switchboard_core::service::usage::{ReconcileReport, UsageReport};
use switchboard_core::service::Services;

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TotalsArgs {
    /// By UTC month or day, day and provider, model or provider.
    #[ts(type = "\"month\" | \"day\" | \"day_provider\" | \"model\" | \"provider\"")]
    pub group: String,
    /// Unix ms; `null` is open.
    #[ts(type = "number | null")]
    pub from: Option<i64>,
    #[ts(type = "number | null")]
    pub to: Option<i64>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct BilledArgs {
    pub conversation_id: String,
}

#[tauri::command]
pub async fn billing_status<R: Runtime>(app: AppHandle<R>) -> AppResult<CreditStatus> {
    blocking(app, |s| s.credit_status()).await
}

#[tauri::command]
pub async fn billing_calls<R: Runtime>(app: AppHandle<R>, args: CallQuery) -> AppResult<CallPage> {
    blocking(app, move |s| s.billing_calls(&args)).await
}

#[tauri::command]
pub async fn billing_totals<R: Runtime>(
    app: AppHandle<R>,
    args: TotalsArgs,
) -> AppResult<Vec<Totals>> {
    blocking(app, move |s| {
        s.billing_totals(&args.group, args.from, args.to)
    })
    .await
}

#[tauri::command]
pub async fn billing_rates<R: Runtime>(app: AppHandle<R>) -> AppResult<RateInfo> {
    blocking(app, |s| s.billing_rates()).await
}

#[tauri::command]
pub async fn billing_averages<R: Runtime>(app: AppHandle<R>) -> AppResult<Option<(f64, f64)>> {
    blocking(app, |s| s.billing_averages()).await
}

#[tauri::command]
pub fn credits_get(s: State<'_, Services>) -> CreditSettings {
    s.credits()
}

#[tauri::command]
pub async fn credits_set<R: Runtime>(
    app: AppHandle<R>,
    args: CreditSettings,
) -> AppResult<CreditStatus> {
    blocking(app, move |s| s.credits_set(args)).await
}

/// Writes the calls matching the query (all of them, not one page) as CSV.
#[tauri::command]
pub async fn billing_export_csv<R: Runtime>(
    app: AppHandle<R>,
    args: CallQuery,
) -> AppResult<Option<String>> {
    let text = blocking(app.clone(), move |s| s.billing_csv(args)).await?;
    let Some(path) = save_path(&app, "switchboard-calls.csv".into(), ("CSV", "csv")).await else {
        return Ok(None);
    };
    let to = path.clone();
    blocking(app, move |_| {
        std::fs::write(&to, text).map_err(|e| AppError::io("write the file", &e))
    })
    .await?;
    Ok(Some(path.display().to_string()))
}

/// The account's usage this period as Hugging Face reports it (or the last known figures with
/// why); `billing_forbidden` when the token may not read billing.
#[tauri::command]
pub async fn billing_usage(s: State<'_, Services>) -> AppResult<UsageReport> {
    s.account_usage().await
}

/// Records what Hugging Face billed recent conversations (at most once a minute).
#[tauri::command]
pub async fn billing_reconcile(s: State<'_, Services>) -> AppResult<ReconcileReport> {
    s.reconcile_sessions().await
}

/// One conversation's estimate beside what Hugging Face billed for it (from the history).
#[tauri::command]
pub async fn conversation_cost(
    s: State<'_, Services>,
    args: BilledArgs,
) -> AppResult<ConversationCost> {
    s.conversation_cost(&args.conversation_id).await
}

/// Per provider, the estimate beside Hugging Face's bill over billed conversations.
#[tauri::command]
pub async fn billing_accuracy<R: Runtime>(app: AppHandle<R>) -> AppResult<Vec<ProviderAccuracy>> {
    blocking(app, |s| s.provider_accuracy()).await
}
