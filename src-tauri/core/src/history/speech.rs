//! Speech runs in the history: transcripts of audio files and speech made from text, with the
//! audio kept in the data folder's `media/` (by the hash of its bytes), so both play and read
//! again offline.

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{db_error, History};
use crate::call::{Billing, CallMode};
use crate::error::AppResult;
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

const COLS: &str = "id, kind, created_at, model, provider, mode, billing, text, segments, language, voice, audio_file, audio_mime, audio_bytes, audio_name, cost, request_id, total_ms";

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
    })
}

impl History {
    /// Keeps a run; an id already kept is left as it is (import of a backup twice).
    pub fn insert_speech(&self, s: &SpeechRecord) -> AppResult<bool> {
        let conn = self.writable()?;
        let n = conn
            .execute(
                &format!("INSERT OR IGNORE INTO speech_runs ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"),
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
                    s.total_ms
                ],
            )
            .map_err(db_error)?;
        Ok(n > 0)
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
