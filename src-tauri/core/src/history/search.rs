//! Full-text search over titles and every message (FTS5), newest first, with snippets whose
//! matches are marked by [`MARK_START`]/[`MARK_END`] (private-use characters the UI turns into
//! highlights without ever parsing HTML).

use rusqlite::{params, Connection};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use super::db_error;
use crate::call::Role;
use crate::error::AppResult;

pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct SearchQuery {
    pub text: String,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct SearchHit {
    pub conversation_id: String,
    pub title: String,
    /// The matching message; `None` when the title matched.
    #[ts(type = "number | null")]
    pub message_id: Option<i64>,
    pub role: Option<Role>,
    /// Text around the match, matches between U+E000 and U+E001.
    pub snippet: String,
    #[ts(type = "number")]
    pub updated_at: i64,
    pub model: Option<String>,
}

/// The user's words as an FTS5 query: every word must appear, each as a prefix, with FTS5
/// syntax characters neutralised (a query can never be an error).
///
/// The words are split by SQLite's own tokenizer, the one the indexes use: the messages' index
/// keeps no positions (schema v5), so each term must be a single token of it, never a phrase
/// ("foo_bar" and a Devanagari word with vowel signs are two tokens or more to `unicode61`).
pub fn fts_query(text: &str) -> Option<String> {
    let terms: Vec<String> = tokens(text)
        .into_iter()
        // A single character as a prefix matches most of the index (slow, and useless while
        // typing): it is searched as a whole word.
        .map(|w| {
            if w.chars().count() == 1 {
                format!("\"{w}\"")
            } else {
                format!("\"{w}\"*")
            }
        })
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// `text` split into tokens as the history's indexes split it (`unicode61 remove_diacritics 2`:
/// letters, digits and private-use characters; case and diacritics folded), in order. An
/// in-memory FTS5 table per thread does the splitting; should it ever fail, the words are
/// split on anything that is not a letter or digit.
fn tokens(text: &str) -> Vec<String> {
    use std::cell::RefCell;
    thread_local! {
        static TOKENIZER: RefCell<Option<Connection>> = const { RefCell::new(None) };
    }
    let by_sqlite = TOKENIZER.with(|cell| -> rusqlite::Result<Vec<String>> {
        let mut cell = cell.borrow_mut();
        if cell.is_none() {
            let conn = Connection::open_in_memory()?;
            conn.execute_batch(
                "CREATE VIRTUAL TABLE words USING fts5 (w, tokenize = 'unicode61 remove_diacritics 2');
                 CREATE VIRTUAL TABLE word_list USING fts5vocab (words, instance);",
            )?;
            *cell = Some(conn);
        }
        let conn = cell.as_ref().expect("set above");
        conn.execute("DELETE FROM words", [])?;
        conn.execute("INSERT INTO words (rowid, w) VALUES (1, ?1)", [text])?;
        let mut stmt = conn.prepare_cached("SELECT term FROM word_list ORDER BY offset")?;
        let words = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<String>>>()?;
        Ok(words)
    });
    by_sqlite.unwrap_or_else(|e| {
        log::warn!("splitting a search into words: {e}");
        text.split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect()
    })
}

pub fn search(conn: &Connection, q: &SearchQuery) -> AppResult<Vec<SearchHit>> {
    let Some(fts) = fts_query(&q.text) else {
        return Ok(Vec::new());
    };
    let limit = q.limit.unwrap_or(50).clamp(1, 500) as i64;
    let start = MARK_START.to_string();
    let end = MARK_END.to_string();
    let mut hits = Vec::new();

    // Titles first (no model or provider filter on them unless asked), in the sidebar's order
    // (pinned, then newest); only the 20 kept are highlighted. When many titles match (17,000
    // hold "data" at 100,000 conversations) the conversations are walked in that order along
    // the `conversations_list` index and checked against the set of matching titles, so SQLite
    // stops after 20 instead of sorting every match; when few do, the matches are looked up by
    // rowid and sorted (the `+` keep SQLite off the index, which it would walk to the end).
    if q.provider.is_none() {
        let matching: i64 = conn
            .prepare_cached(
                "SELECT count(*) FROM (SELECT 1 FROM titles_fts WHERE titles_fts MATCH ?1 LIMIT 1000)",
            )
            .and_then(|mut s| s.query_row([&fts], |r| r.get(0)))
            .map_err(db_error)?;
        let (deleted, order) = if matching >= 1000 {
            ("c.deleted_at", "c.pinned DESC, c.updated_at DESC")
        } else {
            ("+c.deleted_at", "+c.pinned DESC, +c.updated_at DESC")
        };
        let mut stmt = conn
            .prepare_cached(&format!(
                "SELECT c.id, c.title,
                        (SELECT highlight(titles_fts, 0, ?2, ?3) FROM titles_fts
                         WHERE titles_fts MATCH ?1 AND titles_fts.rowid = c.rowid),
                        c.updated_at, c.model
                 FROM conversations c
                 WHERE {deleted} IS NULL
                   AND c.rowid IN (SELECT rowid FROM titles_fts WHERE titles_fts MATCH ?1)
                   AND (?4 IS NULL OR c.model = ?4)
                 ORDER BY {order} LIMIT 20"
            ))
            .map_err(db_error)?;
        let rows = stmt
            .query_map(params![fts, start, end, q.model], |r| {
                Ok(SearchHit {
                    conversation_id: r.get(0)?,
                    title: r.get(1)?,
                    message_id: None,
                    role: None,
                    snippet: r.get(2)?,
                    updated_at: r.get(3)?,
                    model: r.get(4)?,
                })
            })
            .map_err(db_error)?;
        for h in rows {
            hits.push(h.map_err(db_error)?);
        }
    }

    let mut stmt = conn
        .prepare_cached(
            "SELECT m.conversation_id, c.title, m.id, m.role,
                    snippet(messages_fts, 0, ?2, ?3, '…', 16), c.updated_at, m.model
             FROM messages_fts
             JOIN messages m ON m.id = messages_fts.rowid
             JOIN conversations c ON c.id = m.conversation_id
             WHERE messages_fts MATCH ?1 AND c.deleted_at IS NULL
               AND (?4 IS NULL OR m.model = ?4)
               AND (?5 IS NULL OR EXISTS (SELECT 1 FROM messages a
                    WHERE a.conversation_id = m.conversation_id AND +a.provider = ?5))
             ORDER BY messages_fts.rowid DESC LIMIT ?6",
        )
        .map_err(db_error)?;
    let rows = stmt
        .query_map(params![fts, start, end, q.model, q.provider, limit], |r| {
            let role: String = r.get(3)?;
            Ok(SearchHit {
                conversation_id: r.get(0)?,
                title: r.get(1)?,
                message_id: Some(r.get(2)?),
                role: Some(match role.as_str() {
                    "assistant" => Role::Assistant,
                    "system" => Role::System,
                    _ => Role::User,
                }),
                snippet: r.get(4)?,
                updated_at: r.get(5)?,
                model: r.get(6)?,
            })
        })
        .map_err(db_error)?;
    for h in rows {
        hits.push(h.map_err(db_error)?);
    }
    Ok(hits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_prefix_terms_and_never_syntax() {
        assert_eq!(fts_query("  "), None);
        assert_eq!(fts_query("Deep learn"), Some("\"deep\"* \"learn\"*".into()));
        assert_eq!(
            fts_query("\"a\" OR (b*) NEAR"),
            Some("\"a\" \"or\"* \"b\" \"near\"*".into())
        );
        assert_eq!(
            fts_query("café-au-lait"),
            Some("\"cafe\"* \"au\"* \"lait\"*".into())
        );
        // As the index splits them: never a phrase of two tokens.
        assert_eq!(fts_query("foo_bar"), Some("\"foo\"* \"bar\"*".into()));
        assert_eq!(fts_query("नमस्ते"), Some("\"नमस\"* \"त\"".into()));
        assert_eq!(fts_query("a\u{E000}b"), Some("\"a\u{E000}b\"*".into()));
        assert_eq!(fts_query("***"), None);
        assert_eq!(fts_query("a bc"), Some("\"a\" \"bc\"*".into()));
    }
}
