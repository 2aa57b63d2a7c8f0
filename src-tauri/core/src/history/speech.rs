//! Speech runs in the history: transcripts of audio files and speech made from text, with the
//! audio kept in the data folder's `media/` (by the hash of its bytes), so both play and read
//! again offline. A run is kept from before its request goes out (`submitting`), with the
//! provider's job once it gave one (`queued`), so a restart can finish it
//! ([`crate::service::Services::speech_resume`]).

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{db_error, History};
use crate::call::{Billing, CallMode, JobStatus, ProviderJob};
use crate::error::{AppError, AppResult};
use crate::speech::{Segment, SpeechKind, StoredAudio};

/// One speech call as kept.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SpeechRecord {
    pub id: String,
    pub kind: SpeechKind,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub created_at: i64,
    pub model: String,
    pub provider: String,
    pub mode: CallMode,
    pub billing: Billing,
    /// The transcript (speech to text) or the text spoken (text to speech).
    pub text: String,
    /// The transcript's pieces with their times, where the provider gave them.
    #[serde(default)]
    pub segments: Vec<Segment>,
    pub language: Option<String>,
    pub voice: Option<String>,
    /// The audio sent (speech to text) or made (text to speech).
    pub audio: StoredAudio,
    /// The chosen file's name (speech to text), shown only.
    pub audio_name: Option<String>,
    /// USD, when a price is known; `None` is "unknown", never $0.
    pub cost: Option<f64>,
    pub request_id: Option<String>,
    pub total_ms: Option<f64>,
    /// Where the run stands: open (`submitting`, `queued`, `running`) while the provider works,
    /// then `complete`, `error` or `interrupted`. Older runs and backups read as `complete`.
    #[serde(default = "complete")]
    pub status: JobStatus,
    /// What went wrong, in plain words (`error`, `interrupted`).
    #[serde(default)]
    pub error: Option<AppError>,
}

fn complete() -> JobStatus {
    JobStatus::Complete
}

/// What a run still open needs to be finished after a restart (never shown, never exported).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SpeechJob {
    /// The model id sent to the provider.
    pub provider_model: Option<String>,
    /// The organization the call was billed to, as asked.
    pub bill_to: Option<String>,
    /// The provider's job, once it gave one.
    pub provider_job: Option<ProviderJob>,
}

fn enum_str<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn parse_enum<T: for<'de> Deserialize<'de>>(s: &str) -> Option<T> {
    serde_json::from_value(serde_json::Value::String(s.to_string())).ok()
}

const COLS: &str = "id, kind, created_at, model, provider, mode, billing, text, segments, language, voice, audio_file, audio_mime, audio_bytes, audio_name, cost, request_id, total_ms, status, error, provider_model, bill_to, provider_job";

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

fn parse<T: for<'de> Deserialize<'de>>(s: Option<String>) -> Option<T> {
    serde_json::from_str(&s?).ok()
}

fn job_row(r: &rusqlite::Row) -> rusqlite::Result<(SpeechRecord, SpeechJob)> {
    Ok((
        row(r)?,
        SpeechJob {
            provider_model: r.get(20)?,
            bill_to: r.get(21)?,
            provider_job: parse(r.get(22)?),
        },
    ))
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<SpeechRecord> {
    let kind: String = r.get(1)?;
    let mode: String = r.get(5)?;
    let billing: String = r.get(6)?;
    let segments: String = r.get(8)?;
    Ok(SpeechRecord {
        id: r.get(0)?,
        kind: parse_enum(&kind).unwrap_or(SpeechKind::Stt),
        created_at: r.get(2)?,
        model: r.get(3)?,
        provider: r.get(4)?,
        mode: parse_enum(&mode).unwrap_or(CallMode::Routed),
        billing: parse_enum(&billing).unwrap_or(Billing::HfCredits),
        text: r.get(7)?,
        segments: serde_json::from_str(&segments).unwrap_or_default(),
        language: r.get(9)?,
        voice: r.get(10)?,
        audio: StoredAudio {
            file: r.get(11)?,
            mime: r.get(12)?,
            bytes: r.get::<_, i64>(13)?.max(0) as u64,
        },
        audio_name: r.get(14)?,
        cost: r.get(15)?,
        request_id: r.get(16)?,
        total_ms: r.get(17)?,
        status: JobStatus::parse(&r.get::<_, String>(18)?),
        error: parse(r.get(19)?),
    })
}

impl History {
    /// Keeps a run; an id already kept is left as it is (import of a backup twice).
    pub fn insert_speech(&self, s: &SpeechRecord) -> AppResult<bool> {
        self.insert_speech_job(s, &SpeechJob::default())
    }

    /// Keeps a run with what it needs to be finished after a restart.
    pub fn insert_speech_job(&self, s: &SpeechRecord, job: &SpeechJob) -> AppResult<bool> {
        let conn = self.writable()?;
        let n = conn
            .execute(
                &format!("INSERT OR IGNORE INTO speech_runs ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23)"),
                params![
                    s.id,
                    enum_str(&s.kind),
                    s.created_at,
                    s.model,
                    s.provider,
                    enum_str(&s.mode),
                    enum_str(&s.billing),
                    s.text,
                    serde_json::to_string(&s.segments).unwrap_or_else(|_| "[]".into()),
                    s.language,
                    s.voice,
                    s.audio.file,
                    s.audio.mime,
                    s.audio.bytes as i64,
                    s.audio_name,
                    s.cost,
                    s.request_id,
                    s.total_ms,
                    s.status.as_str(),
                    s.error.as_ref().map(json),
                    job.provider_model,
                    job.bill_to,
                    job.provider_job.as_ref().map(json)
                ],
            )
            .map_err(db_error)?;
        Ok(n > 0)
    }

    /// The provider took the run as a job: it is saved, to be polled again after a restart.
    pub fn speech_queued(&self, id: &str, job: &ProviderJob) -> AppResult<()> {
        self.writable()?
            .execute(
                "UPDATE speech_runs SET status = 'queued', provider_job = ?2 WHERE id = ?1",
                params![id, json(job)],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// Saves where a run ended (or stands): its status, error, text, segments, audio, figures.
    pub fn update_speech(&self, s: &SpeechRecord) -> AppResult<()> {
        self.writable()?
            .execute(
                "UPDATE speech_runs SET status = ?2, error = ?3, text = ?4, segments = ?5, language = ?6,
                 audio_file = ?7, audio_mime = ?8, audio_bytes = ?9, cost = ?10, request_id = ?11,
                 total_ms = ?12 WHERE id = ?1",
                params![
                    s.id,
                    s.status.as_str(),
                    s.error.as_ref().map(json),
                    s.text,
                    serde_json::to_string(&s.segments).unwrap_or_else(|_| "[]".into()),
                    s.language,
                    s.audio.file,
                    s.audio.mime,
                    s.audio.bytes as i64,
                    s.cost,
                    s.request_id,
                    s.total_ms
                ],
            )
            .map_err(db_error)?;
        Ok(())
    }

    /// Runs still waiting on their provider (to resume at start-up), oldest first.
    pub fn open_speech_runs(&self) -> AppResult<Vec<(SpeechRecord, SpeechJob)>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLS} FROM speech_runs WHERE status IN ('submitting', 'queued', 'running') ORDER BY created_at, id"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map([], job_row)
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error);
        rows
    }

    pub fn speech(&self, id: &str) -> AppResult<Option<SpeechRecord>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLS} FROM speech_runs WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .map_err(db_error)
    }

    /// The latest runs first.
    pub fn speech_runs(&self, limit: u32) -> AppResult<Vec<SpeechRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLS} FROM speech_runs ORDER BY created_at DESC, id LIMIT ?1"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map([limit], row)
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error);
        rows
    }

    /// Whether any run still names this audio file.
    pub fn speech_audio_in_use(&self, file: &str) -> AppResult<bool> {
        self.conn()
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM speech_runs WHERE audio_file = ?1)",
                [file],
                |r| r.get(0),
            )
            .map_err(db_error)
    }

    pub fn delete_speech(&self, id: &str) -> AppResult<()> {
        self.writable()?
            .execute("DELETE FROM speech_runs WHERE id = ?1", [id])
            .map_err(db_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorCode;

    fn open_tts(id: &str, at: i64) -> SpeechRecord {
        SpeechRecord {
            id: id.into(),
            kind: SpeechKind::Tts,
            created_at: at,
            model: "hexgrad/Kokoro-82M".into(),
            provider: "fal-ai".into(),
            mode: CallMode::Routed,
            billing: Billing::HfCredits,
            text: "Hello".into(),
            segments: Vec::new(),
            language: None,
            voice: Some("af_heart".into()),
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

    #[test]
    fn a_run_is_kept_open_gets_its_job_and_is_finished_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let h = History::open(&dir.path().join("h.sqlite3")).unwrap();
        let job = SpeechJob {
            provider_model: Some("fal-ai/kokoro".into()),
            bill_to: Some("acme".into()),
            provider_job: None,
        };
        h.insert_speech_job(&open_tts("a", 1), &job).unwrap();
        h.insert_speech_job(&open_tts("b", 2), &SpeechJob::default())
            .unwrap();
        let open = h.open_speech_runs().unwrap();
        assert_eq!(open.len(), 2);
        assert_eq!(open[0].0, open_tts("a", 1));
        assert_eq!(open[0].1, job);
        assert_eq!(open[1].1, SpeechJob::default());

        let pj = ProviderJob {
            id: Some("req-1".into()),
            poll_url: Some("https://queue.fal.run/x/requests/req-1/status".into()),
            result_url: Some("https://queue.fal.run/x/requests/req-1".into()),
            cancel_url: None,
        };
        h.speech_queued("a", &pj).unwrap();
        let (run, kept) = h.open_speech_runs().unwrap().remove(0);
        assert_eq!(run.status, JobStatus::Queued);
        assert_eq!(kept.provider_job, Some(pj));
        assert_eq!(kept.bill_to.as_deref(), Some("acme"));

        let mut done = run;
        done.status = JobStatus::Complete;
        done.audio = StoredAudio {
            file: "ab.wav".into(),
            mime: "audio/wav".into(),
            bytes: 44,
        };
        done.request_id = Some("rid".into());
        done.total_ms = Some(1200.0);
        h.update_speech(&done).unwrap();
        assert_eq!(h.speech("a").unwrap().unwrap(), done);

        let mut failed = open_tts("b", 2);
        failed.status = JobStatus::Error;
        failed.error = Some(AppError::new(
            ErrorCode::JobFailed,
            "The job failed at fal: “CUDA out of memory”.",
        ));
        h.update_speech(&failed).unwrap();
        assert_eq!(h.speech("b").unwrap().unwrap(), failed);
        assert!(h.open_speech_runs().unwrap().is_empty());
        // The list shows both, newest first.
        let ids: Vec<_> = h
            .speech_runs(10)
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        assert_eq!(ids, ["b", "a"]);
    }

    #[test]
    fn a_run_from_an_older_backup_reads_as_complete() {
        let mut v = serde_json::to_value(open_tts("a", 1)).unwrap();
        let o = v.as_object_mut().unwrap();
        o.remove("status");
        o.remove("error");
        let r: SpeechRecord = serde_json::from_value(v).unwrap();
        assert_eq!(r.status, JobStatus::Complete);
        assert_eq!(r.error, None);
    }

    #[test]
    fn an_open_run_is_not_exported() {
        let mut done = open_tts("done", 2);
        done.status = JobStatus::Complete;
        let mut failed = open_tts("failed", 3);
        failed.status = JobStatus::Error;
        let runs = vec![open_tts("open", 1), done, failed];
        let text = super::super::export::to_json_full(
            Vec::new(),
            Vec::new(),
            Vec::new(),
            Vec::new(),
            super::super::export::Speech {
                runs,
                media: Vec::new(),
            },
            0,
        );
        let file = super::super::export::from_json(text.as_bytes()).unwrap();
        let ids: Vec<_> = file.speech.iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids, ["done", "failed"]);
    }
}
