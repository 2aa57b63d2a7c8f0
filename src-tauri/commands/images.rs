//! Image commands: the image catalog, generations (progress over a Channel), cancel, the
//! gallery, and pictures as `data:` URLs (the CSP gains no remote origin). Unfinished jobs are
//! resumed at start-up by [`resume`].

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use tauri::ipc::Channel;
use tauri::{AppHandle, Manager, Runtime, State};
use tauri_plugin_clipboard_manager::ClipboardExt;
use tauri_plugin_opener::OpenerExt;
use ts_rs::TS;

use switchboard_core::call::{ImageEvent, ImageJob, ImageRequest, RouteDecision, Routing, Task};
use switchboard_core::error::{AppError, AppResult, ErrorCode};
use switchboard_core::history::images::ImageQuery;
use switchboard_core::image_catalog::ImageCatalog;
use switchboard_core::service::images::{ImageOptions, ImageStarted};
use switchboard_core::service::Services;

use super::chat::{RefreshArgs, RouteArgs};

/// Poll interval override (ms), for tests: `SWITCHBOARD_IMAGE_POLL_MS`.
pub const ENV_IMAGE_POLL_MS: &str = "SWITCHBOARD_IMAGE_POLL_MS";

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct JobIdArgs {
    pub id: String,
}

#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FileArgs {
    /// A kept picture's file name (its hash and extension).
    pub file: String,
}

/// A generation task's catalog (text-to-video, image-to-video).
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VideoCatalogArgs {
    pub task: Task,
    /// Download even when the cached catalog is fresh (refresh only).
    #[serde(default)]
    #[ts(optional)]
    pub force: Option<bool>,
}

/// Where a video would go and who would pay: own keys differ by task.
#[derive(Debug, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct VideoRouteArgs {
    pub task: Task,
    pub routing: Routing,
    pub bill_to: Option<String>,
}

#[tauri::command]
pub fn video_catalog_get(s: State<'_, Services>, args: VideoCatalogArgs) -> Arc<ImageCatalog> {
    s.generation_catalog(args.task)
}

#[tauri::command]
pub async fn video_catalog_refresh(
    s: State<'_, Services>,
    args: VideoCatalogArgs,
) -> AppResult<Arc<ImageCatalog>> {
    s.generation_catalog_refresh(args.task, args.force.unwrap_or(false))
        .await
}

#[tauri::command]
pub fn video_route(s: State<'_, Services>, args: VideoRouteArgs) -> RouteDecision {
    s.generation_route(args.task, &args.routing, args.bill_to.as_deref())
}

#[tauri::command]
pub fn image_catalog_get(s: State<'_, Services>) -> Arc<ImageCatalog> {
    s.image_catalog()
}

#[tauri::command]
pub async fn image_catalog_refresh(
    s: State<'_, Services>,
    args: RefreshArgs,
) -> AppResult<Arc<ImageCatalog>> {
    s.image_catalog_refresh(args.force).await
}

/// Where a generation would go and who would pay (no network).
#[tauri::command]
pub fn image_route(s: State<'_, Services>, args: RouteArgs) -> RouteDecision {
    s.image_route(&args.routing, args.bill_to.as_deref())
}

/// Starts a generation, saved before it is sent; its progress goes to `on_event`.
#[tauri::command]
pub async fn image_generate(
    s: State<'_, Services>,
    args: ImageRequest,
    on_event: Channel<ImageEvent>,
) -> AppResult<ImageStarted> {
    let sink = Box::new(move |e: ImageEvent| {
        let _ = on_event.send(e);
    });
    s.image_generate(args, sink).await
}

#[tauri::command]
pub fn image_cancel(s: State<'_, Services>, args: JobIdArgs) {
    s.image_cancel(&args.id)
}

/// The gallery: newest first, filtered by words of the prompt.
#[tauri::command]
pub async fn image_list(s: State<'_, Services>, args: ImageQuery) -> AppResult<Vec<ImageJob>> {
    s.image_list(args).await
}

/// A kept picture as a `data:` URL.
#[tauri::command]
pub async fn image_data(s: State<'_, Services>, args: FileArgs) -> AppResult<String> {
    s.image_data_url(args.file).await
}

/// Saves a kept picture where the user chooses; the path written, or `null` if cancelled.
#[tauri::command]
pub async fn image_save_as<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: FileArgs,
) -> AppResult<Option<String>> {
    let ext = Services::image_extension(&args.file).to_string();
    let filter: (&'static str, &'static str) = match ext.as_str() {
        "jpg" => ("JPEG picture", "jpg"),
        "webp" => ("WebP picture", "webp"),
        "gif" => ("GIF picture", "gif"),
        "mp4" => ("MP4 video", "mp4"),
        "webm" => ("WebM video", "webm"),
        _ => ("PNG picture", "png"),
    };
    let name = format!(
        "switchboard-{}.{ext}",
        &args.file[..12.min(args.file.len())]
    );
    let Some(path) = super::dialog::save_path(&app, name, filter).await else {
        return Ok(None);
    };
    s.image_save_to(args.file, path.clone()).await?;
    Ok(Some(path.display().to_string()))
}

/// Opens a kept picture or video in the system's viewer or player.
#[tauri::command]
pub async fn image_open<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: FileArgs,
) -> AppResult<()> {
    let file = args.file.clone();
    let path = s.image_file_path(args.file).await?;
    app.opener()
        .open_path(path.display().to_string(), None::<&str>)
        .map_err(|e| {
            log::warn!("open a kept file in the system's viewer: {e}");
            let what = if matches!(Services::image_extension(&file), "mp4" | "webm") {
                "the video: no video player"
            } else {
                "the picture: no picture viewer"
            };
            AppError::new(
                ErrorCode::Internal,
                format!("The system could not open {what} is set up. Use Save as… instead."),
            )
        })
}

/// Copies a kept picture to the system clipboard (as pixels, which every app can paste).
#[tauri::command]
pub async fn image_copy<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
    args: FileArgs,
) -> AppResult<()> {
    let px = s.image_pixels(args.file).await?;
    let image = tauri::image::Image::new_owned(px.rgba, px.width, px.height);
    app.clipboard().write_image(&image).map_err(|e| {
        log::warn!("copy a picture: {e}");
        AppError::new(
            ErrorCode::Internal,
            "The picture could not be put on the clipboard. Use Save as… instead.",
        )
    })
}

/// A source picture for image-to-image, chosen in the system's file dialog: its `data:` URL
/// (checked to be a picture, at most 10 MB), or `null` when the user cancels.
#[tauri::command]
pub async fn image_pick_source<R: Runtime>(
    app: AppHandle<R>,
    s: State<'_, Services>,
) -> AppResult<Option<String>> {
    match super::dialog::open_image_path(&app).await {
        Some(path) => s.image_source_from_file(path).await.map(Some),
        None => Ok(None),
    }
}

/// At start-up, in the background: the poll interval from the environment, then unfinished
/// jobs polled again (their progress shows in the gallery, which lists open jobs).
pub fn resume<R: Runtime>(app: &AppHandle<R>) {
    let app = app.clone();
    if let Some(ms) = std::env::var(ENV_IMAGE_POLL_MS)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|&ms| ms > 0)
    {
        app.state::<Services>().images.set_options(ImageOptions {
            poll_interval: Duration::from_millis(ms),
            ..ImageOptions::default()
        });
    }
    tauri::async_runtime::spawn(async move {
        let s = app.state::<Services>();
        match s.images_resume(|_| Box::new(|_| {})).await {
            Ok(tasks) if !tasks.is_empty() => {
                log::info!("{} image job(s) resumed", tasks.len())
            }
            Ok(_) => {}
            Err(e) => log::warn!("image jobs not resumed: {e}"),
        }
    });
}
