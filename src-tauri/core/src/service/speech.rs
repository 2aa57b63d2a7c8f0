//! The speech service: an audio file to a transcript, and text to speech, routed or with the
//! provider's own key exactly as the other tasks decide ([`crate::routing::Resolver::decide_for`]),
//! each call in the ledger (task `speech_to_text` or `text_to_speech`, cost unknown when no
//! price is known, its request id), the run and its audio kept offline.

use std::collections::HashSet;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Services;
use crate::call::{
    Billing, CallMode, JobStatus, ProviderJob, RouteDecision, Routing, Target as Choice, Task,
};
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::ledger::{CallKind, CallRow};
use crate::history::speech::{SpeechJob, SpeechRecord};
use crate::images::{job_failed, Failure, Target};
use crate::providers;
use crate::speech::{self, Poll, SpeechKind, StoredAudio, Submitted};

/// An audio file chosen (or dropped) and kept, ready to be sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AudioInfo {
    pub audio: StoredAudio,
    /// The file's own name, shown only.
    pub name: Option<String>,
}

/// What Speech to text sends: a kept audio file (see [`AudioInfo`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TranscribeRequest {
    pub model: String,
    pub routing: Routing,
    #[serde(default)]
    pub bill_to: Option<String>,
    /// The kept file's name (its hash and extension).
    pub audio: String,
    #[serde(default)]
    pub audio_name: Option<String>,
}

/// What Text to speech sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SynthesizeRequest {
    pub model: String,
    pub routing: Routing,
    #[serde(default)]
    pub bill_to: Option<String>,
    pub text: String,
    /// A voice, for models that have voices.
    #[serde(default)]
    pub voice: Option<String>,
}

/// The export formats of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum SpeechExportFormat {
    /// The transcript as text (with times per segment when there are segments).
    Txt,
    /// The whole run: text, segments, model, provider, audio file.
    Json,
    /// The audio itself (the speech made, or the file transcribed).
    Audio,
}

/// A file to write: its bytes, suggested name and dialog filter.
pub struct SpeechFile {
    pub bytes: Vec<u8>,
    pub name: String,
    pub filter: (&'static str, &'static str),
}

fn task(kind: SpeechKind) -> Task {
    match kind {
        SpeechKind::Stt => Task::SpeechToText,
        SpeechKind::Tts => Task::TextToSpeech,
    }
}

fn hub_task(kind: SpeechKind) -> &'static str {
    match kind {
        SpeechKind::Stt => "automatic-speech-recognition",
        SpeechKind::Tts => "text-to-speech",
    }
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    tokio::task::spawn_blocking(f)
        .await
        .unwrap_or_else(|e| Err(AppError::internal(format!("saving failed: {e}"))))
}

fn no_longer_kept() -> AppError {
    AppError::new(
        ErrorCode::InvalidRequest,
        "That audio is no longer kept: choose the file again.",
    )
}

/// Reads a kept audio file by its name (only names shaped like a hash are read).
pub fn read_kept(dir: &Path, file: &str) -> AppResult<Vec<u8>> {
    if !speech::is_kept_name(file) {
        return Err(no_longer_kept());
    }
    std::fs::read(dir.join(file)).map_err(|_| no_longer_kept())
}

/// The plain-text name of a run's file: `transcript-0123abcd.txt`.
fn stem(r: &SpeechRecord) -> String {
    let kind = match r.kind {
        SpeechKind::Stt => "transcript",
        SpeechKind::Tts => "speech",
    };
    format!("{kind}-{}", &r.id[..8.min(r.id.len())])
}

/// A run as a file to save.
pub fn export_run(
    r: &SpeechRecord,
    dir: &Path,
    format: SpeechExportFormat,
) -> AppResult<SpeechFile> {
    Ok(match format {
        SpeechExportFormat::Txt => SpeechFile {
            bytes: speech::transcript_text(&r.text, &r.segments).into_bytes(),
            name: format!("{}.txt", stem(r)),
            filter: ("Text", "txt"),
        },
        SpeechExportFormat::Json => SpeechFile {
            bytes: serde_json::to_vec_pretty(r).unwrap_or_default(),
            name: format!("{}.json", stem(r)),
            filter: ("JSON", "json"),
        },
        SpeechExportFormat::Audio => {
            let bytes = read_kept(dir, &r.audio.file)?;
            let ext = speech::sniff(&bytes).map_or("wav", |(_, e)| e);
            SpeechFile {
                bytes,
                name: format!("{}.{ext}", stem(r)),
                filter: ("Audio", ext),
            }
        }
    })
}

impl Services {
    /// The folder speech audio is kept in.
    pub fn media_dir(&self) -> PathBuf {
        self.config.data_dir.join("media")
    }

    /// Where a speech call chosen as `routing` would go and who would pay (no network).
    pub fn speech_route(
        &self,
        kind: SpeechKind,
        routing: &Routing,
        bill_to: Option<&str>,
    ) -> RouteDecision {
        self.resolver().decide_for(task(kind), routing, bill_to)
    }

    /// The providers the app can ask for `model` and this task: HF Inference, then each one the
    /// Hub's mapping lists (live or staging, for this task) that the app speaks, in
    /// [`speech::PROVIDERS`] order. Every provider the app speaks when the mapping cannot be
    /// read.
    pub async fn speech_providers(&self, kind: SpeechKind, model: &str) -> Vec<String> {
        let all = speech::providers(kind);
        let model = model.trim();
        if model.is_empty() {
            return all;
        }
        let Ok(mapping) = self.chat.mappings.get(&self.hf, model).await else {
            return all;
        };
        all.into_iter()
            .filter(|p| {
                p == "hf-inference"
                    || mapping.iter().any(|m| {
                        &m.provider == p
                            && matches!(m.status.as_str(), "live" | "staging")
                            && m.task.as_deref().is_none_or(|t| t == hub_task(kind))
                    })
            })
            .collect()
    }

    /// Keeps an audio file read from disk (the file dialog's choice): size-capped, checked by
    /// its content.
    pub async fn speech_audio_from_file(&self, path: PathBuf) -> AppResult<AudioInfo> {
        let dir = self.media_dir();
        blocking(move || {
            let len = std::fs::metadata(&path)
                .map_err(|e| AppError::io("read the file", &e))?
                .len();
            if len > speech::MAX_AUDIO_BYTES as u64 {
                return Err(too_big());
            }
            let bytes = std::fs::read(&path).map_err(|e| AppError::io("read the file", &e))?;
            let name = path.file_name().map(|n| n.to_string_lossy().to_string());
            keep(&dir, &bytes, name)
        })
        .await
    }

    /// Keeps an audio file dropped on the window (its bytes, base64).
    pub async fn speech_audio_put(
        &self,
        name: Option<String>,
        data: String,
    ) -> AppResult<AudioInfo> {
        let dir = self.media_dir();
        blocking(move || {
            let b64 = data
                .rsplit_once("base64,")
                .map_or(data.as_str(), |(_, d)| d);
            if b64.len() > speech::MAX_AUDIO_BYTES * 4 / 3 + 4 {
                return Err(too_big());
            }
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(b64.trim())
                .map_err(|_| AppError::new(ErrorCode::NotAudio, "That file could not be read."))?;
            if bytes.len() > speech::MAX_AUDIO_BYTES {
                return Err(too_big());
            }
            keep(&dir, &bytes, name)
        })
        .await
    }

    /// A kept audio file as a `data:` URL, to play in the app.
    pub async fn speech_audio_data(&self, file: String) -> AppResult<String> {
        let dir = self.media_dir();
        blocking(move || {
            let bytes = read_kept(&dir, &file)?;
            let mime = speech::sniff(&bytes).map_or("audio/wav", |(m, _)| m);
            Ok(format!(
                "data:{mime};base64,{}",
                base64::engine::general_purpose::STANDARD.encode(bytes)
            ))
        })
        .await
    }

    /// Sends a kept audio file for a transcript. The run is kept before the request goes out,
    /// with the provider's job before the app waits, and finished in place; a failure is kept
    /// too (with its error) and answered as the error.
    pub async fn transcribe(&self, mut request: TranscribeRequest) -> AppResult<SpeechRecord> {
        request.model = request.model.trim().to_string();
        let dir = self.media_dir();
        let file = request.audio.clone();
        let bytes = blocking(move || read_kept(&dir, &file)).await?;
        let Some((mime, _)) = speech::sniff(&bytes) else {
            return Err(AppError::new(
                ErrorCode::NotAudio,
                "That file is not audio Switchboard knows.",
            ));
        };
        let kind = SpeechKind::Stt;
        let call = self
            .speech_call(
                kind,
                &request.model,
                &request.routing,
                request.bill_to.as_deref(),
            )
            .await?;
        let record = SpeechRecord {
            audio: StoredAudio {
                file: request.audio,
                mime: mime.to_string(),
                bytes: bytes.len() as u64,
            },
            audio_name: request.audio_name,
            ..open_record(kind, request.model, &call, String::new(), None)
        };
        let _in_flight = self.speech_open(&record, &call, request.bill_to).await?;
        let started = Instant::now();
        let http = self.hf.http().clone();
        let t = &call.target;
        let result: Result<(Made, Option<String>), Failure> = async {
            let (submitted, rid) = speech::transcribe(&http, t, &bytes, mime).await?;
            let tr = match submitted {
                Submitted::Done(tr) => tr,
                Submitted::Job(job) => {
                    self.speech_queued(&record.id, &job)
                        .await
                        .map_err(|e| (e, rid.clone()))?;
                    self.wait(&http, t, &job, || speech::poll_transcript(&http, t, &job))
                        .await
                        .map_err(|e| (e, rid.clone()))?
                }
            };
            Ok((Made::Transcript(tr), rid))
        }
        .await;
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        answer(self.settle(record, &call, result, total_ms).await?)
    }

    /// Sends text to be spoken; keeps the run (before the request goes out, as
    /// [`Self::transcribe`] does) and the audio made.
    pub async fn synthesize(&self, mut request: SynthesizeRequest) -> AppResult<SpeechRecord> {
        request.model = request.model.trim().to_string();
        request.text = request.text.trim().to_string();
        if request.text.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Write the text to speak.",
            ));
        }
        if request.text.chars().count() > speech::MAX_TEXT_CHARS {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "Send at most {} characters at a time.",
                    speech::MAX_TEXT_CHARS
                ),
            ));
        }
        let voice = request
            .voice
            .as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_string);
        let kind = SpeechKind::Tts;
        let call = self
            .speech_call(
                kind,
                &request.model,
                &request.routing,
                request.bill_to.as_deref(),
            )
            .await?;
        let record = open_record(kind, request.model, &call, request.text, voice);
        let _in_flight = self.speech_open(&record, &call, request.bill_to).await?;
        let started = Instant::now();
        let http = self.hf.http().clone();
        let t = &call.target;
        let result: Result<(Made, Option<String>), Failure> = async {
            let (submitted, rid) =
                speech::synthesize(&http, t, &record.text, record.voice.as_deref()).await?;
            let out = match submitted {
                Submitted::Done(a) => a,
                Submitted::Job(job) => {
                    self.speech_queued(&record.id, &job)
                        .await
                        .map_err(|e| (e, rid.clone()))?;
                    self.wait(&http, t, &job, || speech::poll_audio(&http, t, &job))
                        .await
                        .map_err(|e| (e, rid.clone()))?
                }
            };
            let audio = self
                .keep_audio(t, &out)
                .await
                .map_err(|e| (e, rid.clone()))?;
            Ok((Made::Audio(audio), rid))
        }
        .await;
        let total_ms = started.elapsed().as_secs_f64() * 1000.0;
        answer(self.settle(record, &call, result, total_ms).await?)
    }

    /// The audio made, downloaded if it must be, checked by its bytes and kept in `media/`.
    async fn keep_audio(&self, t: &Target, out: &speech::AudioOut) -> AppResult<StoredAudio> {
        let http = self.hf.http().clone();
        let open = self.images.open_client().clone();
        let bytes = speech::fetch_audio(&http, &open, t, out).await?;
        let dir = self.media_dir();
        let what = format!("{}'s answer", t.who);
        blocking(move || speech::store(&dir, &bytes, &what)).await
    }

    /// Saves a run before its request goes out; it counts as in flight (not to be resumed by
    /// a start-up in this process) until the guard is dropped.
    async fn speech_open(
        &self,
        record: &SpeechRecord,
        call: &SpeechCall,
        bill_to: Option<String>,
    ) -> AppResult<InFlight> {
        let guard = InFlight::new(&self.speech_in_flight, &record.id);
        let h = self.history.wait().await?;
        let job = SpeechJob {
            provider_model: Some(call.target.model_id.clone()),
            bill_to,
            provider_job: None,
        };
        let r = record.clone();
        blocking(move || h.insert_speech_job(&r, &job).map(|_| ())).await?;
        Ok(guard)
    }

    async fn speech_queued(&self, id: &str, job: &ProviderJob) -> AppResult<()> {
        let h = self.history.wait().await?;
        let (id, job) = (id.to_string(), job.clone());
        blocking(move || h.speech_queued(&id, &job)).await
    }

    /// Ends a run: the ledger row, the run saved complete (its transcript or audio) or failed
    /// (its error); answers the run as saved (`Err` only when it could not be saved).
    async fn settle(
        &self,
        mut record: SpeechRecord,
        call: &SpeechCall,
        result: Result<(Made, Option<String>), Failure>,
        total_ms: f64,
    ) -> AppResult<SpeechRecord> {
        let rid = match &result {
            Ok((_, r)) | Err((_, r)) => r.clone(),
        };
        let outcome = result.as_ref().map(|_| ()).map_err(|(e, _)| e.clone());
        self.ledger(
            call,
            record.kind,
            &record.model,
            &outcome,
            rid.clone(),
            total_ms,
        )
        .await;
        record.request_id = rid;
        record.total_ms = Some(total_ms);
        match result {
            Ok((Made::Transcript(tr), _)) => {
                record.text = tr.text;
                record.segments = tr.segments;
                record.language = tr.language;
                record.status = JobStatus::Complete;
            }
            Ok((Made::Audio(a), _)) => {
                record.audio = a;
                record.status = JobStatus::Complete;
            }
            Err((e, _)) => {
                record.status = JobStatus::Error;
                record.error = Some(e);
            }
        }
        self.save_run(&record).await?;
        Ok(record)
    }

    /// At start-up: runs the provider was working on when the app ended (a fal queue job, a
    /// Replicate prediction) are polled again and finished; a run that had no job to come back
    /// to is marked interrupted. A run whose credential is missing now (signed out, the key
    /// removed) stays open for the next start-up. Answers the runs finished or marked, once
    /// all are.
    pub async fn speech_resume(&self) -> AppResult<Vec<SpeechRecord>> {
        let history = self.history.wait().await?;
        let open = {
            let h = history.clone();
            blocking(move || h.open_speech_runs()).await?
        };
        let mut marked = Vec::new();
        let mut resumed = Vec::new();
        for (mut run, job) in open {
            if lock(&self.speech_in_flight).contains(&run.id) {
                continue;
            }
            let poll = job.provider_job.clone().filter(|j| j.poll_url.is_some());
            let Some(pjob) = poll else {
                let what = match run.kind {
                    SpeechKind::Stt => "the transcript",
                    SpeechKind::Tts => "the speech",
                };
                run.status = JobStatus::Interrupted;
                run.error = Some(AppError::new(
                    ErrorCode::JobFailed,
                    format!("Switchboard closed before the provider answered, and this provider gives no job to come back to: {what} was not received. Send it again."),
                ));
                self.save_run(&run).await?;
                marked.push(run);
                continue;
            };
            let Some(protocol) = speech::protocol(run.kind, &run.provider) else {
                log::warn!("speech run {} names a provider it cannot ask", run.id);
                continue;
            };
            let model_id = job.provider_model.clone().unwrap_or(run.model.clone());
            let target = match self.provider_target(
                &run.provider,
                protocol,
                run.mode,
                &model_id,
                job.bill_to.as_deref(),
                "transcribe or speak",
            ) {
                Ok(t) => t,
                // The provider still holds the job, but no credential reaches it now.
                Err(e) => {
                    log::warn!("speech run {} not resumed for now: {e}", run.id);
                    continue;
                }
            };
            log::info!("resuming speech run {} at {}", run.id, run.provider);
            let call = SpeechCall {
                target,
                mode: run.mode,
                billing: run.billing,
                bill_to: (run.billing == Billing::Org)
                    .then_some(job.bill_to)
                    .flatten(),
            };
            resumed.push(self.speech_finish(run, call, pjob));
        }
        let finished = futures_util::future::join_all(resumed).await;
        marked.extend(finished.into_iter().filter_map(|r| match r {
            Ok(r) => Some(r),
            Err(e) => {
                log::warn!("a resumed speech run failed: {e}");
                None
            }
        }));
        Ok(marked)
    }

    /// Polls a resumed run's job to its end and saves the run (also when it failed).
    async fn speech_finish(
        &self,
        run: SpeechRecord,
        call: SpeechCall,
        job: ProviderJob,
    ) -> AppResult<SpeechRecord> {
        let _in_flight = InFlight::new(&self.speech_in_flight, &run.id);
        let http = self.hf.http().clone();
        let t = &call.target;
        let made = match run.kind {
            SpeechKind::Stt => self
                .wait(&http, t, &job, || speech::poll_transcript(&http, t, &job))
                .await
                .map(Made::Transcript),
            SpeechKind::Tts => {
                match self
                    .wait(&http, t, &job, || speech::poll_audio(&http, t, &job))
                    .await
                {
                    Ok(out) => self.keep_audio(t, &out).await.map(Made::Audio),
                    Err(e) => Err(e),
                }
            }
        };
        let total_ms = (crate::history::now_ms() - run.created_at).max(0) as f64;
        let result = made.map(|m| (m, None)).map_err(|e| (e, None));
        self.settle(run, &call, result, total_ms).await
    }

    /// The runs kept, latest first.
    pub async fn speech_list(&self, limit: u32) -> AppResult<Vec<SpeechRecord>> {
        let h = self.history.wait().await?;
        blocking(move || h.speech_runs(limit.clamp(1, 500))).await
    }

    /// A kept run as a file: its transcript (text or JSON) or its audio.
    pub async fn speech_export(
        &self,
        id: String,
        format: SpeechExportFormat,
    ) -> AppResult<SpeechFile> {
        let h = self.history.wait().await?;
        let dir = self.media_dir();
        blocking(move || {
            let r = h.speech(&id)?.ok_or_else(|| {
                AppError::new(
                    ErrorCode::InvalidRequest,
                    "That speech run is no longer kept.",
                )
            })?;
            export_run(&r, &dir, format)
        })
        .await
    }

    /// Forgets a run, and its audio file when no other run names it.
    pub async fn speech_delete(&self, id: String) -> AppResult<()> {
        let h = self.history.wait().await?;
        let dir = self.media_dir();
        blocking(move || {
            let Some(run) = h.speech(&id)? else {
                return Ok(());
            };
            h.delete_speech(&id)?;
            let file = &run.audio.file;
            if speech::is_kept_name(file) && !h.speech_audio_in_use(file)? {
                match std::fs::remove_file(dir.join(file)) {
                    Ok(()) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => return Err(AppError::io("delete the audio file", &e)),
                }
            }
            Ok(())
        })
        .await
    }

    async fn save_run(&self, record: &SpeechRecord) -> AppResult<()> {
        let h = self.history.wait().await?;
        let r = record.clone();
        blocking(move || h.update_speech(&r)).await
    }

    /// Polls a job (a fal queue job or a Replicate prediction) until it ends, or gives up after
    /// the job timeout and cancels it at the provider (fal `PUT …/cancel`, Replicate
    /// `urls.cancel`), so it stops running (and costing) for nobody.
    async fn wait<T, F, Fut>(
        &self,
        http: &reqwest::Client,
        t: &Target,
        job: &crate::call::ProviderJob,
        mut poll: F,
    ) -> AppResult<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = AppResult<Poll<T>>>,
    {
        let o = self.images.options();
        let deadline = Instant::now() + o.job_timeout;
        loop {
            match poll().await? {
                Poll::Done(x) => return Ok(x),
                Poll::Failed(e) => return Err(e),
                Poll::Cancelled => return Err(job_failed(&t.who, "the job was cancelled")),
                Poll::Waiting if Instant::now() >= deadline => {
                    if !crate::images::cancel(http, t, job).await {
                        log::warn!("{} did not take the cancel of a speech job", t.who);
                    }
                    return Err(AppError::new(
                        ErrorCode::Timeout,
                        format!(
                            "{} did not finish in {} minutes; Switchboard stopped waiting.",
                            t.who,
                            o.job_timeout.as_secs() / 60
                        ),
                    ));
                }
                Poll::Waiting => tokio::time::sleep(o.poll_interval).await,
            }
        }
    }

    /// Records the call in the ledger (never fails the call).
    async fn ledger(
        &self,
        call: &SpeechCall,
        kind: SpeechKind,
        model: &str,
        result: &Result<(), AppError>,
        request_id: Option<String>,
        total_ms: f64,
    ) {
        let Ok(history) = self.history.wait().await else {
            return;
        };
        let (status, error_code) = match result {
            Ok(()) => ("complete", None),
            Err(e) => ("error", Some(e.code)),
        };
        let row = CallRow {
            id: 0,
            at: crate::history::now_ms(),
            kind: match kind {
                SpeechKind::Stt => CallKind::SpeechToText,
                SpeechKind::Tts => CallKind::TextToSpeech,
            },
            model: Some(model.to_string()),
            provider: Some(call.target.provider.clone()),
            billing: call.billing,
            bill_to: call.bill_to.clone(),
            tokens_in: 0,
            tokens_out: 0,
            usage_estimated: false,
            price: None,
            // No speech prices are known to the app: the cost stays unknown, never $0.
            cost: None,
            ttft_ms: None,
            total_ms: Some(total_ms),
            status: status.into(),
            error_code,
            request_id,
            conversation_id: None,
            message_id: None,
            rate_limit: None,
            router_cost: None,
            conversation_billed: None,
            conversation_billed_requests: None,
        };
        if let Err(e) = blocking(move || history.record_call(&row)).await {
            log::error!("could not record a speech call in the ledger: {e}");
        }
    }

    /// Resolves where a speech call goes: the provider, the mode, who pays, the target.
    async fn speech_call(
        &self,
        kind: SpeechKind,
        model: &str,
        routing: &Routing,
        bill_to: Option<&str>,
    ) -> AppResult<SpeechCall> {
        let model = model.trim();
        if model.is_empty() {
            return Err(AppError::new(ErrorCode::InvalidRequest, "Choose a model."));
        }
        let resolver = self.resolver();
        resolver.check_enabled(routing)?;
        let route = resolver.decide_for(task(kind), routing, bill_to);
        let provider = self.speech_provider(kind, model, routing).await?;
        let mode = match routing.target() {
            Choice::Auto(_) => CallMode::Routed,
            _ => route.mode,
        };
        let listed = self
            .chat
            .mappings
            .get(&self.hf, model)
            .await
            .is_ok_and(|m| m.iter().any(|e| e.provider == provider));
        let model_id = if mode == CallMode::OwnKey && !listed {
            model.to_string()
        } else {
            self.image_model_id(model, &provider, mode).await?
        };
        let protocol = speech::protocol(kind, &provider)
            .ok_or_else(|| AppError::internal("no speech protocol"))?;
        let target = self
            .provider_target(
                &provider,
                protocol,
                mode,
                &model_id,
                bill_to,
                "transcribe or speak",
            )
            .map_err(|e| {
                if e.code == ErrorCode::NotSignedIn {
                    AppError::new(
                        ErrorCode::NotSignedIn,
                        "Sign in with a Hugging Face token to use speech through Hugging Face.",
                    )
                } else {
                    e
                }
            })?;
        let billing = if mode == CallMode::OwnKey {
            Billing::Provider
        } else {
            route.billing
        };
        Ok(SpeechCall {
            target,
            mode,
            billing,
            bill_to: (billing == Billing::Org)
                .then(|| bill_to.map(str::to_string))
                .flatten(),
        })
    }

    /// The pinned provider, or the first live one of the Hub's mapping the app can ask for
    /// this task (HF Inference when the Hub lists none).
    async fn speech_provider(
        &self,
        kind: SpeechKind,
        model: &str,
        routing: &Routing,
    ) -> AppResult<String> {
        match routing.target() {
            Choice::Provider(p) => {
                if speech::protocol(kind, p).is_none() {
                    let name = providers::get(p).map_or(p, |d| d.display.as_str());
                    let what = match kind {
                        SpeechKind::Stt => "transcripts",
                        SpeechKind::Tts => "speech",
                    };
                    return Err(AppError::new(
                        ErrorCode::ModelUnavailable,
                        format!(
                            "Switchboard cannot ask {name} for {what} yet: pick {}.",
                            speech::supported_words(kind)
                        ),
                    ));
                }
                Ok(p.to_string())
            }
            Choice::Endpoint(_) => Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Custom endpoints answer chat only; pick a provider for speech.",
            )),
            Choice::Auto(_) => {
                let prefs = providers::ProviderPrefs::load(&*self.store);
                let mapping = self
                    .chat
                    .mappings
                    .get(&self.hf, model)
                    .await
                    .unwrap_or_default();
                Ok(mapping
                    .iter()
                    .filter(|m| m.status == "live")
                    .filter(|m| m.task.as_deref().is_none_or(|t| t == hub_task(kind)))
                    .filter(|m| speech::protocol(kind, &m.provider).is_some())
                    .find(|m| prefs.pref(&m.provider).enabled)
                    .map_or_else(|| "hf-inference".to_string(), |m| m.provider.clone()))
            }
        }
    }
}

/// A run as the command answers it: the run when complete, its error when it failed (the run
/// with its error is kept all the same).
fn answer(r: SpeechRecord) -> AppResult<SpeechRecord> {
    match r.error {
        Some(e) if r.status == JobStatus::Error => Err(e),
        _ => Ok(r),
    }
}

/// What a run made: a transcript, or the audio kept.
enum Made {
    Transcript(speech::Transcript),
    Audio(StoredAudio),
}

/// A run before its request goes out: open (`submitting`), nothing received yet; text to
/// speech has no audio yet (an empty file name).
fn open_record(
    kind: SpeechKind,
    model: String,
    call: &SpeechCall,
    text: String,
    voice: Option<String>,
) -> SpeechRecord {
    SpeechRecord {
        id: uuid::Uuid::new_v4().to_string(),
        kind,
        created_at: crate::history::now_ms(),
        model,
        provider: call.target.provider.clone(),
        mode: call.mode,
        billing: call.billing,
        text,
        segments: Vec::new(),
        language: None,
        voice,
        audio: StoredAudio {
            file: String::new(),
            mime: String::new(),
            bytes: 0,
        },
        audio_name: None,
        cost: None,
        request_id: None,
        total_ms: None,
        status: JobStatus::Submitting,
        error: None,
    }
}

/// The runs these services are waiting on: a start-up resume leaves them alone.
pub type SpeechInFlight = Arc<Mutex<HashSet<String>>>;

/// A run counted in flight until the guard is dropped (the call ended, or its task was
/// dropped).
struct InFlight {
    set: SpeechInFlight,
    id: String,
}

impl InFlight {
    fn new(set: &SpeechInFlight, id: &str) -> Self {
        lock(set).insert(id.to_string());
        Self {
            set: set.clone(),
            id: id.to_string(),
        }
    }
}

fn lock(set: &SpeechInFlight) -> std::sync::MutexGuard<'_, HashSet<String>> {
    set.lock().unwrap_or_else(|e| e.into_inner())
}

impl Drop for InFlight {
    fn drop(&mut self) {
        lock(&self.set).remove(&self.id);
    }
}

/// Where a speech call goes, who pays.
struct SpeechCall {
    target: Target,
    mode: CallMode,
    billing: Billing,
    bill_to: Option<String>,
}

fn too_big() -> AppError {
    AppError::new(
        ErrorCode::TooLarge,
        format!(
            "That file is larger than {}: choose a shorter recording.",
            crate::hf::human_bytes(speech::MAX_AUDIO_BYTES)
        ),
    )
}

fn keep(dir: &Path, bytes: &[u8], name: Option<String>) -> AppResult<AudioInfo> {
    let audio = speech::store(dir, bytes, "That file")?;
    Ok(AudioInfo { audio, name })
}

/// Every speech run with its audio's bytes, for a full backup. Audio missing from disk is left
/// out (its run is still exported). Blocking.
pub fn export_media(
    runs: &[SpeechRecord],
    dir: &Path,
) -> Vec<crate::history::export::ExportedFile> {
    let mut files: Vec<&String> = runs
        .iter()
        .filter(|r| !r.status.is_open())
        .map(|r| &r.audio.file)
        .collect();
    files.sort();
    files.dedup();
    files
        .into_iter()
        .filter_map(|f| {
            let bytes = read_kept(dir, f).ok()?;
            Some(crate::history::export::ExportedFile {
                file: f.clone(),
                data: base64::engine::general_purpose::STANDARD.encode(bytes),
            })
        })
        .collect()
}

/// Brings back speech audio from a backup: each file is checked by its bytes and kept under its
/// own hash; one whose bytes do not match its name, or that is not audio, is skipped. Returns
/// the names kept. Blocking.
pub fn import_media(
    dir: &Path,
    files: &[crate::history::export::ExportedFile],
) -> AppResult<Vec<String>> {
    let mut kept = Vec::new();
    for f in files {
        let Ok(bytes) = base64::engine::general_purpose::STANDARD.decode(f.data.trim()) else {
            log::warn!("import: a speech audio file is not base64; skipped");
            continue;
        };
        match speech::store(dir, &bytes, "The backup") {
            Ok(a) if a.file == f.file => kept.push(a.file),
            Ok(_) => log::warn!("import: a speech audio file does not match its name; skipped"),
            Err(e) if e.code == ErrorCode::NotAudio => {
                log::warn!("import: a speech audio file is not audio; skipped")
            }
            Err(e) => return Err(e),
        }
    }
    Ok(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(kind: SpeechKind) -> SpeechRecord {
        SpeechRecord {
            id: "0123456789".into(),
            kind,
            created_at: 0,
            model: "m".into(),
            provider: "hf-inference".into(),
            mode: CallMode::Routed,
            billing: Billing::HfCredits,
            text: "a man said to the universe".into(),
            segments: vec![speech::Segment {
                start: Some(0.0),
                end: Some(4.08),
                text: "a man said to the universe".into(),
            }],
            language: Some("en".into()),
            voice: None,
            audio: StoredAudio {
                file: "x.wav".into(),
                mime: "audio/wav".into(),
                bytes: 3,
            },
            audio_name: Some("hello.wav".into()),
            cost: None,
            request_id: None,
            total_ms: None,
            status: JobStatus::Complete,
            error: None,
        }
    }

    #[test]
    fn a_transcript_is_exported_as_text_or_json() {
        let dir = tempfile::tempdir().unwrap();
        let f = export_run(&run(SpeechKind::Stt), dir.path(), SpeechExportFormat::Txt).unwrap();
        assert_eq!(f.name, "transcript-01234567.txt");
        assert_eq!(
            String::from_utf8(f.bytes).unwrap(),
            "[0:00.0 → 0:04.1] a man said to the universe\n"
        );
        let f = export_run(&run(SpeechKind::Stt), dir.path(), SpeechExportFormat::Json).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&f.bytes).unwrap();
        assert_eq!(v["segments"][0]["end"], 4.08);
        assert_eq!(v["kind"], "stt");
        // A name that is not a kept file's is never read.
        let e = export_run(&run(SpeechKind::Tts), dir.path(), SpeechExportFormat::Audio);
        assert!(e.is_err());
    }
}
