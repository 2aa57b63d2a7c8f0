//! The one error type that crosses IPC.
//!
//! It serialises as `{ "code": "...", "message": "..." }`. `code` is stable and the UI maps it
//! to plain-language text and next steps (`ui/src/lib/errors.ts`); `message` is an English
//! sentence with detail the UI may show under that text. No message ever contains a secret:
//! messages are written here, never copied from a request, and bodies from servers are cut short
//! and scrubbed of anything that looks like a token (`scrub`).

use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Stable error codes. Add new ones at the end; never rename one (the UI keys on them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ErrorCode {
    /// The token field was empty.
    TokenEmpty,
    /// What was pasted is not shaped like an HF token.
    TokenMalformed,
    /// 401: the token is wrong, revoked or expired.
    Unauthorized,
    /// 403: the token is valid but lacks a permission.
    Forbidden,
    /// 402: the monthly included credits are used up.
    PaymentRequired,
    /// 429: rate limited.
    RateLimited,
    /// 404 or a model/provider pair that does not exist.
    NotFound,
    /// 400/422: the server rejected the parameters.
    InvalidRequest,
    /// 5xx.
    ServerError,
    /// The server answered with something that is not the data we expected (HTML, garbage).
    BadResponse,
    /// No connection could be made (offline, DNS, refused).
    Network,
    /// The server took too long.
    Timeout,
    /// No OS keyring is reachable: the token cannot be stored safely.
    KeyringUnavailable,
    /// An action needs a signed-in account.
    NotSignedIn,
    /// No huggingface-cli token was found to import.
    NoCliToken,
    /// A link the app refuses to open.
    ForbiddenUrl,
    /// Reading or writing a local file failed.
    Io,
    /// A bug: something that should not happen.
    Internal,
    /// The model is not served by this provider (or by any enabled provider).
    ModelUnavailable,
    /// A streamed answer stopped before its end (connection cut, no end marker).
    StreamInterrupted,
    /// The provider reported an error inside a streamed answer.
    ProviderError,
    /// The history database cannot be opened (damaged, not a database, unreadable).
    HistoryUnavailable,
    /// The history database can be read but not written (read-only file or folder).
    HistoryReadOnly,
    /// The disk is full.
    DiskFull,
    /// A file to import is not a Switchboard export, is cut short, or comes from a newer version.
    ImportInvalid,
    /// A conversation (or message) that does not exist.
    NoSuchConversation,
    /// A provider set to "my own key" has no key saved.
    ProviderKeyMissing,
    /// A call pinned to a provider the user turned off in Providers.
    ProviderDisabled,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS, thiserror::Error)]
#[error("{message}")]
#[ts(export)]
pub struct AppError {
    pub code: ErrorCode,
    pub message: String,
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }

    pub fn io(what: &str, err: &std::io::Error) -> Self {
        Self::new(ErrorCode::Io, format!("Could not {what}: {err}"))
    }
}

/// Removes anything that looks like a credential from text that came from elsewhere (a server's
/// error body, a URL) before it goes into an error message or a log line, and cuts it short.
pub fn scrub(text: &str, max_chars: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_chars));
    for word in text.split_inclusive(char::is_whitespace) {
        if out.chars().count() > max_chars {
            break;
        }
        let trimmed = word.trim_end();
        let bare = trimmed.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_');
        if looks_like_secret(bare) {
            out.push_str(&trimmed.replace(bare, "[redacted]"));
            out.push_str(&word[trimmed.len()..]);
        } else {
            out.push_str(word);
        }
    }
    if out.chars().count() > max_chars {
        out = out.chars().take(max_chars).collect::<String>();
        out.push('…');
    }
    out
}

fn looks_like_secret(word: &str) -> bool {
    let lower = word.to_ascii_lowercase();
    (lower.starts_with("hf_") && word.len() >= 10)
        || ((lower.starts_with("sk-") || lower.starts_with("gsk_") || lower.starts_with("pk-"))
            && word.len() >= 12)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serialises_as_code_and_message() {
        let err = AppError::new(ErrorCode::KeyringUnavailable, "No keyring");
        let json = serde_json::to_value(&err).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"code": "keyring_unavailable", "message": "No keyring"})
        );
    }

    #[test]
    fn scrub_removes_tokens_and_keys() {
        let text = "bad token hf_abcdefghijklmnop, and key sk-1234567890abcdef.";
        let clean = scrub(text, 200);
        assert!(!clean.contains("hf_abcdefghijklmnop"), "{clean}");
        assert!(!clean.contains("sk-1234567890abcdef"), "{clean}");
        assert!(clean.contains("bad token [redacted],"), "{clean}");
    }

    #[test]
    fn scrub_cuts_long_text() {
        let text = "word ".repeat(100);
        let clean = scrub(&text, 20);
        assert!(clean.chars().count() <= 21, "{clean}");
        assert!(clean.ends_with('…'));
    }
}
