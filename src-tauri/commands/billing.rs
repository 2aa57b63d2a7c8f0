//! Billing commands: the credits meter, the ledger table and its totals, rate limits, the
//! user's corrections, CSV export through the save dialog.

use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use super::dialog::save_path;
use switchboard_core::billing::{CreditSettings, CreditStatus};
use switchboard_core::error::{AppError, AppResult};
use switchboard_core::history::ledger::{CallPage, CallQuery, Totals};
use switchboard_core::service::billing::RateInfo;
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

#[tauri::command]
pub async fn billing_status(s: State<'_, Services>) -> AppResult<CreditStatus> {
    s.credit_status()
}

#[tauri::command]
pub async fn billing_calls(s: State<'_, Services>, args: CallQuery) -> AppResult<CallPage> {
    s.billing_calls(&args)
}

#[tauri::command]
pub async fn billing_totals(s: State<'_, Services>, args: TotalsArgs) -> AppResult<Vec<Totals>> {
    s.billing_totals(&args.group, args.from, args.to)
}

#[tauri::command]
pub async fn billing_rates(s: State<'_, Services>) -> AppResult<RateInfo> {
    s.billing_rates()
}

#[tauri::command]
pub async fn billing_averages(s: State<'_, Services>) -> AppResult<Option<(f64, f64)>> {
    s.billing_averages()
}

#[tauri::command]
pub fn credits_get(s: State<'_, Services>) -> CreditSettings {
    s.credits()
}

#[tauri::command]
pub async fn credits_set(s: State<'_, Services>, args: CreditSettings) -> AppResult<CreditStatus> {
    s.credits_set(args)
}

/// Writes the calls matching the query (all of them, not one page) as CSV.
#[tauri::command]
pub async fn billing_export_csv<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: CallQuery,
) -> AppResult<Option<String>> {
    let text = s.billing_csv(args)?;
    let Some(path) = save_path(&app, "switchboard-calls.csv".into(), ("CSV", "csv")).await else {
        return Ok(None);
    };
    std::fs::write(&path, text).map_err(|e| AppError::io("write the file", &e))?;
    Ok(Some(path.display().to_string()))
}
