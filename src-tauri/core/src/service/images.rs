//! The image service: a generation (pictures, or a video) run end to end as a durable job. The route is
//! decided exactly as chat decides it ([`Resolver::decide_for`]), the job saved in the history
//! before the request goes out, the provider's job id and poll URL saved before the app waits,
//! the pictures downloaded by Rust, checked by their bytes and kept as files named by their
//! hash, the call recorded in the ledger. Unfinished jobs resume polling at start-up
//! ([`Services::images_resume`]); only [`Services::image_cancel`] stops one.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use ts_rs::TS;

use super::reach::DirectBase;
use super::Services;
use crate::call::{
    Billing, CallMode, EtaSource, ImageEvent, ImageJob, ImageRequest, JobStatus, RouteDecision,
    Routing, StoredImage, Target as Choice, Task,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::images::{new_job, ImageQuery};
use crate::history::ledger::{CallKind, CallRow};
use crate::history::History;
use crate::image_catalog::{self, ImageCatalog};
use crate::images::{self, Picture, Poll, Submitted, Target};
use crate::providers;

/// Where the events of a running generation go (the app: a Tauri channel). Never fails the job.
pub type ImageSink = Box<dyn FnMut(ImageEvent) + Send + 'static>;

/// How jobs are waited on.
#[derive(Debug, Clone)]
pub struct ImageOptions {
    /// Between two polls of a job.
    pub poll_interval: Duration,
    /// A job not finished after this long is given up (it may still finish at the provider).
    pub job_timeout: Duration,
    /// The most a picture may weigh.
    pub max_bytes: usize,
    /// How long the pictures of a finished job may take to download.
    pub download_timeout: Duration,
    /// A video job not finished after this long is given up (videos take minutes).
    pub video_timeout: Duration,
    /// The most a video may weigh.
    pub max_video_bytes: usize,
}

impl Default for ImageOptions {
    fn default() -> Self {
        Self {
            poll_interval: Duration::from_millis(1000),
            job_timeout: Duration::from_secs(600),
            max_bytes: images::MAX_PICTURE_BYTES,
            download_timeout: Duration::from_secs(180),
            video_timeout: Duration::from_secs(45 * 60),
            max_video_bytes: images::MAX_VIDEO_BYTES,
        }
    }
}

/// The image share of the services: running jobs and how they wait.
pub struct ImageState {
    /// The catalogs of text-to-image, text-to-video and image-to-video models.
    catalogs: std::sync::RwLock<HashMap<Task, Arc<ImageCatalog>>>,
    data_dir: PathBuf,
    /// Only one download of the catalog at a time.
    refreshing: tokio::sync::Mutex<()>,
    running: Mutex<HashMap<String, CancellationToken>>,
    options: Mutex<ImageOptions>,
    /// Downloads pictures from other hosts: carries no credential, ever.
    open: reqwest::Client,
    dir: PathBuf,
}

impl ImageState {
    pub fn new(data_dir: &std::path::Path) -> AppResult<Self> {
        let open = reqwest::Client::builder()
            .user_agent(concat!("Switchboard/", env!("CARGO_PKG_VERSION")))
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(120))
            .redirect(reqwest::redirect::Policy::limited(5))
            .build()
            .map_err(|e| AppError::internal(format!("HTTP client setup failed: {e}")))?;
        let catalogs = GENERATION_TASKS
            .iter()
            .map(|t| {
                (
                    *t,
                    Arc::new(ImageCatalog::load(&catalog_path(data_dir, *t))),
                )
            })
            .collect();
        Ok(Self {
            catalogs: std::sync::RwLock::new(catalogs),
            data_dir: data_dir.to_path_buf(),
            refreshing: tokio::sync::Mutex::new(()),
            running: Mutex::new(HashMap::new()),
            options: Mutex::new(ImageOptions::default()),
            open,
            dir: data_dir.join("images"),
        })
    }

    pub fn set_options(&self, o: ImageOptions) {
        *self.options.lock().unwrap_or_else(|e| e.into_inner()) = o;
    }

    pub(crate) fn options(&self) -> ImageOptions {
        self.options
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    fn running(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        self.running.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The client that downloads results from other hosts: it never carries a credential.
    pub(crate) fn open_client(&self) -> &reqwest::Client {
        &self.open
    }

    /// The folder the pictures are kept in.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// How many jobs are being waited on now.
    pub fn running_count(&self) -> usize {
        self.running().len()
    }
}

/// The generation tasks, each with its catalog.
pub const GENERATION_TASKS: [Task; 3] = [Task::TextToImage, Task::TextToVideo, Task::ImageToVideo];

/// Where the catalog of a generation task is cached.
fn catalog_path(data_dir: &std::path::Path, task: Task) -> PathBuf {
    match task {
        Task::TextToImage => data_dir.join("image-catalog.json"),
        t => data_dir.join(format!("{}-catalog.json", t.hub_name())),
    }
}

/// Refuses a task that is not a generation.
fn check_generation(task: Task) -> AppResult<()> {
    if GENERATION_TASKS.contains(&task) {
        Ok(())
    } else {
        Err(AppError::new(
            ErrorCode::InvalidRequest,
            "Pictures and videos only: this task is not a generation.",
        ))
    }
}

/// What `image_generate` answers at once.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImageStarted {
    pub job_id: String,
    /// The provider that makes it.
    pub provider: String,
    /// Where the call goes and who pays.
    pub route: RouteDecision,
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(AppError::internal(format!("saving failed: {e}"))))
}

impl Services {
    /// The cached image catalog, as it is (possibly empty or old): the picker works offline.
    pub fn image_catalog(&self) -> Arc<ImageCatalog> {
        self.generation_catalog(Task::TextToImage)
    }

    /// The cached catalog of a generation task (text-to-image, text-to-video, image-to-video).
    pub fn generation_catalog(&self, task: Task) -> Arc<ImageCatalog> {
        self.images
            .catalogs
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&task)
            .cloned()
            .unwrap_or_default()
    }

    /// Downloads the image catalog when the cached one is stale, or always with `force`.
    pub async fn image_catalog_refresh(&self, force: bool) -> AppResult<Arc<ImageCatalog>> {
        self.generation_catalog_refresh(Task::TextToImage, force)
            .await
    }

    /// Downloads a generation task's catalog when the cached one is stale, or always with
    /// `force`.
    pub async fn generation_catalog_refresh(
        &self,
        task: Task,
        force: bool,
    ) -> AppResult<Arc<ImageCatalog>> {
        check_generation(task)?;
        let _one_at_a_time = self.images.refreshing.lock().await;
        let current = self.generation_catalog(task);
        let now = crate::auth::now_unix().max(0) as u64;
        if !force && !current.is_stale(now) {
            return Ok(current);
        }
        let fresh = Arc::new(image_catalog::fetch(&self.hf, now, image_catalog::PAGE, task).await?);
        if let Err(e) = fresh.save(&catalog_path(&self.images.data_dir, task)) {
            log::warn!("could not cache the {} catalog: {e}", task.hub_name());
        }
        self.images
            .catalogs
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(task, fresh.clone());
        Ok(fresh)
    }

    /// Where a generation chosen as `routing` would go and who would pay (no network).
    pub fn image_route(&self, routing: &Routing, bill_to: Option<&str>) -> RouteDecision {
        self.generation_route(Task::TextToImage, routing, bill_to)
    }

    /// [`Self::image_route`] for any generation task: own keys differ by task.
    pub fn generation_route(
        &self,
        task: Task,
        routing: &Routing,
        bill_to: Option<&str>,
    ) -> RouteDecision {
        self.resolver().decide_for(task, routing, bill_to)
    }

    /// Starts a generation and answers once it is saved; its events go to `sink`.
    pub async fn image_generate(
        &self,
        request: ImageRequest,
        sink: ImageSink,
    ) -> AppResult<ImageStarted> {
        self.image_run(request, sink).await.map(|(s, _)| s)
    }

    /// [`Self::image_generate`], with the job's task: it ends with the job as saved.
    pub async fn image_run(
        &self,
        mut request: ImageRequest,
        sink: ImageSink,
    ) -> AppResult<(ImageStarted, JoinHandle<ImageJob>)> {
        check_generation(request.task)?;
        request.prompt = request.prompt.trim().to_string();
        let what = request.what();
        if request.prompt.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!("Write a prompt: what should the {what} show?"),
            ));
        }
        if request.is_video() {
            // One video per job; a source picture is image-to-video's first frame only.
            request.n = 1;
            request.strength = None;
            match request.task {
                Task::ImageToVideo if request.source.is_none() => {
                    return Err(AppError::new(
                        ErrorCode::InvalidRequest,
                        "Choose a picture to start the video from (image to video).",
                    ))
                }
                Task::TextToVideo => request.source = None,
                _ => {}
            }
            if let Some(d) = request.duration {
                if !(1.0..=60.0).contains(&d) {
                    return Err(AppError::new(
                        ErrorCode::InvalidRequest,
                        "A video lasts 1 to 60 seconds.",
                    ));
                }
            }
        }
        if let Some(src) = &request.source {
            request.source = Some(images::check_source(src)?);
            if let Some(st) = request.strength {
                if !(0.0..=1.0).contains(&st) {
                    return Err(AppError::new(
                        ErrorCode::InvalidRequest,
                        "The strength goes from 0 (keep the source) to 1 (ignore it).",
                    ));
                }
            }
        }
        if !(1..=4).contains(&request.n) {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Ask for 1 to 4 pictures at a time.",
            ));
        }
        let resolver = self.resolver();
        resolver.check_enabled(&request.routing)?;
        let route = resolver.decide_for(request.task, &request.routing, request.bill_to.as_deref());
        let provider = self.image_provider(&request).await?;
        let pinned = Routing::Pinned {
            provider: provider.clone(),
        };
        // Automatic choices go through the router, as in chat; a pinned provider follows the
        // user's setting for it.
        let mode = match request.routing.target() {
            Choice::Auto(_) => CallMode::Routed,
            _ => resolver.decide_for(request.task, &pinned, None).mode,
        };
        if request.task == Task::TextToImage
            && request.source.is_some()
            && !images::protocol(&provider).is_some_and(images::takes_source)
        {
            let name = providers::get(&provider).map_or(provider.as_str(), |d| d.display.as_str());
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!("Switchboard cannot send a source picture to {name} yet: pick fal, Replicate or HF Inference, or remove the source."),
            ));
        }
        let model_id = self.image_model_id(&request.model, &provider, mode).await?;
        let target = self.image_target(
            &provider,
            request.task,
            mode,
            &model_id,
            request.bill_to.as_deref(),
        )?;
        // The source picture is kept as a file beside the results (named by its hash); the job
        // names it (`file:{name}`) rather than holding its bytes.
        let source = request.source.take();
        if let Some(data) = &source {
            let (dir, data) = (self.images.dir().to_path_buf(), data.clone());
            let stored = blocking(move || {
                use base64::Engine as _;
                let b64 = data
                    .rsplit_once("base64,")
                    .map_or("", |(_, d)| d)
                    .to_string();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(b64)
                    .map_err(|_| AppError::internal("source checked but not base64"))?;
                images::store(&dir, &bytes, "The source")
            })
            .await?;
            request.source = Some(format!("file:{}", stored.file));
        }
        let history = self.history.wait().await?;
        let job = new_job(
            uuid::Uuid::new_v4().to_string(),
            request,
            Some(provider.clone()),
            Some(model_id),
            mode,
            route.billing,
        );
        {
            let (h, job) = (history.clone(), job.clone());
            blocking(move || h.insert_image_job(&job)).await?;
        }
        let started = ImageStarted {
            job_id: job.id.clone(),
            provider,
            route,
        };
        let task = self.spawn_job(history, job, target, source, sink);
        Ok((started, task))
    }

    /// Picks the provider: the pinned one, or the first live provider of the Hub's mapping
    /// that the app can make pictures with.
    async fn image_provider(&self, request: &ImageRequest) -> AppResult<String> {
        match request.routing.target() {
            Choice::Provider(p) => {
                if images::protocol_for(p, request.task).is_none() {
                    let name = providers::get(p).map_or(p, |d| d.display.as_str());
                    return Err(AppError::new(
                        ErrorCode::ModelUnavailable,
                        format!(
                            "Switchboard cannot make {} with {name} yet.",
                            plural(request)
                        ),
                    ));
                }
                Ok(p.to_string())
            }
            Choice::Endpoint(_) => Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Custom endpoints answer chat only; pick a provider for {}.",
                    plural(request)
                ),
            )),
            Choice::Auto(_) => {
                let mapping = self.chat.mappings.get(&self.hf, &request.model).await?;
                let prefs = providers::ProviderPrefs::load(&*self.store);
                mapping
                    .iter()
                    .filter(|m| m.status == "live")
                    .filter(|m| {
                        m.task
                            .as_deref()
                            .is_none_or(|t| t == request.task.hub_name())
                    })
                    .filter(|m| images::protocol_for(&m.provider, request.task).is_some())
                    .find(|m| prefs.pref(&m.provider).enabled)
                    .map(|m| m.provider.clone())
                    .ok_or_else(|| {
                        AppError::new(
                            ErrorCode::ModelUnavailable,
                            format!(
                                "No provider Switchboard can use makes {} with {} right now.",
                                plural(request),
                                request.model
                            ),
                        )
                    })
            }
        }
    }

    /// The provider's id for the model, from the Hub's mapping (HF Inference knows the Hub id).
    pub(super) async fn image_model_id(
        &self,
        model: &str,
        provider: &str,
        mode: CallMode,
    ) -> AppResult<String> {
        let mapping = self.chat.mappings.get(&self.hf, model).await;
        let entry = mapping
            .as_ref()
            .ok()
            .and_then(|m| m.iter().find(|e| e.provider == provider).cloned());
        let name = providers::get(provider).map_or(provider, |d| d.display.as_str());
        match entry {
            Some(e) if e.status == "live" => Ok(e.provider_id),
            // Staging models answer the provider's own organization only: the router decides.
            Some(e) if e.status == "staging" && mode == CallMode::Routed => Ok(e.provider_id),
            Some(e) => Err(AppError::new(
                ErrorCode::ModelUnavailable,
                format!(
                    "{name} marks {model} as unavailable (“{}”) right now.",
                    e.status
                ),
            )),
            None if provider == "hf-inference" => Ok(model.to_string()),
            None => match mapping {
                Err(e) => Err(e),
                Ok(_) => Err(AppError::new(
                    ErrorCode::ModelUnavailable,
                    format!("Hugging Face does not list {model} as served by {name}."),
                )),
            },
        }
    }

    /// Where a job's requests go and with which credential: the HF token through the router,
    /// or the provider's key straight to it. Also used to resume a job after a restart.
    pub(super) fn image_target(
        &self,
        provider: &str,
        task: Task,
        mode: CallMode,
        model_id: &str,
        bill_to: Option<&str>,
    ) -> AppResult<Target> {
        let protocol = images::protocol_for(provider, task).ok_or_else(|| {
            let what = if task.is_video() {
                "videos"
            } else {
                "pictures"
            };
            AppError::new(
                ErrorCode::ModelUnavailable,
                format!("Switchboard cannot make {what} with {provider} yet."),
            )
        })?;
        let doing = if task.is_video() {
            "make videos"
        } else {
            "make pictures"
        };
        self.provider_target(provider, protocol, mode, model_id, bill_to, doing)
    }

    /// [`Self::image_target`] with the protocol given (speech speaks some the pictures do not);
    /// `doing` completes "Sign in with a Hugging Face token to …".
    pub(super) fn provider_target(
        &self,
        provider: &str,
        protocol: images::Protocol,
        mode: CallMode,
        model_id: &str,
        bill_to: Option<&str>,
        doing: &str,
    ) -> AppResult<Target> {
        let r = self.reach(provider, mode, bill_to, DirectBase::Jobs, doing)?;
        Ok(Target {
            provider: provider.to_string(),
            who: r.who,
            protocol,
            base: r.base,
            trusted: r.trusted,
            routed: r.routed,
            model_id: model_id.to_string(),
            auth: r.auth,
            headers: r.headers,
            secret: r.secret,
        })
    }

    fn spawn_job(
        &self,
        history: Arc<History>,
        job: ImageJob,
        target: Target,
        source: Option<String>,
        sink: ImageSink,
    ) -> JoinHandle<ImageJob> {
        let cancel = CancellationToken::new();
        self.images.running().insert(job.id.clone(), cancel.clone());
        let run = RunningJob {
            http: self.hf.http().clone(),
            state: self.images.clone(),
            options: self.images.options(),
            history,
            target,
            cancel,
            job,
            source,
        };
        tokio::spawn(run.run(sink))
    }

    /// Stops a job: at the provider too where it allows it. Nothing happens for an unknown id.
    pub fn image_cancel(&self, id: &str) {
        if let Some(c) = self.images.running().get(id) {
            c.cancel();
        }
    }

    /// At start-up: jobs the provider was working on when the app ended are polled again; a
    /// request that had no job to resume is marked interrupted. Their events go to `sink`.
    pub async fn images_resume(
        &self,
        mut sink: impl FnMut(&str) -> ImageSink,
    ) -> AppResult<Vec<JoinHandle<ImageJob>>> {
        let history = self.history.wait().await?;
        let open = {
            let h = history.clone();
            blocking(move || h.open_image_jobs()).await?
        };
        let mut tasks = Vec::new();
        for mut job in open {
            if self.images.running().contains_key(&job.id) {
                continue;
            }
            let provider = job.provider.clone().unwrap_or_default();
            let resumable = job.provider_job.poll_url.is_some();
            let target = if resumable {
                self.image_target(
                    &provider,
                    job.request.task,
                    job.mode,
                    job.provider_model.as_deref().unwrap_or(&job.request.model),
                    job.request.bill_to.as_deref(),
                )
            } else {
                Err(AppError::new(
                    ErrorCode::JobFailed,
                    format!("Switchboard closed before the provider answered, and this provider gives no job to come back to: the {} was not received. Generate it again.", job.request.what()),
                ))
            };
            match target {
                Ok(t) => {
                    log::info!("resuming image job {} at {provider}", job.id);
                    let s = sink(&job.id);
                    tasks.push(self.spawn_job(history.clone(), job, t, None, s));
                }
                // The provider still holds the job, but no credential reaches it now (signed
                // out, the key removed): it stays open and is tried at the next start-up.
                Err(e) if resumable => {
                    log::warn!("image job {} not resumed for now: {e}", job.id);
                }
                Err(e) => {
                    job.status = JobStatus::Interrupted;
                    job.error = Some(e);
                    let h = history.clone();
                    blocking(move || h.update_image_job(&job)).await?;
                }
            }
        }
        Ok(tasks)
    }

    /// A source picture chosen in a file dialog, as a `data:` URL (checked to be a picture,
    /// at most 10 MB). Blocking read on a blocking thread.
    pub async fn image_source_from_file(&self, path: PathBuf) -> AppResult<String> {
        blocking(move || {
            let meta =
                std::fs::metadata(&path).map_err(|e| AppError::io("read the picture", &e))?;
            if meta.len() > images::MAX_SOURCE_BYTES as u64 {
                return Err(crate::hf::too_large(
                    "The source picture",
                    images::MAX_SOURCE_BYTES,
                ));
            }
            let bytes = std::fs::read(&path).map_err(|e| AppError::io("read the picture", &e))?;
            images::source_data_url(&bytes)
        })
        .await
    }

    /// The gallery: generations newest first, filtered by words of their prompt.
    pub async fn image_list(&self, query: ImageQuery) -> AppResult<Vec<ImageJob>> {
        let h = self.history.wait().await?;
        blocking(move || h.image_jobs(&query)).await
    }

    /// A kept picture's path and MIME type, from its file name: only names the app gives
    /// (a hash and a picture extension, no path).
    fn picture_path(&self, file: &str) -> AppResult<(PathBuf, &'static str)> {
        let mime = kept_mime(file)
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "No such picture."))?;
        Ok((self.images.dir().join(file), mime))
    }

    /// A picture to attach to a chat message, chosen in a file dialog: checked by its bytes
    /// (PNG, JPEG, WebP or GIF, at most 10 MB) and kept under its hash.
    pub async fn chat_attach_file(&self, path: PathBuf) -> AppResult<StoredImage> {
        let data_url = self.image_source_from_file(path).await?;
        self.chat_attach_data(data_url).await
    }

    /// A dropped or pasted picture (a `data:` URL) to attach to a chat message: checked by
    /// its bytes and size, and kept under its hash.
    pub async fn chat_attach_data(&self, data_url: String) -> AppResult<StoredImage> {
        let dir = self.images.dir().to_path_buf();
        blocking(move || {
            let canonical = images::check_source(&data_url)?;
            let b64 = canonical.split_once(";base64,").map_or("", |(_, d)| d);
            use base64::Engine as _;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|_| AppError::internal("a checked picture is not base64"))?;
            images::store(&dir, &bytes, "The picture")
        })
        .await
    }

    /// A kept picture as a `data:` URL for the web view (no remote origin, no file access).
    pub async fn image_data_url(&self, file: String) -> AppResult<String> {
        let (path, mime) = self.picture_path(&file)?;
        let bytes = tokio::fs::read(&path).await.map_err(|_| {
            AppError::new(ErrorCode::NotFound, "That picture is no longer on disk.")
        })?;
        use base64::Engine as _;
        Ok(format!(
            "data:{mime};base64,{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        ))
    }

    /// Copies a kept picture to `dest` (chosen in a save dialog).
    pub async fn image_save_to(&self, file: String, dest: PathBuf) -> AppResult<()> {
        let (path, _) = self.picture_path(&file)?;
        blocking(move || {
            std::fs::copy(&path, &dest)
                .map(|_| ())
                .map_err(|e| AppError::io("save the picture", &e))
        })
        .await
    }

    /// The path of a kept picture on disk, to open it in the system's viewer.
    pub async fn image_file_path(&self, file: String) -> AppResult<PathBuf> {
        let (path, _) = self.picture_path(&file)?;
        match tokio::fs::metadata(&path).await {
            Ok(m) if m.is_file() => Ok(path),
            _ => Err(AppError::new(
                ErrorCode::NotFound,
                "That picture is no longer on disk.",
            )),
        }
    }

    /// A kept picture decoded to RGBA pixels, for the clipboard (which takes pixels, not files).
    pub async fn image_pixels(&self, file: String) -> AppResult<images::Pixels> {
        let (path, _) = self.picture_path(&file)?;
        blocking(move || {
            let bytes = std::fs::read(&path).map_err(|_| {
                AppError::new(ErrorCode::NotFound, "That picture is no longer on disk.")
            })?;
            images::decode_rgba(&bytes)
        })
        .await
    }

    /// The extension of a kept picture's file, for a save dialog's filter.
    pub fn image_extension(file: &str) -> &str {
        file.rsplit_once('.').map_or("png", |(_, e)| e)
    }
}

/// An attached picture's `data:` URL for a chat request, read from the images folder `dir`
/// and checked again by its bytes and size. Blocking.
pub fn chat_picture(dir: &std::path::Path, file: &str) -> AppResult<String> {
    if !is_kept_name(file) {
        return Err(AppError::new(ErrorCode::NotFound, "No such picture."));
    }
    let bytes = std::fs::read(dir.join(file)).map_err(|_| {
        AppError::new(
            ErrorCode::NotFound,
            "An attached picture is no longer on disk: remove it and attach it again.",
        )
    })?;
    images::source_data_url(&bytes)
}

/// The MIME type of a kept picture's file name, if it is one the app gives (a hash and a
/// picture extension, no path).
fn kept_mime(file: &str) -> Option<&'static str> {
    let ok = file.len() <= 80
        && file
            .chars()
            .all(|c| c.is_ascii_hexdigit() || c == '.' || c.is_ascii_lowercase());
    ok.then(|| file.rsplit_once('.'))
        .flatten()
        .and_then(|(_, ext)| match ext {
            "png" => Some("image/png"),
            "jpg" => Some("image/jpeg"),
            "webp" => Some("image/webp"),
            "gif" => Some("image/gif"),
            "mp4" => Some("video/mp4"),
            "webm" => Some("video/webm"),
            _ => None,
        })
}

/// Whether `file` is a name the app gives its pictures (so it may be read or deleted).
pub fn is_kept_name(file: &str) -> bool {
    kept_mime(file).is_some()
}

/// The pictures attached to the messages of `conversations`, with their bytes, for a full
/// backup. A picture missing from disk is left out. Blocking.
pub fn export_attachments(
    conversations: &[crate::history::Conversation],
    dir: &std::path::Path,
) -> Vec<crate::history::export::ExportedFile> {
    use base64::Engine as _;
    let mut files: Vec<&String> = conversations
        .iter()
        .flat_map(|c| c.messages.iter().flat_map(|m| m.images.iter()))
        .filter(|f| is_kept_name(f))
        .collect();
    files.sort();
    files.dedup();
    files
        .into_iter()
        .filter_map(|f| {
            let bytes = std::fs::read(dir.join(f)).ok()?;
            Some(crate::history::export::ExportedFile {
                file: f.clone(),
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        })
        .collect()
}

/// Brings back attached pictures from a backup: each is checked by its bytes and kept under
/// its own hash; one whose bytes do not match its name, or that is not a picture, is skipped
/// (its message shows it as missing). Returns how many were kept. Blocking.
pub fn import_attachments(
    dir: &std::path::Path,
    files: &[crate::history::export::ExportedFile],
) -> AppResult<u32> {
    use base64::Engine as _;
    let mut n = 0;
    for f in files {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(f.data.trim()) else {
            log::warn!("import: an attached picture is not base64; skipped");
            continue;
        };
        match images::store(dir, &bytes, "The backup") {
            Ok(img) if img.file == f.file => n += 1,
            Ok(_) => log::warn!("import: an attached picture does not match its name; skipped"),
            Err(e) if e.code == ErrorCode::NotAnImage => {
                log::warn!("import: an attached picture is not a picture; skipped")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Every finished generation with its pictures' bytes, for a full backup. A picture missing
/// from disk is left out (the job still says it was made). Blocking.
pub fn export_images(
    history: &History,
    dir: &std::path::Path,
) -> AppResult<Vec<crate::history::export::ExportedImage>> {
    use base64::Engine as _;
    let jobs = history.all_image_jobs()?;
    let mut out = Vec::new();
    for job in jobs.into_iter().filter(|j| !j.status.is_open()) {
        let files = job
            .images
            .iter()
            .filter_map(|img| {
                let bytes = std::fs::read(dir.join(&img.file)).ok()?;
                Some(crate::history::export::ExportedFile {
                    file: img.file.clone(),
                    data: base64::engine::general_purpose::STANDARD.encode(bytes),
                })
            })
            .collect();
        let source = job
            .request
            .source
            .as_deref()
            .and_then(|s| s.strip_prefix("file:"))
            .filter(|f| is_kept_name(f))
            .and_then(|f| {
                let bytes = std::fs::read(dir.join(f)).ok()?;
                Some(crate::history::export::ExportedFile {
                    file: f.to_string(),
                    data: base64::engine::general_purpose::STANDARD.encode(bytes),
                })
            });
        out.push(crate::history::export::ExportedImage { job, files, source });
    }
    Ok(out)
}

/// Brings generations back from a backup: each picture is checked by its bytes and stored
/// under its own hash (never the file's word for it); a generation already in the history, or
/// one with a picture that is not a picture, is skipped. Returns how many came back. Blocking.
pub fn import_images(
    history: &History,
    dir: &std::path::Path,
    images: &[crate::history::export::ExportedImage],
) -> AppResult<(u32, u32)> {
    use base64::Engine as _;
    let (mut n, mut videos) = (0, 0);
    'jobs: for e in images {
        if e.job.status.is_open() || history.image_job(&e.job.id)?.is_some() {
            continue;
        }
        let mut kept = Vec::new();
        for f in &e.files {
            let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(f.data.trim()) else {
                log::warn!("import: a picture of {} is not base64; skipped", e.job.id);
                continue 'jobs;
            };
            // A video job's file must be a video, a picture job's a picture.
            let stored = if e.job.request.is_video() {
                images::store_video(dir, &bytes, "The backup")
            } else {
                images::store(dir, &bytes, "The backup")
            };
            match stored {
                Ok(img) => kept.push(img),
                Err(err)
                    if err.code == ErrorCode::NotAnImage || err.code == ErrorCode::BadResponse =>
                {
                    log::warn!(
                        "import: a file of {} is not a {}; skipped",
                        e.job.id,
                        e.job.request.what()
                    );
                    continue 'jobs;
                }
                Err(err) => return Err(err),
            }
        }
        let mut job = e.job.clone();
        job.images = kept;
        // The source picture comes back under its own hash; a job whose source is missing from
        // the file (older backups) keeps its settings and says so where it is shown.
        if let Some(f) = &e.source {
            let stored = base64::engine::general_purpose::STANDARD
                .decode(f.data.trim())
                .ok()
                .and_then(|bytes| images::store(dir, &bytes, "The backup").ok());
            match stored {
                Some(img) => job.request.source = Some(format!("file:{}", img.file)),
                None => log::warn!(
                    "import: the source picture of {} is not a picture; left out",
                    e.job.id
                ),
            }
        }
        history.insert_image_job(&job)?;
        history.update_image_job(&job)?;
        if job.request.is_video() {
            videos += 1;
        } else {
            n += 1;
        }
    }
    Ok((n, videos))
}

/// "pictures" or "videos", for messages.
fn plural(r: &ImageRequest) -> &'static str {
    if r.is_video() {
        "videos"
    } else {
        "pictures"
    }
}

/// The median of past durations, if there are enough of them (three) to mean something.
fn typical_ms(mut past: Vec<f64>) -> Option<u64> {
    if past.len() < 3 {
        return None;
    }
    past.sort_by(f64::total_cmp);
    Some(past[past.len() / 2].max(0.0) as u64)
}

/// The time left: the provider's figure where it gives one, else the typical duration of past
/// runs less the time elapsed (none once a job runs longer than usual).
fn eta(
    provider_eta_ms: Option<u64>,
    typical_ms: Option<u64>,
    elapsed_ms: u64,
) -> (Option<u64>, Option<EtaSource>) {
    match (provider_eta_ms, typical_ms) {
        (Some(e), _) => (Some(e), Some(EtaSource::Provider)),
        (None, Some(t)) if t > elapsed_ms => (Some(t - elapsed_ms), Some(EtaSource::PastRuns)),
        _ => (None, None),
    }
}

/// `400 ms`, `45 s`, `10 minutes`.
fn human_duration(d: Duration) -> String {
    match d.as_secs() {
        0 => format!("{} ms", d.as_millis()),
        s if s < 120 => format!("{s} s"),
        s => format!("{} minutes", s / 60),
    }
}

/// Everything a running job needs, moved into its task.
struct RunningJob {
    http: reqwest::Client,
    state: Arc<ImageState>,
    options: ImageOptions,
    history: Arc<History>,
    target: Target,
    cancel: CancellationToken,
    job: ImageJob,
    /// The source picture's `data:` URL (image-to-image), sent with the request only.
    source: Option<String>,
}

enum End {
    Done(images::Output),
    Failed(AppError),
    Cancelled,
}

impl RunningJob {
    async fn save(&mut self) {
        self.job.updated_at = crate::history::now_ms();
        let (h, job) = (self.history.clone(), self.job.clone());
        if let Err(e) = blocking(move || h.update_image_job(&job)).await {
            log::error!("could not save image job {}: {e}", self.job.id);
        }
    }

    fn elapsed_ms(&self) -> u64 {
        (crate::history::now_ms() - self.job.created_at).max(0) as u64
    }

    async fn run(mut self, mut sink: ImageSink) -> ImageJob {
        let started = Instant::now();
        sink(ImageEvent::Started {
            job_id: self.job.id.clone(),
            provider: self.job.provider.clone(),
        });
        let what = self.job.request.what();
        let limit = if self.job.request.is_video() {
            self.options.video_timeout
        } else {
            self.options.job_timeout
        };
        let deadline = tokio::time::sleep(limit);
        tokio::pin!(deadline);
        let cancel = self.cancel.clone();
        let timed_out = AppError::new(
            ErrorCode::Timeout,
            format!(
                "{} did not finish the {what} in {}. The job may still finish there; Switchboard stopped waiting.",
                self.target.who,
                human_duration(limit)
            ),
        );
        let typical = {
            let (h, model, provider) = (
                self.history.clone(),
                self.job.request.model.clone(),
                self.job.provider.clone().unwrap_or_default(),
            );
            blocking(move || h.image_job_durations(&model, &provider, 20))
                .await
                .map(typical_ms)
                .unwrap_or(None)
        };
        let end = tokio::select! {
            end = self.work(&mut sink, typical) => end,
            _ = cancel.cancelled() => End::Cancelled,
            _ = &mut deadline => End::Failed(timed_out),
        };
        if let End::Cancelled = end {
            images::cancel(&self.http, &self.target, &self.job.provider_job).await;
        }
        match end {
            // The pictures' downloads get a time limit of their own.
            End::Done(out) => {
                match tokio::time::timeout(self.options.download_timeout, self.keep(out)).await {
                    Ok(Ok(())) => self.job.status = JobStatus::Complete,
                    Ok(Err(e)) => {
                        self.job.status = JobStatus::Error;
                        self.job.error = Some(e);
                    }
                    Err(_) => {
                        self.job.status = JobStatus::Error;
                        self.job.error = Some(AppError::new(
                        ErrorCode::Timeout,
                        format!(
                            "The {what} from {} did not arrive in {}. The job is done there; try again later.",
                            self.target.who,
                            human_duration(self.options.download_timeout)
                        ),
                    ));
                    }
                }
            }
            End::Failed(e) => {
                self.job.status = JobStatus::Error;
                self.job.error = Some(e.without_secret(&self.target.secret));
            }
            End::Cancelled => self.job.status = JobStatus::Cancelled,
        }
        // A resumed job counts from its creation; a fresh one from sending.
        self.job.total_ms =
            Some((self.elapsed_ms() as f64).max(started.elapsed().as_secs_f64() * 1000.0));
        self.save().await;
        self.record().await;
        self.state.running().remove(&self.job.id);
        sink(ImageEvent::Finished {
            job: self.job.clone(),
        });
        self.job
    }

    /// Sends (unless resuming), then polls until the job ends.
    async fn work(&mut self, sink: &mut ImageSink, typical: Option<u64>) -> End {
        if self.job.provider_job.poll_url.is_none() {
            let mut request = self.job.request.clone();
            if self.source.is_some() {
                request.source = self.source.clone();
            }
            match images::submit(&self.http, &self.target, &request).await {
                Err((e, rid)) => {
                    self.job.request_id = rid;
                    return End::Failed(e);
                }
                Ok((submitted, rid)) => {
                    self.job.request_id = rid;
                    match submitted {
                        Submitted::Done(out) => return End::Done(out),
                        Submitted::Job(pj) => {
                            self.job.provider_job = pj;
                            self.job.status = JobStatus::Queued;
                            // Saved before waiting: a crash from here on resumes the job.
                            self.save().await;
                        }
                    }
                }
            }
        }
        let mut transient = 0;
        loop {
            match images::poll(&self.http, &self.target, &self.job.provider_job).await {
                Ok(Poll::Done(out)) => return End::Done(out),
                Ok(Poll::Failed(e)) => return End::Failed(e),
                Ok(Poll::Cancelled) => return End::Cancelled,
                Ok(Poll::Waiting {
                    status,
                    running,
                    progress,
                    queue_position,
                    eta_ms: provider_eta,
                }) => {
                    transient = 0;
                    let new_status = if running {
                        JobStatus::Running
                    } else {
                        JobStatus::Queued
                    };
                    let changed = new_status != self.job.status
                        || self.job.provider_status.as_deref() != Some(status.as_str());
                    self.job.status = new_status;
                    self.job.provider_status = Some(status.clone());
                    self.job.progress = progress;
                    if changed {
                        self.save().await;
                    }
                    let elapsed_ms = self.elapsed_ms();
                    let (eta_ms, eta_source) = eta(provider_eta, typical, elapsed_ms);
                    sink(ImageEvent::Progress {
                        status: new_status,
                        provider_status: Some(status),
                        progress,
                        queue_position,
                        elapsed_ms,
                        eta_ms,
                        eta_source,
                    });
                }
                // A poll that fails on the way (network, 5xx) is tried again a few times.
                Err(e)
                    if transient < 3
                        && matches!(
                            e.code,
                            ErrorCode::Network | ErrorCode::ServerError | ErrorCode::Timeout
                        ) =>
                {
                    transient += 1;
                }
                Err(e) => return End::Failed(e),
            }
            tokio::time::sleep(self.options.poll_interval).await;
        }
    }

    /// Fetches, checks and keeps the pictures; the seed and what the provider bills.
    async fn keep(&mut self, out: images::Output) -> AppResult<()> {
        let (what, video) = (self.job.request.what(), self.job.request.is_video());
        if out.flagged {
            return Err(AppError::new(
                ErrorCode::ContentFlagged,
                format!(
                    "{}'s safety filter flagged this {what}, so there is nothing to show. Change the prompt and try again.",
                    self.target.who
                ),
            ));
        }
        if out.pictures.is_empty() {
            return Err(AppError::new(
                ErrorCode::BadResponse,
                format!("{} finished the job but sent no {what}.", self.target.who),
            ));
        }
        let max_bytes = if video {
            self.options.max_video_bytes
        } else {
            self.options.max_bytes
        };
        if let Some(seed) = out.seed {
            self.job.seed = Some(seed);
        }
        if let Some((units, unit)) = out.billed {
            self.job.billed_units = Some(units);
            self.job.billed_unit = Some(unit);
        }
        let mut kept = Vec::new();
        for p in &out.pictures {
            let bytes = images::fetch_picture(
                &self.http,
                &self.state.open,
                &self.target,
                p,
                max_bytes,
                what,
            )
            .await?;
            if let Picture::Bytes(_) = p {
                if bytes.len() > max_bytes {
                    return Err(crate::hf::too_large(&self.target.who, max_bytes));
                }
            }
            let dir = self.state.dir.clone();
            let who = self.target.who.clone();
            kept.push(
                blocking(move || {
                    if video {
                        images::store_video(&dir, &bytes, &who)
                    } else {
                        images::store(&dir, &bytes, &who)
                    }
                })
                .await?,
            );
        }
        self.job.images = kept;
        // No image prices are known to the app yet: the cost stays unknown, never $0.
        self.job.cost = self
            .job
            .unit_price
            .zip(self.job.billed_units)
            .map(|(p, u)| p * u);
        Ok(())
    }

    /// One ledger row for the job.
    async fn record(&self) {
        let j = &self.job;
        let row = CallRow {
            id: 0,
            at: crate::history::now_ms(),
            kind: if j.request.is_video() {
                CallKind::Video
            } else {
                CallKind::Image
            },
            model: Some(j.request.model.clone()),
            provider: j.provider.clone(),
            billing: j.billing,
            bill_to: (j.billing == Billing::Org)
                .then(|| j.request.bill_to.clone())
                .flatten(),
            tokens_in: 0,
            tokens_out: 0,
            usage_estimated: false,
            price: None,
            cost: j.cost,
            ttft_ms: None,
            total_ms: j.total_ms,
            status: match j.status {
                JobStatus::Complete => "complete",
                JobStatus::Cancelled => "stopped",
                _ => "error",
            }
            .into(),
            error_code: j.error.as_ref().map(|e| e.code),
            request_id: j.request_id.clone(),
            conversation_id: None,
            message_id: None,
            rate_limit: None,
            router_cost: None,
            conversation_billed: None,
            conversation_billed_requests: None,
        };
        let h = self.history.clone();
        if let Err(e) = blocking(move || h.record_call(&row)).await {
            log::error!("could not record image job {} in the ledger: {e}", j.id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_time_left_is_the_providers_figure_else_past_runs_and_never_negative() {
        assert_eq!(
            typical_ms(vec![1000.0, 9000.0]),
            None,
            "two runs are too few"
        );
        assert_eq!(typical_ms(vec![9000.0, 1000.0, 4000.0]), Some(4000));
        assert_eq!(
            eta(Some(12_000), Some(60_000), 5_000),
            (Some(12_000), Some(EtaSource::Provider))
        );
        assert_eq!(
            eta(None, Some(60_000), 5_000),
            (Some(55_000), Some(EtaSource::PastRuns))
        );
        assert_eq!(
            eta(None, Some(60_000), 61_000),
            (None, None),
            "longer than usual: no guess"
        );
        assert_eq!(eta(None, None, 5_000), (None, None));
    }

    #[test]
    fn the_http_clients_protocols_are_known() {
        assert_eq!(images::protocol("fal-ai"), Some(images::Protocol::Fal));
        assert!(images::protocol("groq").is_none());
    }
}
