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
    /// The history database is locked by another program (or another copy of Switchboard)
    /// for longer than we wait.
    HistoryBusy,
    /// A streamed answer whose body ended cleanly without the server saying it was finished
    /// (no `[DONE]`, no finish reason): perhaps incomplete, but no connection broke.
    AnswerUnfinished,
    /// The server redirected a request that carries a credential or a conversation elsewhere
    /// (another host, or from https to http); the redirect was not followed.
    Redirected,
    /// An answer (a chat body, a streamed answer, an avatar, a small JSON answer) passed the
    /// size the app reads; it stopped reading there.
    TooLarge,
    /// A custom endpoint on plain http to a public host, without the user's choice to send
    /// without encryption.
    InsecureEndpoint,
    /// A call pinned to a provider the user turned off in Providers.
    ProviderDisabled,
    /// 403 from Hugging Face's billing endpoints: the token may not read billing (a
    /// fine-grained token without "Billing: read").
    BillingForbidden,
    /// The provider's safety filter flagged the picture (or the prompt): nothing to show.
    ContentFlagged,
    /// An image job the provider accepted ended in failure (or the app ended before a provider
    /// with no job to resume answered).
    JobFailed,
    /// A result said to be a picture is not one (checked by its content).
    NotAnImage,
    /// Pictures attached to a chat message for a model whose catalog entry takes no image
    /// input: nothing was sent.
    ImageInputUnsupported,
    /// A file (or an answer) said to be audio is not audio the app knows (checked by its
    /// content), or the provider could not read the audio it was sent.
    NotAudio,
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

    /// The same error with `secret` (the credential the request carried), and any long piece
    /// of it, taken out of the message: a server may quote the key it was sent.
    pub fn without_secret(mut self, secret: &str) -> Self {
        self.message = redact_secret(&self.message, secret);
        self
    }
}

/// Pieces of a credential at least this long are taken out of server text.
const MIN_SECRET_FRAGMENT: usize = 12;

/// Replaces `secret`, and every piece of it of [`MIN_SECRET_FRAGMENT`] characters or more, by
/// `[redacted]` in `text`. Whatever the key's shape: the shape matching of [`scrub`] only
/// knows a few providers' prefixes.
pub fn redact_secret(text: &str, secret: &str) -> String {
    let secret = secret.trim();
    if secret.is_empty() {
        return text.to_string();
    }
    let mut out = text.replace(secret, "[redacted]");
    if !secret.is_ascii() || secret.len() <= MIN_SECRET_FRAGMENT {
        return out;
    }
    // The longest piece of the secret starting at each position of the text. The secret is
    // ASCII, so a match starts and ends on character boundaries.
    let (t, k) = (out.as_bytes(), secret.as_bytes());
    let mut kept = String::with_capacity(out.len());
    let (mut i, mut from) = (0, 0);
    while i < t.len() {
        let longest = (0..k.len())
            .map(|j| {
                t[i..]
                    .iter()
                    .zip(&k[j..])
                    .take_while(|(a, b)| a == b)
                    .count()
            })
            .max()
            .unwrap_or(0);
        if longest >= MIN_SECRET_FRAGMENT {
            kept.push_str(&out[from..i]);
            kept.push_str("[redacted]");
            i += longest;
            from = i;
        } else {
            i += 1;
        }
    }
    kept.push_str(&out[from..]);
    out = kept;
    out
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
    /// Key prefixes of the providers the app calls (OpenAI, Groq, Replicate, Fireworks,
    /// Cerebras, fal, the test double…).
    const PREFIXES: [&str; 9] = [
        "sk-", "gsk_", "pk-", "r8_", "fw_", "csk-", "xai-", "nvapi-", "key-",
    ];
    let lower = word.to_ascii_lowercase();
    (lower.starts_with("hf_") && word.len() >= 10)
        || (PREFIXES.iter().any(|p| lower.starts_with(p)) && word.len() >= 12)
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
    fn the_exact_key_is_redacted_whatever_its_shape() {
        for key in [
            "r8_Abcdefghijklmnopqrstuvwxyz0123456789",
            "fw_3ZkYxWvUtSrQpOnMlKjIhGfE",
            "csk-9x8w7v6u5t4s3r2q1p0onmlkjihg",
            "mygatewaysecret0123456789",
            "hf_doubleProUserBBBBBBBBBBBBBBBBBBBBBBBB",
        ] {
            let said = format!("Incorrect API key provided: {key}. Check it.");
            let clean = redact_secret(&said, key);
            assert!(!clean.contains(key), "{clean}");
            assert_eq!(clean, "Incorrect API key provided: [redacted]. Check it.");
            // A long piece of it, quoted alone or glued to other text.
            let piece = &key[4..20];
            let clean = redact_secret(&format!("key ending …{piece}, and x{piece}y"), key);
            assert!(!clean.contains(piece), "{clean}");
            // Text without the key is left alone, even where short bits match.
            let plain = "Model is not supported by provider groq (key rejected)";
            assert_eq!(redact_secret(plain, key), plain);
        }
        // Other shapes the scrubber now knows without being told the key.
        for key in [
            "r8_Abcdefghijklmnop",
            "fw_3ZkYxWvUtSrQp",
            "csk-9x8w7v6u5t4s3",
        ] {
            let clean = scrub(&format!("bad key {key}"), 200);
            assert_eq!(clean, "bad key [redacted]", "{key}");
        }
        let e = AppError::new(ErrorCode::Unauthorized, "it said sk_live_ABCDEFGHIJKLMNOP");
        assert!(!e
            .without_secret("sk_live_ABCDEFGHIJKLMNOP")
            .message
            .contains("ABCDEFGHIJKLMNOP"));
    }

    #[test]
    fn scrub_cuts_long_text() {
        let text = "word ".repeat(100);
        let clean = scrub(&text, 20);
        assert!(clean.chars().count() <= 21, "{clean}");
        assert!(clean.ends_with('…'));
    }
}
