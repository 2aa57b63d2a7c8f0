//! Embedding runs in the history: the sentences and the vectors the provider returned, kept so
//! the similarity matrix can be shown again offline (it is computed from them, never stored).

use rusqlite::{params, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::{db_error, History};
use crate::call::{Billing, CallMode};
use crate::error::AppResult;

/// One feature-extraction call as kept: what went in and what came back.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbeddingRecord {
    pub id: String,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub created_at: i64,
    pub model: String,
    pub provider: String,
    pub mode: CallMode,
    pub billing: Billing,
    pub sentences: Vec<String>,
    /// One per sentence, as the provider returned it (pooled when it returned token vectors).
    pub vectors: Vec<Vec<f32>>,
    /// USD, when a price is known; `None` is "unknown", never $0.
    pub cost: Option<f64>,
    /// Tokens the provider reported, if it did.
    #[ts(type = "number | null")]
    pub tokens: Option<u64>,
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

const COLS: &str =
    "id, created_at, model, provider, mode, billing, sentences, vectors, cost, tokens, request_id, total_ms";

fn bad_json(i: usize, e: serde_json::Error) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e))
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<EmbeddingRecord> {
    let mode: String = r.get(4)?;
    let billing: String = r.get(5)?;
    let sentences: String = r.get(6)?;
    let vectors: String = r.get(7)?;
    Ok(EmbeddingRecord {
        id: r.get(0)?,
        created_at: r.get(1)?,
        model: r.get(2)?,
        provider: r.get(3)?,
        mode: parse_enum(&mode).unwrap_or(CallMode::Routed),
        billing: parse_enum(&billing).unwrap_or(Billing::HfCredits),
        sentences: serde_json::from_str(&sentences).map_err(|e| bad_json(6, e))?,
        vectors: serde_json::from_str(&vectors).map_err(|e| bad_json(7, e))?,
        cost: r.get(8)?,
        tokens: r.get::<_, Option<i64>>(9)?.map(|t| t.max(0) as u64),
        request_id: r.get(10)?,
        total_ms: r.get(11)?,
    })
}

impl History {
    /// Keeps a run; an id already kept is left as it is (import of a backup twice).
    pub fn insert_embedding(&self, e: &EmbeddingRecord) -> AppResult<bool> {
        let conn = self.writable()?;
        let n = conn
            .execute(
                &format!("INSERT OR IGNORE INTO embeddings ({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"),
                params![
                    e.id,
                    e.created_at,
                    e.model,
                    e.provider,
                    enum_str(&e.mode),
                    enum_str(&e.billing),
                    serde_json::to_string(&e.sentences).unwrap_or_default(),
                    serde_json::to_string(&e.vectors).unwrap_or_default(),
                    e.cost,
                    e.tokens.map(|t| t as i64),
                    e.request_id,
                    e.total_ms
                ],
            )
            .map_err(db_error)?;
        Ok(n > 0)
    }

    pub fn embedding(&self, id: &str) -> AppResult<Option<EmbeddingRecord>> {
        self.conn()
            .query_row(
                &format!("SELECT {COLS} FROM embeddings WHERE id = ?1"),
                [id],
                row,
            )
            .optional()
            .map_err(db_error)
    }

    /// The latest runs first.
    pub fn embeddings(&self, limit: u32) -> AppResult<Vec<EmbeddingRecord>> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare(&format!(
                "SELECT {COLS} FROM embeddings ORDER BY created_at DESC, id LIMIT ?1"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map([limit], row)
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error);
        rows
    }

    pub fn delete_embedding(&self, id: &str) -> AppResult<()> {
        self.writable()?
            .execute("DELETE FROM embeddings WHERE id = ?1", [id])
            .map_err(db_error)?;
        Ok(())
    }
}
