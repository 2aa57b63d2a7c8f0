//! The offline history as a service: opened on a thread of its own at start-up (a large
//! database never delays the window; whoever needs it waits for the opening), and what the
//! history commands do. Files are chosen by the app (system dialogs); this module reads and
//! writes the paths it is given.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Condvar, Mutex};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::Services;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::history::{export, now_ms, History, ImportReport};

/// Whether the history works, and if not, why.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct HistoryStatus {
    pub available: bool,
    pub read_only: bool,
    pub error: Option<AppError>,
    pub path: String,
}

#[derive(Debug, Clone, Serialize, TS)]
#[ts(export)]
pub struct HistoryFacets {
    pub models: Vec<String>,
    pub providers: Vec<String>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ExportFormat {
    Markdown,
    Json,
}

/// The history, or why it is missing (damaged, newer version…): the app runs on without it.
pub struct HistorySlot {
    slot: Arc<(Mutex<Option<Opened>>, Condvar)>,
    /// Turns true once the slot is filled: async callers wait on it without parking a thread.
    ready: tokio::sync::watch::Receiver<bool>,
    pub path: PathBuf,
}

type Opened = Result<Arc<History>, AppError>;

impl HistorySlot {
    /// Starts opening the history at `path` on a thread of its own.
    pub fn open(path: PathBuf) -> Self {
        let p = path.clone();
        Self::open_with(path, move || History::open(&p))
    }

    /// Starts `open` on a thread of its own; the slot holds what it gives.
    pub fn open_with(
        path: PathBuf,
        open: impl FnOnce() -> AppResult<History> + Send + 'static,
    ) -> Self {
        let slot: Arc<(Mutex<Option<Opened>>, Condvar)> = Arc::default();
        let (tx, ready) = tokio::sync::watch::channel(false);
        let s = slot.clone();
        std::thread::spawn(move || {
            let started = std::time::Instant::now();
            let opened = open().map(Arc::new);
            match &opened {
                Ok(_) => log::info!("history opened in {:?}", started.elapsed()),
                Err(e) => log::error!("history unavailable: {e}"),
            }
            let (lock, cv) = &*s;
            *lock.lock().unwrap_or_else(|e| e.into_inner()) = Some(opened);
            cv.notify_all();
            let _ = tx.send(true);
        });
        Self { slot, ready, path }
    }

    fn opened(&self) -> Opened {
        let (lock, ready) = &*self.slot;
        let mut g = lock.lock().unwrap_or_else(|e| e.into_inner());
        while g.is_none() {
            g = ready.wait(g).unwrap_or_else(|e| e.into_inner());
        }
        g.clone().expect("set above")
    }

    /// The history, waiting for it to be opened; the reason when it could not be. Blocks the
    /// thread: from async code use [`Self::wait`].
    pub fn get(&self) -> AppResult<Arc<History>> {
        self.opened()
    }

    /// [`Self::get`] for async code: waits for the opening without parking a runtime worker.
    pub async fn wait(&self) -> AppResult<Arc<History>> {
        let mut ready = self.ready.clone();
        if ready.wait_for(|r| *r).await.is_err() {
            // The opening thread ended without a result (it panicked).
            let filled = self
                .slot
                .0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .is_some();
            if !filled {
                return Err(AppError::new(
                    ErrorCode::HistoryUnavailable,
                    "The history could not be opened.",
                ));
            }
        }
        self.opened()
    }
}

/// Writes an export; a full disk has its own message.
pub fn write_file(path: &Path, text: &str) -> AppResult<()> {
    std::fs::write(path, text).map_err(|e| {
        if e.raw_os_error() == Some(28) {
            AppError::new(
                ErrorCode::DiskFull,
                "The disk is full: the file was not written.",
            )
        } else {
            AppError::io("write the file", &e)
        }
    })
}

/// The text of an export of one conversation, and the file name it suggests.
pub struct ExportText {
    pub text: String,
    pub file_name: String,
    /// The save dialog's filter: its name and extension.
    pub filter: (&'static str, &'static str),
}

impl Services {
    /// Runs `f` on the history on a blocking thread (SQLite calls block), once it is open; the
    /// runtime's workers stay free for everything else, live streams included.
    pub async fn history_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&History) -> AppResult<T> + Send + 'static,
    ) -> AppResult<T> {
        let history = self.history.wait().await?;
        tokio::task::spawn_blocking(move || f(&history))
            .await
            .map_err(|e| AppError::internal(format!("a history task failed: {e}")))?
    }

    pub async fn history_status(&self) -> HistoryStatus {
        let opened = self.history.wait().await;
        HistoryStatus {
            available: opened.is_ok(),
            read_only: opened.as_ref().is_ok_and(|x| x.is_read_only()),
            error: opened.err(),
            path: self.history.path.display().to_string(),
        }
    }

    pub fn history_facets(&self) -> AppResult<HistoryFacets> {
        let (models, providers) = self.history.get()?.facets()?;
        Ok(HistoryFacets { models, providers })
    }

    /// Deletes a conversation for good (from the trash), and the files of its attached
    /// pictures that nothing else names.
    pub async fn history_delete_forever(&self, id: String) -> AppResult<()> {
        let dir = self.images.dir().to_path_buf();
        self.history_blocking(move |h| {
            for file in h.delete_forever(&id)? {
                if crate::service::images::is_kept_name(&file) {
                    if let Err(e) = std::fs::remove_file(dir.join(&file)) {
                        if e.kind() != std::io::ErrorKind::NotFound {
                            log::warn!("could not delete an attached picture: {e}");
                        }
                    }
                }
            }
            Ok(())
        })
        .await
    }

    /// One conversation as Markdown or JSON.
    pub fn history_export_text(&self, id: &str, format: ExportFormat) -> AppResult<ExportText> {
        let c = self.history.get()?.get(id)?;
        Ok(match format {
            ExportFormat::Markdown => ExportText {
                text: export::to_markdown(&c),
                file_name: export::file_name(&c.summary.title, "md"),
                filter: ("Markdown", "md"),
            },
            ExportFormat::Json => ExportText {
                file_name: export::file_name(&c.summary.title, "json"),
                text: export::to_json(vec![c], now_ms()),
                filter: ("JSON", "json"),
            },
        })
    }

    /// Everything, as one JSON backup.
    pub fn history_export_all_text(&self) -> AppResult<String> {
        let history = self.history.get()?;
        let images = crate::service::images::export_images(&history, self.images.dir())?;
        let conversations = history.all()?;
        let attachments =
            crate::service::images::export_attachments(&conversations, self.images.dir());
        let embeddings = history.embeddings(u32::MAX)?;
        let runs = history.speech_runs(u32::MAX)?;
        let media = crate::service::speech::export_media(&runs, &self.media_dir());
        Ok(export::to_json_full(
            conversations,
            images,
            attachments,
            embeddings,
            export::Speech { runs, media },
            now_ms(),
        ))
    }

    /// Imports an export file (one conversation or a full backup); duplicates are skipped.
    /// The file is read and imported on a blocking thread.
    pub async fn history_import_file(&self, path: &Path) -> AppResult<ImportReport> {
        let path = path.to_path_buf();
        let dir = self.images.dir().to_path_buf();
        let media = self.media_dir();
        self.history_blocking(move |history| {
            let file = export::read_file(&path)?;
            let mut report = history.import(&file.conversations)?;
            (report.pictures, report.videos) =
                crate::service::images::import_images(history, &dir, &file.images)?;
            report.attachments =
                crate::service::images::import_attachments(&dir, &file.attachments)?;
            for e in &file.embeddings {
                let sizes_agree = e.vectors.len() == e.sentences.len()
                    && e.vectors.iter().all(|v| v.len() == e.vectors[0].len());
                if !sizes_agree {
                    log::warn!(
                        "import: embedding run {} has mismatched vectors; skipped",
                        e.id
                    );
                    continue;
                }
                if history.insert_embedding(e)? {
                    report.embeddings += 1;
                }
            }
            // A run comes back when its audio does (or is already kept here).
            let kept = crate::service::speech::import_media(&media, &file.media)?;
            for r in &file.speech {
                let present = kept.contains(&r.audio.file)
                    || (crate::speech::is_kept_name(&r.audio.file)
                        && media.join(&r.audio.file).exists());
                if !present {
                    log::warn!("import: speech run {} has no audio; skipped", r.id);
                    continue;
                }
                if history.insert_speech(r)? {
                    report.speech += 1;
                }
            }
            Ok(report)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// While the history takes long to open, a call that waits for it leaves the runtime free:
    /// on a runtime with a single thread, another task still runs meanwhile.
    #[test]
    fn waiting_for_the_history_parks_no_runtime_worker() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("history.sqlite3");
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let p = path.clone();
        let slot = Arc::new(HistorySlot::open_with(path, move || {
            let _ = gate.recv();
            History::open(&p)
        }));
        let (done_tx, done_rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let waiting = tokio::spawn({
                    let slot = slot.clone();
                    async move { slot.wait().await.map(|_| ()) }
                });
                // Another command (or a live stream) on the same runtime gets to run.
                let other = tokio::spawn(async { "other ran" });
                let ran = other.await.unwrap();
                release.send(()).unwrap();
                let opened = waiting.await.unwrap();
                done_tx.send((ran, opened)).unwrap();
            });
        });
        let (ran, opened) = done_rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the runtime was parked by the wait for the history");
        assert_eq!(ran, "other ran");
        opened.unwrap();
    }
}
