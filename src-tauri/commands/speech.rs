//! Speech commands: where a call would go, an audio file chosen (or dropped) and kept, a
//! transcript, speech made from text, the runs kept, a kept audio file to play, and a run saved
//! (transcript as text or JSON, or the audio) where the user chooses. Runs the app was waiting on
//! when it ended are finished at start-up by [`resume`].

use serde::Deserialize;
use tauri::{AppHandle, Manager, Runtime, State};
use ts_rs::TS;

use switchboard_core::call::{RouteDecision, Routing};
use switchboard_core::error::{AppError, AppResult};
use switchboard_core::history::speech::SpeechRecord;
use switchboard_core::service::speech::{
    AudioInfo, SpeechExportFormat, SynthesizeRequest, TranscribeRequest,
};
use switchboard_core::service::Services;
use switchboard_core::speech::SpeechKind;

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SpeechRouteArgs {
    pub kind: SpeechKind,
    pub routing: Routing,
    pub bill_to: Option<String>,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SpeechProvidersArgs {
    pub kind: SpeechKind,
    pub model: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AudioPutArgs {
    /// The dropped file's name, shown only.
    pub name: Option<String>,
    /// Its bytes, base64 (a `data:` URL is accepted).
    pub data: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SpeechExportArgs {
    pub id: String,
    pub format: SpeechExportFormat,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AudioFileArgs {
    /// A kept audio file's name (its hash and extension).
    pub file: String,
}

/// Where a speech call would go and who would pay (no network).
#[tauri::command]
pub fn speech_route(s: State<'_, Services>, args: SpeechRouteArgs) -> RouteDecision {
    s.speech_route(args.kind, &args.routing, args.bill_to.as_deref())
}

/// The providers the app can ask for a model and task, as the Hub's mapping lists them.
#[tauri::command]
pub async fn speech_providers(
    s: State<'_, Services>,
    args: SpeechProvidersArgs,
) -> AppResult<Vec<String>> {
    Ok(s.speech_providers(args.kind, &args.model).await)
}

/// Asks for an audio file and keeps it; `null` when the user cancels.
#[tauri::command]
pub async fn speech_pick_audio<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
) -> AppResult<Option<AudioInfo>> {
    match super::dialog::open_audio_path(&app).await {
        Some(path) => s.speech_audio_from_file(path).await.map(Some),
        None => Ok(None),
    }
}

/// Keeps a dropped audio file.
#[tauri::command]
pub async fn speech_put_audio(s: State<'_, Services>, args: AudioPutArgs) -> AppResult<AudioInfo> {
    s.speech_audio_put(args.name, args.data).await
}

/// A kept audio file as a `data:` URL, to play.
#[tauri::command]
pub async fn speech_audio(s: State<'_, Services>, args: AudioFileArgs) -> AppResult<String> {
    s.speech_audio_data(args.file).await
}

/// An audio file to a transcript; the run is kept.
#[tauri::command]
pub async fn speech_transcribe(
    s: State<'_, Services>,
    args: TranscribeRequest,
) -> AppResult<SpeechRecord> {
    s.transcribe(args).await
}

/// Text to speech; the audio and the run are kept.
#[tauri::command]
pub async fn speech_synthesize(
    s: State<'_, Services>,
    args: SynthesizeRequest,
) -> AppResult<SpeechRecord> {
    s.synthesize(args).await
}

/// The runs kept, newest first.
#[tauri::command]
pub async fn speech_list(s: State<'_, Services>) -> AppResult<Vec<SpeechRecord>> {
    s.speech_list(100).await
}

/// Forgets a kept run, and its audio when no other run names it.
#[tauri::command]
pub async fn speech_delete(s: State<'_, Services>, args: super::history::IdArgs) -> AppResult<()> {
    s.speech_delete(args.id).await
}

/// Saves a run (transcript as text or JSON, or its audio) where the user chooses; the path
/// written, or `null`.
#[tauri::command]
pub async fn speech_export<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: SpeechExportArgs,
) -> AppResult<Option<String>> {
    let f = s.speech_export(args.id, args.format).await?;
    let Some(path) = super::dialog::save_path(&app, f.name, f.filter).await else {
        return Ok(None);
    };
    let to = path.clone();
    tauri::async_runtime::spawn_blocking(move || {
        std::fs::write(&to, f.bytes).map_err(|e| AppError::io("write the file", &e))
    })
    .await
    .map_err(|e| AppError::internal(format!("saving failed: {e}")))??;
    Ok(Some(path.display().to_string()))
}

/// At start-up, in the background: speech runs the provider was working on when the app ended
/// are polled again and finished; those with nothing to come back to are marked interrupted.
pub fn resume<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        let s = app.state::<Services>();
        match s.speech_resume().await {
            Ok(runs) if !runs.is_empty() => {
                log::info!(
                    "{} speech run(s) finished or marked at start-up",
                    runs.len()
                )
            }
            Ok(_) => {}
            Err(e) => log::warn!("speech runs not resumed: {e}"),
        }
    });
}
