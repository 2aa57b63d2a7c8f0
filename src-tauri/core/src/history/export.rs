//! Export and import files: JSON with every field (a round trip is exact), and Markdown to read.

use serde::{Deserialize, Serialize};

use super::{Conversation, MessageStatus};
use crate::call::Role;
use crate::error::{AppError, AppResult, ErrorCode};

pub const FORMAT: &str = "switchboard.history";
pub const VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportFile {
    pub format: String,
    pub version: u32,
    pub exported_at: i64,
    pub app_version: String,
    pub conversations: Vec<Conversation>,
    /// Image generations with their pictures (a full backup only; absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<ExportedImage>,
    /// Pictures attached to chat messages, by file name (a full backup only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<ExportedFile>,
    /// Embedding runs with their vectors (a full backup only; absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub embeddings: Vec<super::embeddings::EmbeddingRecord>,
    /// Speech runs (transcripts and speech made, and failed runs with their error; never one
    /// still open; a full backup only; absent in older files).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub speech: Vec<super::speech::SpeechRecord>,
    /// The speech runs' audio, by file name (a full backup only).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub media: Vec<ExportedFile>,
}

/// A generation and its pictures' bytes, in an export file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedImage {
    pub job: crate::call::ImageJob,
    pub files: Vec<ExportedFile>,
    /// Image-to-image: the source picture the job names (`file:{name}`), absent in older files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<ExportedFile>,
}

/// A picture's bytes, base64.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExportedFile {
    pub file: String,
    pub data: String,
}

pub fn to_json(conversations: Vec<Conversation>, now: i64) -> String {
    to_json_full(
        conversations,
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Speech::default(),
        now,
    )
}

/// Speech runs and their audio, in a full backup.
#[derive(Debug, Clone, Default)]
pub struct Speech {
    pub runs: Vec<super::speech::SpeechRecord>,
    pub media: Vec<ExportedFile>,
}

/// A full backup: conversations (with the pictures attached to their messages), image
/// generations with their pictures, embedding runs, speech runs with their audio.
pub fn to_json_full(
    conversations: Vec<Conversation>,
    images: Vec<ExportedImage>,
    attachments: Vec<ExportedFile>,
    embeddings: Vec<super::embeddings::EmbeddingRecord>,
    speech: Speech,
    now: i64,
) -> String {
    let file = ExportFile {
        format: FORMAT.into(),
        version: VERSION,
        exported_at: now,
        app_version: env!("CARGO_PKG_VERSION").into(),
        conversations,
        images,
        attachments,
        embeddings,
        // A run still waiting on its provider is not a result yet (as open image jobs).
        speech: speech
            .runs
            .into_iter()
            .filter(|r| !r.status.is_open())
            .collect(),
        media: speech.media,
    };
    serde_json::to_string_pretty(&file).expect("export serialises")
}

/// The largest file an import reads: far above any real history, far below what ends the app.
pub const MAX_IMPORT_BYTES: u64 = 512 * 1024 * 1024;

/// The kinds of conversation the history knows.
pub const KINDS: [&str; 2] = ["chat", "compare"];

/// Reads an export file from disk: its size is checked first, then it is parsed straight from
/// the file into the typed structure (never held twice in memory), then checked field by field.
/// Blocking: run it on a blocking thread.
pub fn read_file(path: &std::path::Path) -> AppResult<ExportFile> {
    let len = std::fs::metadata(path)
        .map_err(|e| AppError::io("read the file", &e))?
        .len();
    if len > MAX_IMPORT_BYTES {
        return Err(AppError::new(
            ErrorCode::ImportInvalid,
            format!(
                "The file is too large to be a Switchboard export ({} MB; the most an import reads is {} MB).",
                len / (1024 * 1024),
                MAX_IMPORT_BYTES / (1024 * 1024)
            ),
        ));
    }
    parse(|| {
        std::fs::File::open(path)
            .map(|f| std::io::BufReader::with_capacity(64 * 1024, f))
            .map_err(|e| AppError::io("read the file", &e))
    })
}

/// Reads an export file, refusing anything that is not ours, cut short, or from a newer version.
pub fn from_json(bytes: &[u8]) -> AppResult<ExportFile> {
    parse(|| Ok(bytes))
}

/// Two passes over the input, neither keeping more than the typed result: the header (is it
/// ours, which version), then the whole file into [`ExportFile`].
fn parse<R: std::io::Read>(open: impl Fn() -> AppResult<R>) -> AppResult<ExportFile> {
    let invalid = |msg: String| AppError::new(ErrorCode::ImportInvalid, msg);
    #[derive(Deserialize)]
    struct Header {
        format: Option<String>,
        version: Option<u64>,
    }
    let header: Header = serde_json::from_reader(open()?).map_err(|e| {
        if e.is_io() {
            invalid(format!("The file could not be read ({e})."))
        } else if e.is_eof() {
            invalid("The file is cut short: it ends in the middle of the data.".into())
        } else if e.is_syntax() {
            invalid("This is not a Switchboard export (it is not JSON).".into())
        } else {
            invalid("This is not a Switchboard export.".into())
        }
    })?;
    if header.format.as_deref() != Some(FORMAT) {
        return Err(invalid("This is not a Switchboard export.".into()));
    }
    let version = header.version.unwrap_or(0);
    if version > u64::from(VERSION) {
        return Err(invalid(format!(
            "This export comes from a newer version of Switchboard (format {version}). Update the app to import it."
        )));
    }
    let file: ExportFile = serde_json::from_reader(open()?)
        .map_err(|e| invalid(format!("The export is damaged and cannot be read ({e}).")))?;
    for c in &file.conversations {
        if !KINDS.contains(&c.summary.kind.as_str()) {
            return Err(invalid(format!(
                "The export is damaged: a conversation has an unknown kind (“{}”).",
                crate::error::scrub(&c.summary.kind, 40)
            )));
        }
    }
    Ok(file)
}

/// A readable Markdown copy of one conversation.
pub fn to_markdown(c: &Conversation) -> String {
    let mut out = format!("# {}\n\n", c.summary.title);
    if let Some(model) = &c.summary.model {
        out.push_str(&format!("Model: `{model}`\n\n"));
    }
    if !c.system.trim().is_empty() {
        out.push_str(&format!(
            "> System: {}\n\n",
            c.system.trim().replace('\n', "\n> ")
        ));
    }
    for m in &c.messages {
        let who = match m.role {
            Role::User => "You".to_string(),
            Role::System => "System".to_string(),
            Role::Assistant => {
                let mut who = "Assistant".to_string();
                match (&m.model, &m.provider) {
                    (Some(model), Some(p)) => who.push_str(&format!(" ({model} via {p})")),
                    (Some(model), None) => who.push_str(&format!(" ({model})")),
                    _ => {}
                }
                who
            }
        };
        out.push_str(&format!("## {who}\n\n"));
        if !m.reasoning.is_empty() {
            out.push_str("<details><summary>Thought process</summary>\n\n");
            out.push_str(m.reasoning.trim());
            out.push_str("\n\n</details>\n\n");
        }
        out.push_str(m.content.trim_end());
        out.push_str("\n\n");
        let note = match m.status {
            MessageStatus::Stopped => Some("stopped"),
            MessageStatus::Interrupted => Some("interrupted"),
            MessageStatus::Error => Some("failed"),
            _ => None,
        };
        if let Some(n) = note {
            out.push_str(&format!("_({n})_\n\n"));
        }
        if let Some(s) = &m.stats {
            let cost = s.cost.map(|c| format!(" · ${c:.6}")).unwrap_or_default();
            out.push_str(&format!(
                "_{} in · {} out{}{cost}_\n\n",
                s.tokens_in,
                s.tokens_out,
                if s.usage_estimated {
                    " (estimated)"
                } else {
                    ""
                }
            ));
        }
    }
    out
}

/// A file name for a conversation: its title, made safe.
pub fn file_name(title: &str, ext: &str) -> String {
    let base: String = title
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    let base: String = base.chars().take(60).collect();
    format!(
        "{}.{ext}",
        if base.is_empty() {
            "conversation"
        } else {
            &base
        }
    )
}
