//! Offline conversation history: SQLite (bundled, WAL, FTS5) in the data folder. No Tauri here.
//!
//! - Saved as it happens: the user's message before the request goes out, the answer while it
//!   streams ([`History::save_partial`], at least every half second), its end state last.
//! - An answer still marked `streaming` when the database is opened was cut by a crash: it
//!   becomes `interrupted`, with what was saved.
//! - Before a migration, the database is copied to `backups/` (`VACUUM INTO`, consistent even
//!   in WAL mode). A damaged file, or one from a newer version, is never touched.

pub mod embeddings;
pub mod export;
pub mod images;
pub mod ledger;
pub mod schema;
pub mod search;
pub mod sessions;
pub mod speech;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::call::{
    CallMode, CallResult, CallStats, ChatParams, ChatRequest, Outcome, Role, Routing,
};
use crate::error::{AppError, AppResult, ErrorCode};

pub use search::{SearchHit, SearchQuery};

/// Trashed conversations are deleted for good after this long.
pub const TRASH_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum MessageStatus {
    Complete,
    /// Being written (only while the app runs).
    Streaming,
    /// The user pressed Stop.
    Stopped,
    Error,
    /// The app ended (crash, kill) while the answer streamed.
    Interrupted,
}

impl MessageStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Complete => "complete",
            Self::Streaming => "streaming",
            Self::Stopped => "stopped",
            Self::Error => "error",
            Self::Interrupted => "interrupted",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "complete" => Self::Complete,
            "streaming" => Self::Streaming,
            "stopped" => Self::Stopped,
            "error" => Self::Error,
            _ => Self::Interrupted,
        }
    }
}

/// Where the next page of the sidebar starts: the last row's keys (see [`History::list_page`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ListCursor {
    /// The last row was pinned (always false in the trash).
    pub pinned: bool,
    /// Its `updated_at` (in the trash: its `deleted_at`), Unix milliseconds.
    #[ts(type = "number")]
    pub at: i64,
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ConversationSummary {
    pub id: String,
    pub title: String,
    /// `chat` or `compare`.
    pub kind: String,
    /// Unix milliseconds.
    #[ts(type = "number")]
    pub created_at: i64,
    #[ts(type = "number")]
    pub updated_at: i64,
    pub pinned: bool,
    #[ts(type = "number | null")]
    pub deleted_at: Option<i64>,
    pub model: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct StoredMessage {
    #[ts(type = "number")]
    pub id: i64,
    pub seq: u32,
    /// Compare sessions: which pane (model) the message belongs to; 0 in a chat.
    #[serde(default)]
    pub pane: u32,
    pub role: Role,
    pub content: String,
    pub reasoning: String,
    pub status: MessageStatus,
    #[ts(type = "number")]
    pub created_at: i64,
    pub model: Option<String>,
    pub provider: Option<String>,
    pub mode: Option<CallMode>,
    pub params: Option<ChatParams>,
    pub stats: Option<CallStats>,
    pub error: Option<AppError>,
    pub request_id: Option<String>,
    /// Pictures attached to the message: kept files in the images folder (schema v6).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub images: Vec<String>,
}

/// A whole conversation: what the sidebar shows, the settings to restore, every message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Conversation {
    #[serde(flatten)]
    pub summary: ConversationSummary,
    pub routing: Option<Routing>,
    pub system: String,
    pub params: Option<ChatParams>,
    pub bill_to: Option<String>,
    pub messages: Vec<StoredMessage>,
}

/// The start of an answer: the conversation (new when `None`) and what is sent.
pub struct AnswerStart<'a> {
    pub conversation_id: Option<&'a str>,
    pub request: &'a ChatRequest,
    pub mode: CallMode,
    /// The pane of a compare session (0 in a chat).
    pub pane: u32,
    /// `chat` or `compare`, for a new conversation.
    pub kind: &'a str,
}

pub struct History {
    conn: Mutex<Connection>,
    read_only: bool,
    path: PathBuf,
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// An SQLite failure, in the user's terms.
pub fn db_error(e: rusqlite::Error) -> AppError {
    use rusqlite::ErrorCode as C;
    if let rusqlite::Error::SqliteFailure(f, _) = &e {
        match f.code {
            C::DiskFull => {
                return AppError::new(
                    ErrorCode::DiskFull,
                    "The disk is full: the conversation could not be saved.",
                )
            }
            C::ReadOnly | C::CannotOpen | C::PermissionDenied => {
                return AppError::new(
                    ErrorCode::HistoryReadOnly,
                    format!("The history cannot be written: {e}"),
                )
            }
            C::DatabaseBusy | C::DatabaseLocked => {
                return AppError::new(
                    ErrorCode::HistoryBusy,
                    "The history is in use by another program (another copy of Switchboard?) and stayed locked: the change was not saved.",
                )
            }
            C::NotADatabase | C::DatabaseCorrupt => {
                return AppError::new(
                    ErrorCode::HistoryUnavailable,
                    format!("The history file is damaged: {e}"),
                )
            }
            _ => {}
        }
    }
    AppError::new(ErrorCode::Internal, format!("History database error: {e}"))
}

fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

fn from_json<T: for<'de> Deserialize<'de>>(s: Option<String>) -> Option<T> {
    s.and_then(|s| serde_json::from_str(&s).ok())
}

/// A title from the first user message: its first line, cut at a word near 60 characters.
pub fn title_from(text: &str) -> String {
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("New conversation");
    let line: String = line.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= 60 {
        return line;
    }
    let cut: String = line.chars().take(60).collect();
    let cut = match cut.rfind(' ') {
        Some(i) if i > 30 => &cut[..i],
        _ => &cut,
    };
    format!("{}…", cut.trim_end_matches([',', '.', ';', ':']))
}

const SUMMARY_COLS: &str = "id, title, kind, created_at, updated_at, pinned, deleted_at, model";

fn summary_row(r: &rusqlite::Row) -> rusqlite::Result<ConversationSummary> {
    Ok(ConversationSummary {
        id: r.get(0)?,
        title: r.get(1)?,
        kind: r.get(2)?,
        created_at: r.get(3)?,
        updated_at: r.get(4)?,
        pinned: r.get(5)?,
        deleted_at: r.get(6)?,
        model: r.get(7)?,
    })
}

const MESSAGE_COLS: &str = "id, seq, role, content, reasoning, status, created_at, model, provider, mode, params, stats, error, request_id, pane, images";

fn message_row(r: &rusqlite::Row) -> rusqlite::Result<StoredMessage> {
    let role: String = r.get(2)?;
    let status: String = r.get(5)?;
    let mode: Option<String> = r.get(9)?;
    Ok(StoredMessage {
        id: r.get(0)?,
        seq: r.get(1)?,
        role: from_json(Some(format!("\"{role}\""))).unwrap_or(Role::User),
        content: r.get(3)?,
        reasoning: r.get(4)?,
        status: MessageStatus::parse(&status),
        created_at: r.get(6)?,
        model: r.get(7)?,
        provider: r.get(8)?,
        mode: from_json(mode.map(|m| format!("\"{m}\""))),
        params: from_json(r.get(10)?),
        stats: from_json(r.get(11)?),
        error: from_json(r.get(12)?),
        request_id: r.get(13)?,
        pane: r.get(14)?,
        images: from_json(r.get(15)?).unwrap_or_default(),
    })
}

/// A message's pictures as stored: NULL when it has none.
fn images_json(images: &[String]) -> Option<String> {
    (!images.is_empty()).then(|| json(&images))
}

fn role_str(role: Role) -> &'static str {
    match role {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
    }
}

fn mode_str(mode: CallMode) -> &'static str {
    match mode {
        CallMode::Routed => "routed",
        CallMode::OwnKey => "own_key",
        CallMode::Endpoint => "endpoint",
    }
}

impl History {
    /// Opens (creating, migrating, recovering) the database at `path`. A damaged file or one
    /// from a newer version is an error and is left as it is; a read-only one opens for reading.
    pub fn open(path: &Path) -> AppResult<History> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| AppError::io("create the data folder", &e))?;
        }
        let existed = std::fs::metadata(path)
            .map(|m| m.len() > 0)
            .unwrap_or(false);
        let mut conn = match Connection::open(path) {
            Ok(c) => c,
            Err(e) => return Self::open_read_only(path).map_err(|_| db_error(e)),
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))
            .map_err(db_error)?;
        // Reading the version is the first real read: it fails on a file that is not a database.
        let version = schema::version(&conn).map_err(db_error)?;
        if version > schema::CURRENT {
            return Err(AppError::new(
                ErrorCode::HistoryUnavailable,
                format!(
                    "The history was written by a newer version of Switchboard (schema {version}, this one knows {}). It was left untouched; update the app to read it.",
                    schema::CURRENT
                ),
            ));
        }
        match conn.pragma_update_and_check(None, "journal_mode", "WAL", |r| r.get::<_, String>(0)) {
            Ok(_) => {}
            Err(e) if is_read_only_error(&e) => {
                drop(conn);
                return Self::open_read_only(path);
            }
            Err(e) => return Err(db_error(e)),
        }
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_error)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_error)?;
        if existed && version < schema::CURRENT {
            backup(&conn, path, version)?;
        }
        if let Err(e) = schema::migrate(&mut conn) {
            if is_read_only_error(&e) {
                drop(conn);
                return Self::open_read_only(path);
            }
            return Err(db_error(e));
        }
        let history = History {
            conn: Mutex::new(conn),
            read_only: false,
            path: path.to_path_buf(),
        };
        match history.recover() {
            Ok(()) => Ok(history),
            Err(e) if e.code == ErrorCode::HistoryReadOnly => {
                drop(history);
                Self::open_read_only(path)
            }
            Err(e) => Err(e),
        }
    }

    fn open_read_only(path: &Path) -> AppResult<History> {
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(db_error)?;
        let version = schema::version(&conn).map_err(db_error)?;
        if version != schema::CURRENT {
            return Err(AppError::new(
                ErrorCode::HistoryReadOnly,
                "The history file is read-only and needs an update the app cannot write.",
            ));
        }
        log::warn!("history opened read-only: {}", path.display());
        Ok(History {
            conn: Mutex::new(conn),
            read_only: true,
            path: path.to_path_buf(),
        })
    }

    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn writable(&self) -> AppResult<MutexGuard<'_, Connection>> {
        if self.read_only {
            return Err(AppError::new(
                ErrorCode::HistoryReadOnly,
                "The history is read-only: new messages are not being saved.",
            ));
        }
        Ok(self.conn())
    }

    /// Marks answers cut by a crash, and empties the trash of what is older than 30 days.
    fn recover(&self) -> AppResult<()> {
        let conn = self.conn();
        let n = conn
            .execute(
                "UPDATE messages SET status = 'interrupted' WHERE status = 'streaming'",
                [],
            )
            .map_err(db_error)?;
        if n > 0 {
            log::warn!("{n} answer(s) were cut by the app ending; marked interrupted");
        }
        let cutoff = now_ms() - TRASH_DAYS * 24 * 3600 * 1000;
        conn.execute(
            "DELETE FROM conversations WHERE deleted_at IS NOT NULL AND deleted_at < ?1",
            [cutoff],
        )
        .map_err(db_error)?;
        Ok(())
    }

    /// How many rows the sidebar loads at a time ([`History::list_page`]).
    pub const SIDEBAR_PAGE: u32 = 200;

    /// Conversations for the sidebar: pinned first, then newest first. `trash` lists the
    /// deleted ones instead (the most recently deleted first). All of them: the sidebar loads
    /// pages with [`History::list_page`].
    pub fn list(&self, trash: bool) -> AppResult<Vec<ConversationSummary>> {
        self.list_page(trash, None, None)
    }

    /// One page of [`History::list`]: at most `limit` rows, starting after `after` (the key of
    /// the last row of the previous page). Keyset pagination: SQLite walks the
    /// `conversations_list` index from the cursor and stops after `limit` rows, so a page costs
    /// the same at 100,000 conversations as at 100.
    pub fn list_page(
        &self,
        trash: bool,
        after: Option<&ListCursor>,
        limit: Option<u32>,
    ) -> AppResult<Vec<ConversationSummary>> {
        let conn = self.conn();
        // Ties (the same millisecond) are broken by rowid (the later created first), so every row
        // has one place; the cursor names its row by id (a row purged meanwhile only matters
        // for a tie). The first
        // page has no cursor condition: `?1 IS NULL OR …` would keep SQLite from starting the
        // index walk at the cursor.
        let (filter, order) = if trash {
            ("deleted_at IS NOT NULL", "deleted_at DESC, rowid DESC")
        } else {
            (
                "deleted_at IS NULL",
                "pinned DESC, updated_at DESC, rowid DESC",
            )
        };
        let keyset = match (after, trash) {
            (None, _) => "",
            (Some(_), true) => "AND (deleted_at, rowid) < (?2, (SELECT rowid FROM conversations WHERE id = ?3))",
            (Some(_), false) => "AND (pinned, updated_at, rowid) < (?1, ?2, (SELECT rowid FROM conversations WHERE id = ?3))",
        };
        let sql = format!(
            "SELECT {SUMMARY_COLS} FROM conversations WHERE {filter} {keyset} ORDER BY {order} LIMIT ?4"
        );
        let mut stmt = conn.prepare_cached(&sql).map_err(db_error)?;
        let limit = limit.map_or(-1, i64::from);
        // Always four parameters (SQLite numbers them up to ?4, whichever are used).
        let rows = stmt
            .query_map(
                params![
                    after.map(|c| c.pinned),
                    after.map(|c| c.at),
                    after.map(|c| c.id.as_str()),
                    limit
                ],
                summary_row,
            )
            .map_err(db_error)?
            .collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_error)?;
        Ok(rows)
    }

    pub fn get(&self, id: &str) -> AppResult<Conversation> {
        let conn = self.conn();
        get_with(&conn, id)
    }

    /// Records the start of an answer: creates the conversation if needed, makes the stored
    /// messages match what is sent (an edit or a regenerate drops what followed), saves the
    /// user's message and an empty `streaming` answer. Returns (conversation id, answer id).
    pub fn begin_answer(&self, start: &AnswerStart<'_>) -> AppResult<(String, i64)> {
        let mut conn = self.writable()?;
        let tx = conn.transaction().map_err(db_error)?;
        let req = start.request;
        let now = now_ms();
        let existing = match start.conversation_id {
            Some(id) => tx
                .query_row("SELECT id FROM conversations WHERE id = ?1", [id], |r| {
                    r.get::<_, String>(0)
                })
                .optional()
                .map_err(db_error)?,
            None => None,
        };
        let conv_id = match existing {
            Some(id) => id,
            None => {
                let id = start
                    .conversation_id
                    .map(str::to_string)
                    .unwrap_or_else(|| uuid::Uuid::new_v4().simple().to_string());
                let first_user = req
                    .messages
                    .iter()
                    .find(|m| m.role == Role::User)
                    .map(|m| m.content.as_str())
                    .unwrap_or("");
                tx.execute(
                    "INSERT INTO conversations (id, title, kind, created_at, updated_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                    params![id, title_from(first_user), start.kind, now],
                )
                .map_err(db_error)?;
                id
            }
        };

        // Align the stored messages with the ones sent.
        let stored: Vec<(i64, String, String, Option<String>)> = {
            let mut stmt = tx
                .prepare_cached(
                    "SELECT id, role, content, images FROM messages WHERE conversation_id = ?1 AND pane = ?2 ORDER BY seq",
                )
                .map_err(db_error)?;
            let rows = stmt
                .query_map(params![&conv_id, start.pane], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .map_err(db_error)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_error)?;
            rows
        };
        let mut j = 0;
        let mut cut_from: Option<i64> = None;
        for (id, role, content, images) in &stored {
            let sent = req.messages.get(j);
            let images: Vec<String> = from_json(images.clone()).unwrap_or_default();
            if sent.is_some_and(|m| {
                role_str(m.role) == role && &m.content == content && m.images == images
            }) {
                j += 1;
            } else if role == "assistant" && content.is_empty() {
                // A failed answer that produced nothing: it was not sent, but it stays.
            } else {
                cut_from = Some(*id);
                break;
            }
        }
        if let Some(first) = cut_from {
            let seq: i64 = tx
                .query_row("SELECT seq FROM messages WHERE id = ?1", [first], |r| {
                    r.get(0)
                })
                .map_err(db_error)?;
            tx.execute(
                "DELETE FROM messages WHERE conversation_id = ?1 AND pane = ?2 AND seq >= ?3",
                params![conv_id, start.pane, seq],
            )
            .map_err(db_error)?;
        }
        let mut seq: i64 = tx
            .query_row(
                "SELECT COALESCE(MAX(seq), -1) + 1 FROM messages WHERE conversation_id = ?1",
                [&conv_id],
                |r| r.get(0),
            )
            .map_err(db_error)?;
        let params_json = json(&req.params);
        for m in &req.messages[j..] {
            tx.execute(
                "INSERT INTO messages (conversation_id, seq, role, content, status, created_at, model, pane, images) VALUES (?1, ?2, ?3, ?4, 'complete', ?5, ?6, ?7, ?8)",
                params![conv_id, seq, role_str(m.role), m.content, now, req.model, start.pane, images_json(&m.images)],
            )
            .map_err(db_error)?;
            seq += 1;
        }
        tx.execute(
            "INSERT INTO messages (conversation_id, seq, role, content, status, created_at, model, provider, mode, params, pane) VALUES (?1, ?2, 'assistant', '', 'streaming', ?3, ?4, ?5, ?6, ?7, ?8)",
            params![conv_id, seq, now, req.model, req.routing.pinned(), mode_str(start.mode), params_json, start.pane],
        )
        .map_err(db_error)?;
        let answer_id = tx.last_insert_rowid();
        tx.execute(
            "UPDATE conversations SET updated_at = ?2, model = ?3, routing = ?4, system = ?5, params = ?6, bill_to = ?7, deleted_at = NULL WHERE id = ?1",
            params![conv_id, now, req.model, json(&req.routing), req.system, params_json, req.bill_to],
        )
        .map_err(db_error)?;
        tx.commit().map_err(db_error)?;
        Ok((conv_id, answer_id))
    }

    /// Saves the answer so far (called while it streams). An answer that is no longer there
    /// (its conversation deleted meanwhile) or no longer streaming is an error: nothing was saved.
    pub fn save_partial(&self, answer_id: i64, content: &str, reasoning: &str) -> AppResult<()> {
        let conn = self.writable()?;
        changed(
            conn.prepare_cached(
                "UPDATE messages SET content = ?2, reasoning = ?3 WHERE id = ?1 AND status = 'streaming'",
            )
            .and_then(|mut s| s.execute(params![answer_id, content, reasoning])),
        )
    }

    /// Saves how the answer ended, with its figures.
    pub fn finish_answer(&self, answer_id: i64, result: &CallResult) -> AppResult<()> {
        let conn = self.writable()?;
        let status = match result.outcome {
            Outcome::Complete => MessageStatus::Complete,
            Outcome::Stopped => MessageStatus::Stopped,
            Outcome::Error => MessageStatus::Error,
        };
        conn.execute(
            "UPDATE messages SET content = ?2, reasoning = ?3, status = ?4, provider = COALESCE(?5, provider), stats = ?6, error = ?7, request_id = ?8 WHERE id = ?1",
            params![
                answer_id,
                result.content,
                result.reasoning,
                status.as_str(),
                result.stats.provider,
                json(&result.stats),
                result.error.as_ref().map(json),
                result.request_id,
            ],
        )
        .map_err(db_error)?;
        conn.execute(
            "UPDATE conversations SET updated_at = ?2 WHERE id = (SELECT conversation_id FROM messages WHERE id = ?1)",
            params![answer_id, now_ms()],
        )
        .map_err(db_error)?;
        Ok(())
    }

    pub fn rename(&self, id: &str, title: &str) -> AppResult<()> {
        let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "A title cannot be empty.",
            ));
        }
        let conn = self.writable()?;
        let title: String = title.chars().take(200).collect();
        changed(conn.execute(
            "UPDATE conversations SET title = ?2, title_set = 1 WHERE id = ?1",
            params![id, title],
        ))
    }

    pub fn set_pinned(&self, id: &str, pinned: bool) -> AppResult<()> {
        let conn = self.writable()?;
        changed(conn.execute(
            "UPDATE conversations SET pinned = ?2 WHERE id = ?1",
            params![id, pinned],
        ))
    }

    /// Moves to the trash (restorable for [`TRASH_DAYS`] days).
    pub fn trash(&self, id: &str) -> AppResult<()> {
        let conn = self.writable()?;
        changed(conn.execute(
            "UPDATE conversations SET deleted_at = ?2 WHERE id = ?1",
            params![id, now_ms()],
        ))
    }

    pub fn restore(&self, id: &str) -> AppResult<()> {
        let conn = self.writable()?;
        changed(conn.execute(
            "UPDATE conversations SET deleted_at = NULL WHERE id = ?1",
            params![id],
        ))
    }

    /// Deletes for good (from the trash). Returns the pictures its messages had that nothing
    /// else in the history (another message, an image generation) still names: the caller
    /// deletes their files.
    pub fn delete_forever(&self, id: &str) -> AppResult<Vec<String>> {
        let mut conn = self.writable()?;
        let tx = conn.transaction().map_err(db_error)?;
        let mut files: Vec<String> = {
            let mut stmt = tx
                .prepare(
                    "SELECT images FROM messages WHERE conversation_id = ?1 AND images IS NOT NULL",
                )
                .map_err(db_error)?;
            let lists = stmt
                .query_map([id], |r| r.get::<_, String>(0))
                .map_err(db_error)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_error)?;
            lists
                .into_iter()
                .flat_map(|l| from_json::<Vec<String>>(Some(l)).unwrap_or_default())
                .collect()
        };
        files.sort();
        files.dedup();
        changed(tx.execute("DELETE FROM conversations WHERE id = ?1", params![id]))?;
        let mut orphans = Vec::new();
        for f in files {
            // File names are hashes and extensions: no LIKE wildcard or quote in them.
            let pattern = format!("%\"{f}\"%");
            let used: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM messages WHERE images LIKE ?1) OR EXISTS (SELECT 1 FROM image_jobs WHERE images LIKE ?1)",
                    [&pattern],
                    |r| r.get(0),
                )
                .map_err(db_error)?;
            if !used {
                orphans.push(f);
            }
        }
        tx.commit().map_err(db_error)?;
        Ok(orphans)
    }

    pub fn search(&self, q: &SearchQuery) -> AppResult<Vec<SearchHit>> {
        let conn = self.conn();
        search::search(&conn, q)
    }

    /// Models and providers that appear in the history (for the search filters).
    pub fn facets(&self) -> AppResult<(Vec<String>, Vec<String>)> {
        let conn = self.conn();
        let list = |sql: &str| -> AppResult<Vec<String>> {
            let mut stmt = conn.prepare_cached(sql).map_err(db_error)?;
            let v = stmt
                .query_map([], |r| r.get::<_, String>(0))
                .map_err(db_error)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_error)?;
            Ok(v)
        };
        // A skip-scan of the index: a few rows read instead of the whole index.
        let distinct = |col: &str| {
            format!(
                "WITH RECURSIVE v(x) AS (SELECT MIN({col}) FROM messages
                   UNION ALL SELECT (SELECT MIN({col}) FROM messages WHERE {col} > v.x) FROM v WHERE v.x IS NOT NULL)
                 SELECT x FROM v WHERE x IS NOT NULL"
            )
        };
        Ok((list(&distinct("model"))?, list(&distinct("provider"))?))
    }

    /// Every conversation (trash included), for a full backup.
    pub fn all(&self) -> AppResult<Vec<Conversation>> {
        let conn = self.conn();
        let ids: Vec<String> = {
            let mut stmt = conn
                .prepare("SELECT id FROM conversations ORDER BY created_at, id")
                .map_err(db_error)?;
            let v = stmt
                .query_map([], |r| r.get(0))
                .map_err(db_error)?
                .collect::<rusqlite::Result<Vec<_>>>()
                .map_err(db_error)?;
            v
        };
        ids.iter().map(|id| get_with(&conn, id)).collect()
    }

    /// Adds conversations from an export. One already present (same id) is a duplicate and
    /// is skipped. All or nothing: a failure leaves the history as it was.
    pub fn import(&self, conversations: &[Conversation]) -> AppResult<ImportReport> {
        let mut conn = self.writable()?;
        let tx = conn.transaction().map_err(db_error)?;
        let mut report = ImportReport::default();
        for c in conversations {
            let exists: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM conversations WHERE id = ?1)",
                    [&c.summary.id],
                    |r| r.get(0),
                )
                .map_err(db_error)?;
            if exists {
                report.duplicates += 1;
                continue;
            }
            let s = &c.summary;
            tx.execute(
                "INSERT INTO conversations (id, title, title_set, kind, created_at, updated_at, pinned, deleted_at, model, routing, system, params, bill_to) VALUES (?1, ?2, 1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
                params![
                    s.id, s.title, s.kind, s.created_at, s.updated_at, s.pinned, s.deleted_at, s.model,
                    c.routing.as_ref().map(json), c.system, c.params.as_ref().map(json), c.bill_to
                ],
            )
            .map_err(db_error)?;
            for m in &c.messages {
                let free: bool = tx
                    .query_row(
                        "SELECT NOT EXISTS (SELECT 1 FROM messages WHERE id = ?1)",
                        [m.id],
                        |r| r.get(0),
                    )
                    .map_err(db_error)?;
                let status = match m.status {
                    MessageStatus::Streaming => MessageStatus::Interrupted,
                    s => s,
                };
                tx.execute(
                    "INSERT INTO messages (id, conversation_id, seq, role, content, reasoning, status, created_at, model, provider, mode, params, stats, error, request_id, pane, images) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)",
                    params![
                        free.then_some(m.id), s.id, m.seq, role_str(m.role), m.content, m.reasoning,
                        status.as_str(), m.created_at, m.model, m.provider, m.mode.map(mode_str),
                        m.params.as_ref().map(json), m.stats.as_ref().map(json),
                        m.error.as_ref().map(json), m.request_id, m.pane, images_json(&m.images)
                    ],
                )
                .map_err(db_error)?;
            }
            report.imported += 1;
        }
        tx.commit().map_err(db_error)?;
        Ok(report)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ImportReport {
    pub imported: u32,
    pub duplicates: u32,
    /// Pictures attached to chat messages brought back (a full backup).
    #[serde(default)]
    pub attachments: u32,
    /// Image generations brought back with their pictures (a full backup).
    #[serde(default)]
    pub pictures: u32,
    /// Video generations brought back with their videos (a full backup).
    #[serde(default)]
    pub videos: u32,
    /// Embedding runs brought back (a full backup).
    #[serde(default)]
    pub embeddings: u32,
    /// Speech runs (transcripts and speech made) brought back with their audio (a full backup).
    #[serde(default)]
    pub speech: u32,
}

fn changed(r: rusqlite::Result<usize>) -> AppResult<()> {
    match r.map_err(db_error)? {
        0 => Err(AppError::new(
            ErrorCode::NoSuchConversation,
            "That conversation no longer exists.",
        )),
        _ => Ok(()),
    }
}

fn is_read_only_error(e: &rusqlite::Error) -> bool {
    matches!(e, rusqlite::Error::SqliteFailure(f, _)
        if matches!(f.code, rusqlite::ErrorCode::ReadOnly | rusqlite::ErrorCode::CannotOpen | rusqlite::ErrorCode::PermissionDenied))
}

fn get_with(conn: &Connection, id: &str) -> AppResult<Conversation> {
    let row = conn
        .query_row(
            &format!("SELECT {SUMMARY_COLS}, routing, system, params, bill_to FROM conversations WHERE id = ?1"),
            [id],
            |r| {
                Ok((
                    summary_row(r)?,
                    r.get::<_, Option<String>>(8)?,
                    r.get::<_, String>(9)?,
                    r.get::<_, Option<String>>(10)?,
                    r.get::<_, Option<String>>(11)?,
                ))
            },
        )
        .optional()
        .map_err(db_error)?;
    let Some((summary, routing, system, params, bill_to)) = row else {
        return Err(AppError::new(
            ErrorCode::NoSuchConversation,
            "That conversation no longer exists.",
        ));
    };
    let mut stmt = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLS} FROM messages WHERE conversation_id = ?1 ORDER BY seq"
        ))
        .map_err(db_error)?;
    let messages = stmt
        .query_map([id], message_row)
        .map_err(db_error)?
        .collect::<rusqlite::Result<Vec<_>>>()
        .map_err(db_error)?;
    Ok(Conversation {
        summary,
        routing: from_json(routing),
        system,
        params: from_json(params),
        bill_to,
        messages,
    })
}

/// Copies the database to `backups/history-v{version}-{time}.sqlite3` before a migration.
fn backup(conn: &Connection, path: &Path, version: u32) -> AppResult<PathBuf> {
    let dir = path.parent().unwrap_or(Path::new(".")).join("backups");
    std::fs::create_dir_all(&dir).map_err(|e| AppError::io("create the backup folder", &e))?;
    let dest = dir.join(format!("history-v{version}-{}.sqlite3", now_ms()));
    conn.execute("VACUUM INTO ?1", [dest.to_string_lossy()])
        .map_err(db_error)?;
    log::info!("history backed up to {} before migrating", dest.display());
    Ok(dest)
}

#[cfg(test)]
mod tests;
