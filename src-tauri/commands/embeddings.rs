//! Embedding commands: where a call would go, the call itself (kept in the history), the runs
//! kept, and a run saved as CSV or JSON where the user chooses.

use serde::Deserialize;
use tauri::{AppHandle, Runtime, State};
use ts_rs::TS;

use switchboard_core::call::RouteDecision;
use switchboard_core::embeddings::EmbeddingComparison;
use switchboard_core::error::{AppError, AppResult};
use switchboard_core::service::embeddings::{
    EmbedCompareArgs, EmbedExportFormat, EmbedPair, EmbedPairRequest, EmbedRequest, EmbeddingView,
};
use switchboard_core::service::Services;

use super::chat::RouteArgs;

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbedExportArgs {
    pub id: String,
    pub format: EmbedExportFormat,
}

/// Where an embeddings call would go and who would pay (no network).
#[tauri::command]
pub fn embed_route(s: State<'_, Services>, args: RouteArgs) -> RouteDecision {
    s.embed_route(&args.routing, args.bill_to.as_deref())
}

/// Sentences to vectors; the run is kept and answered with its similarity matrix.
#[tauri::command]
pub async fn embed(s: State<'_, Services>, args: EmbedRequest) -> AppResult<EmbeddingView> {
    s.embed(args).await
}

/// The same sentences to two models at once, each run kept, and how they disagree.
#[tauri::command]
pub async fn embed_pair(s: State<'_, Services>, args: EmbedPairRequest) -> AppResult<EmbedPair> {
    Ok(s.embed_pair(args).await)
}

/// Two kept runs of the same sentences compared.
#[tauri::command]
pub async fn embedding_compare(
    s: State<'_, Services>,
    args: EmbedCompareArgs,
) -> AppResult<EmbeddingComparison> {
    s.embedding_compare(args).await
}

/// The runs kept, newest first.
#[tauri::command]
pub async fn embedding_list(s: State<'_, Services>) -> AppResult<Vec<EmbeddingView>> {
    s.embeddings_list(50).await
}

/// Saves a run as CSV or JSON where the user chooses; the path written, or `null`.
#[tauri::command]
pub async fn embedding_export<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: EmbedExportArgs,
) -> AppResult<Option<String>> {
    let (text, name) = s.embedding_export(args.id, args.format).await?;
    let filter = match args.format {
        EmbedExportFormat::Csv => ("CSV", "csv"),
        EmbedExportFormat::Json => ("JSON", "json"),
    };
    let Some(path) = super::dialog::save_path(&app, name, filter).await else {
        return Ok(None);
    };
    let to = path.clone();
    tauri::async_runtime::spawn_blocking(move || {
        std::fs::write(&to, text).map_err(|e| AppError::io("write the file", &e))
    })
    .await
    .map_err(|e| AppError::internal(format!("saving failed: {e}")))??;
    Ok(Some(path.display().to_string()))
}
