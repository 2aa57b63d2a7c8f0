//! Versioned schema. `PRAGMA user_version` holds the version; each migration moves it up by
//! one, in a transaction. Never edit a shipped migration: add the next one (and a fixture
//! database of the old version under `tests/fixtures/history/`).

use rusqlite::Connection;

/// (version reached, SQL).
pub const MIGRATIONS: &[(u32, &str)] = &[
    (1, V1),
    (2, V2),
    (3, V3),
    (4, V4),
    (5, V5),
    (6, V6),
    (7, V7),
    (8, V8),
    (9, V9),
    (10, V10),
];

pub const CURRENT: u32 = 10;

const V1: &str = r#"
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    title       TEXT NOT NULL,
    -- 1 once the user renamed it: the automatic title no longer changes.
    title_set   INTEGER NOT NULL DEFAULT 0,
    kind        TEXT NOT NULL DEFAULT 'chat',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    pinned      INTEGER NOT NULL DEFAULT 0,
    deleted_at  INTEGER,
    -- The playground settings to restore when it is opened (JSON where structured).
    model       TEXT,
    routing     TEXT,
    system      TEXT NOT NULL DEFAULT '',
    params      TEXT,
    bill_to     TEXT
);
CREATE INDEX conversations_list ON conversations (deleted_at, pinned DESC, updated_at DESC);

CREATE TABLE messages (
    id              INTEGER PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations (id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    role            TEXT NOT NULL,
    content         TEXT NOT NULL,
    reasoning       TEXT NOT NULL DEFAULT '',
    -- complete | streaming | stopped | error | interrupted
    status          TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    model           TEXT,
    provider        TEXT,
    -- routed | own_key | endpoint
    mode            TEXT,
    params          TEXT,
    stats           TEXT,
    error           TEXT,
    request_id      TEXT,
    UNIQUE (conversation_id, seq)
);
CREATE INDEX messages_provider ON messages (provider);
CREATE INDEX messages_model ON messages (model);

CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;

CREATE VIRTUAL TABLE titles_fts USING fts5 (
    title, content = 'conversations', content_rowid = 'rowid',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER conversations_ai AFTER INSERT ON conversations BEGIN
    INSERT INTO titles_fts (rowid, title) VALUES (new.rowid, new.title);
END;
CREATE TRIGGER conversations_ad AFTER DELETE ON conversations BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
END;
CREATE TRIGGER conversations_au AFTER UPDATE OF title ON conversations BEGIN
    INSERT INTO titles_fts (titles_fts, rowid, title) VALUES ('delete', old.rowid, old.title);
    INSERT INTO titles_fts (rowid, title) VALUES (new.rowid, new.title);
END;
"#;

/// v2: compare sessions (a pane per model) and the billing ledger.
const V2: &str = r#"
ALTER TABLE messages ADD COLUMN pane INTEGER NOT NULL DEFAULT 0;

CREATE TABLE calls (
    id              INTEGER PRIMARY KEY,
    at              INTEGER NOT NULL,
    -- chat | retry | key_test | compare
    kind            TEXT NOT NULL,
    model           TEXT,
    provider        TEXT,
    -- hf_credits | org | provider | endpoint
    billing         TEXT NOT NULL,
    bill_to         TEXT,
    tokens_in       INTEGER NOT NULL DEFAULT 0,
    tokens_out      INTEGER NOT NULL DEFAULT 0,
    usage_estimated INTEGER NOT NULL DEFAULT 0,
    -- The price used, USD per 1M tokens: old rows never change with the catalog.
    price_in        REAL,
    price_out       REAL,
    cost            REAL,
    ttft_ms         REAL,
    total_ms        REAL,
    -- complete | stopped | error
    status          TEXT NOT NULL,
    error_code      TEXT,
    request_id      TEXT,
    conversation_id TEXT,
    message_id      INTEGER,
    -- Rate-limit headers seen (JSON), if any.
    rate_limit      TEXT
);
CREATE INDEX calls_at ON calls (at);
CREATE INDEX calls_provider_at ON calls (provider, at);
"#;

/// v3: finding answers cut by a crash at start-up reads a nearly empty index instead of every
/// message (about 100 ms on 200,000 messages, now 0.1 ms).
const V3: &str = r#"
CREATE INDEX messages_streaming ON messages (status) WHERE status = 'streaming';
"#;

/// v4: billing truth. Each conversation names its session (`X-HF-Session-id`, sent on its
/// routed calls) so Hugging Face's billed cost can be matched to it; a call keeps the router's
/// own estimate (`usage.estimated_cost`) beside the app's; what Hugging Face billed each
/// conversation is recorded as it settles.
const V4: &str = r#"
ALTER TABLE conversations ADD COLUMN session_id TEXT;
ALTER TABLE calls ADD COLUMN router_cost REAL;

CREATE TABLE billed_sessions (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations (id) ON DELETE CASCADE,
    -- What Hugging Face reports for all the conversation's sessions (its panes), nano-USD.
    billed_nano_usd INTEGER NOT NULL,
    requests        INTEGER NOT NULL,
    -- When it was last asked (Unix ms).
    checked_at      INTEGER NOT NULL
);
"#;

/// v5: image generations as durable jobs. A row is written before the request goes out and
/// gets the provider's job id and poll URL before the app waits, so a restart resumes polling;
/// the pictures are files in `images/` named by their hash.
const V5: &str = r#"
CREATE TABLE image_jobs (
    id              TEXT PRIMARY KEY,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    model           TEXT NOT NULL,
    prompt          TEXT NOT NULL,
    -- The whole ImageRequest (JSON): routing and parameters.
    request         TEXT NOT NULL,
    provider        TEXT,
    provider_model  TEXT,
    -- routed | own_key
    mode            TEXT NOT NULL,
    -- hf_credits | org | provider
    billing         TEXT NOT NULL,
    -- submitting | queued | running | complete | error | cancelled | interrupted
    status          TEXT NOT NULL,
    -- The provider's job (JSON: id, pollUrl, resultUrl, cancelUrl).
    provider_job    TEXT,
    provider_status TEXT,
    progress        REAL,
    -- JSON list of {file, mime, bytes}.
    images          TEXT NOT NULL DEFAULT '[]',
    seed            INTEGER,
    cost            REAL,
    billed_units    REAL,
    billed_unit     TEXT,
    unit_price      REAL,
    error           TEXT,
    request_id      TEXT,
    total_ms        REAL
);
CREATE INDEX image_jobs_created ON image_jobs (created_at DESC);
CREATE INDEX image_jobs_open ON image_jobs (status) WHERE status IN ('submitting', 'queued', 'running');
"#;

/// v6: pictures attached to chat messages. A JSON list of kept file names (in `images/`,
/// named by the hash of their bytes); NULL when the message has none.
const V6: &str = r#"
ALTER TABLE messages ADD COLUMN images TEXT;
"#;

/// v7: embedding runs (feature extraction). The sentences and the vectors returned are kept;
/// similarities are computed from them when shown.
const V7: &str = r#"
CREATE TABLE embeddings (
    id          TEXT PRIMARY KEY,
    created_at  INTEGER NOT NULL,
    model       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    -- routed | own_key
    mode        TEXT NOT NULL,
    -- hf_credits | org | provider
    billing     TEXT NOT NULL,
    -- JSON list of strings.
    sentences   TEXT NOT NULL,
    -- JSON list of lists of numbers, one per sentence.
    vectors     TEXT NOT NULL,
    cost        REAL,
    tokens      INTEGER,
    request_id  TEXT,
    total_ms    REAL
);
CREATE INDEX embeddings_created ON embeddings (created_at DESC);
"#;

/// v8: search stops early at 100,000 conversations. The messages' full-text index keeps
/// prefix indexes for 2 to 12 characters, so a typed prefix ("da", "data", "optim") reads one
/// list newest first and stops after the newest matches instead of merging the lists of every
/// word it starts (1.4 million entries for "data": 90 ms). It no longer keeps word positions
/// (`detail=none`: the history's queries are words and prefixes, never phrases, and snippets
/// find their words again in the text), which pays for the prefix indexes: at 10,000
/// conversations the index is 46 MB against 39 before (with positions, prefixes 2-4 alone
/// took 127 MB).
const V8: &str = r#"
DROP TRIGGER messages_ai;
DROP TRIGGER messages_ad;
DROP TRIGGER messages_au;
DROP TABLE messages_fts;
CREATE VIRTUAL TABLE messages_fts USING fts5 (
    content, content = 'messages', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    detail = none, prefix = '2 3 4 5 6 7 8 9 10 11 12'
);
INSERT INTO messages_fts (messages_fts) VALUES ('rebuild');
CREATE TRIGGER messages_ai AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_ad AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_au AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts (messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts (rowid, content) VALUES (new.id, new.content);
END;
"#;

/// v9: speech runs, both ways (`kind`: `stt` speech to text, `tts` text to speech). The audio
/// (the file sent for a transcript, or the speech made) is kept in the data folder's `media/`
/// under the hash of its bytes; `text` is the transcript (stt) or the text spoken (tts).
const V9: &str = r#"
CREATE TABLE speech_runs (
    id          TEXT PRIMARY KEY,
    -- stt | tts
    kind        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    model       TEXT NOT NULL,
    provider    TEXT NOT NULL,
    -- routed | own_key
    mode        TEXT NOT NULL,
    -- hf_credits | org | provider
    billing     TEXT NOT NULL,
    text        TEXT NOT NULL,
    -- JSON list of {start, end, text} (stt; empty when the provider gave none).
    segments    TEXT NOT NULL DEFAULT '[]',
    language    TEXT,
    voice       TEXT,
    -- The file in media/: SHA-256 of its bytes and the extension its content says.
    audio_file  TEXT NOT NULL,
    audio_mime  TEXT NOT NULL,
    audio_bytes INTEGER NOT NULL,
    -- The name of the file the user chose (stt), shown only.
    audio_name  TEXT,
    cost        REAL,
    request_id  TEXT,
    total_ms    REAL
);
CREATE INDEX speech_runs_created ON speech_runs (created_at DESC);
"#;

/// v10: speech runs as durable jobs, as image jobs are (v5). A run is written (`submitting`)
/// before the request goes out, gets the provider's job (fal's queue URLs, Replicate's
/// prediction URLs) and `queued` before the app waits, and is finished in place (`complete` with
/// its text and audio, or `error` with the error as JSON); a start-up polls open runs again or
/// marks those with nothing to come back to `interrupted`. Runs from v9 read as `complete`.
/// `provider_model` (the id sent to the provider) and `bill_to` (the organization asked for)
/// rebuild the request's target after a restart; the request itself is already kept (the text
/// and voice of text to speech, the audio file of speech to text). Text to speech that is not
/// complete has no audio yet: its `audio_file` and `audio_mime` are empty and `audio_bytes` 0.
const V10: &str = r#"
-- submitting | queued | running | complete | error | cancelled | interrupted
ALTER TABLE speech_runs ADD COLUMN status TEXT NOT NULL DEFAULT 'complete';
-- The provider's job (JSON: id, pollUrl, resultUrl, cancelUrl), once it gave one.
ALTER TABLE speech_runs ADD COLUMN provider_job TEXT;
-- JSON {code, message}, for error and interrupted runs.
ALTER TABLE speech_runs ADD COLUMN error TEXT;
ALTER TABLE speech_runs ADD COLUMN provider_model TEXT;
ALTER TABLE speech_runs ADD COLUMN bill_to TEXT;
CREATE INDEX speech_runs_open ON speech_runs (status) WHERE status IN ('submitting', 'queued', 'running');
"#;

pub fn version(conn: &Connection) -> rusqlite::Result<u32> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// Applies every migration above the database's version.
pub fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    let from = version(conn)?;
    for (to, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > from) {
        let tx = conn.transaction()?;
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", to)?;
        tx.commit()?;
    }
    Ok(())
}
