//! Signing in with a Hugging Face token.
//!
//! The token is checked with whoami before it is kept; a token that fails the check never
//! replaces the one already saved. It is kept in the OS keyring (or, when the user chooses so
//! because no keyring is reachable, in memory for this session). The account is cached in the
//! settings store so whoami, which Hugging Face rate-limits strictly, is not called at every start.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::Serialize;
use ts_rs::TS;

use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{Account, HfClient};
use crate::secrets::{Secret, Secrets, Storage, HF_TOKEN_ENTRY};
use crate::settings::{get_typed, set_typed, Store, KEY_ACCOUNT};

/// What the UI knows about the sign-in. Never the token itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct AuthStatus {
    pub signed_in: bool,
    /// Where the token is kept, when signed in.
    pub storage: Option<Storage>,
    /// The token's last four characters, when signed in.
    pub token_last4: Option<String>,
    pub account: Option<Account>,
    /// Whether the OS keyring answers. When it does not, the UI offers a session-only sign-in.
    pub keyring_available: bool,
    /// Hugging Face answered a call made with this token with 401: the account needs a new
    /// token, until one works (a sign-in, or a call through Hugging Face that succeeds).
    pub token_rejected: bool,
}

/// The settings key of [`AuthStatus::token_rejected`].
const KEY_TOKEN_REJECTED: &str = "tokenRejected";

/// Notes whether Hugging Face just rejected the saved token (401 on a routed call) or accepted
/// it. Nothing about the token itself is stored.
pub fn note_token_rejected(store: &dyn Store, rejected: bool) -> AppResult<()> {
    let was = get_typed::<bool>(store, KEY_TOKEN_REJECTED).unwrap_or(false);
    match (was, rejected) {
        (false, true) => {
            log::warn!("Hugging Face rejected the saved token: the account needs a new one");
            set_typed(store, KEY_TOKEN_REJECTED, &true)
        }
        (true, false) => store.delete(KEY_TOKEN_REJECTED),
        _ => Ok(()),
    }
}

/// A token found where `huggingface-cli login` or the environment keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CliTokenSource {
    /// `HF_TOKEN` or the file's path, for the UI to say where it comes from.
    pub source: String,
    pub last4: String,
}

/// Cleans what the user pasted and checks it is shaped like an HF token.
pub fn normalize_token(raw: &str) -> AppResult<Secret> {
    let token = raw.trim();
    if token.is_empty() {
        return Err(AppError::new(
            ErrorCode::TokenEmpty,
            "Paste a Hugging Face access token first.",
        ));
    }
    let well_formed = token.starts_with("hf_")
        && token.len() >= 10
        && token.len() <= 200
        && token
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if !well_formed {
        return Err(AppError::new(
            ErrorCode::TokenMalformed,
            "This does not look like a Hugging Face access token: tokens start with “hf_” and contain only letters, digits and underscores.",
        ));
    }
    Ok(Secret::new(token.to_string()))
}

/// Where `huggingface-cli login` keeps its token: `$HF_TOKEN_PATH`, else `$HF_HOME/token`, else
/// `$XDG_CACHE_HOME/huggingface/token`, else `~/.cache/huggingface/token`.
pub fn cli_token_path(env: &dyn Fn(&str) -> Option<String>, home: &Path) -> PathBuf {
    let var = |k: &str| env(k).filter(|v| !v.is_empty());
    if let Some(p) = var("HF_TOKEN_PATH") {
        return PathBuf::from(p);
    }
    let hf_home = var("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
        var("XDG_CACHE_HOME")
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".cache"))
            .join("huggingface")
    });
    hf_home.join("token")
}

/// The token `huggingface_hub` would use: `HF_TOKEN` (or the older `HUGGING_FACE_HUB_TOKEN`),
/// else the saved login file.
pub fn find_cli_token(
    env: &dyn Fn(&str) -> Option<String>,
    home: &Path,
) -> Option<(Secret, CliTokenSource)> {
    for var in ["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"] {
        if let Some(v) = env(var).filter(|v| !v.trim().is_empty()) {
            let secret = Secret::new(v.trim().to_string());
            let source = CliTokenSource {
                source: var.to_string(),
                last4: secret.last4(),
            };
            return Some((secret, source));
        }
    }
    let path = cli_token_path(env, home);
    let text = zeroize::Zeroizing::new(std::fs::read_to_string(&path).ok()?);
    let token = text.trim();
    if token.is_empty() {
        return None;
    }
    let secret = Secret::new(token.to_string());
    let source = CliTokenSource {
        source: path.display().to_string(),
        last4: secret.last4(),
    };
    Some((secret, source))
}

pub fn now_unix() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// Sign-in, sign-out and the account cache.
pub struct Auth {
    hf: HfClient,
    secrets: Arc<Secrets>,
    store: Arc<dyn Store>,
}

impl Auth {
    pub fn new(hf: HfClient, secrets: Arc<Secrets>, store: Arc<dyn Store>) -> Self {
        Self { hf, secrets, store }
    }

    /// The saved token, if any. An unreachable keyring reads as "no token".
    pub fn token(&self) -> Option<(Secret, Storage)> {
        self.secrets.get(HF_TOKEN_ENTRY).ok().flatten()
    }

    /// The cached account (no network), if signed in before.
    pub fn cached_account(&self) -> Option<Account> {
        get_typed(&*self.store, KEY_ACCOUNT)
    }

    /// The current state. Asks whoami only when a token is saved but no account is cached
    /// (e.g. the app stopped between saving the token and caching the answer).
    pub async fn status(&self) -> AuthStatus {
        let (token, keyring_available) = match self.secrets.get(HF_TOKEN_ENTRY) {
            // A session token is read from memory: the keyring was not asked, so ask it.
            Ok(Some((t, Storage::Session))) => (
                Some((t, Storage::Session)),
                self.secrets.keyring_available(),
            ),
            Ok(t) => (t, true),
            Err(_) => (None, false),
        };
        let Some((token, storage)) = token else {
            return AuthStatus {
                signed_in: false,
                storage: None,
                token_last4: None,
                account: None,
                keyring_available,
                token_rejected: false,
            };
        };
        let mut account: Option<Account> = get_typed(&*self.store, KEY_ACCOUNT);
        if account.is_none() {
            account = self.fetch_account(&token).await.ok();
            if let Some(a) = &account {
                // A cache write failure only costs a whoami call next time.
                let _ = set_typed(&*self.store, KEY_ACCOUNT, a);
            }
        }
        AuthStatus {
            signed_in: true,
            storage: Some(storage),
            token_last4: Some(token.last4()),
            account,
            keyring_available,
            token_rejected: get_typed(&*self.store, KEY_TOKEN_REJECTED).unwrap_or(false),
        }
    }

    async fn fetch_account(&self, token: &Secret) -> AppResult<Account> {
        let who = self.hf.whoami(token).await?;
        let avatar = match &who.avatar_url {
            Some(url) => self.hf.fetch_avatar(url).await,
            None => None,
        };
        Ok(who.into_account(avatar, now_unix()))
    }

    /// Checks `raw` with whoami, then keeps it in `storage`. On any failure the previously
    /// saved token stays as it was.
    pub async fn sign_in(&self, raw: &str, storage: Storage) -> AppResult<AuthStatus> {
        let token = normalize_token(raw)?;
        self.sign_in_with(token, storage).await
    }

    async fn sign_in_with(&self, token: Secret, storage: Storage) -> AppResult<AuthStatus> {
        let account = self
            .fetch_account(&token)
            .await
            .map_err(explain_sign_in_error)?;
        self.secrets.set(HF_TOKEN_ENTRY, &token, storage)?;
        set_typed(&*self.store, KEY_ACCOUNT, &account)?;
        note_token_rejected(&*self.store, false)?;
        log::info!(
            "signed in as {} (token kept in {:?})",
            account.name,
            storage
        );
        // The account is cached now, so this reads it back without another whoami call.
        Ok(self.status().await)
    }

    /// Signs in with the token `huggingface-cli login` saved, or `HF_TOKEN`.
    pub async fn import_cli_token(
        &self,
        env: &(dyn Fn(&str) -> Option<String> + Sync),
        home: &Path,
        storage: Storage,
    ) -> AppResult<AuthStatus> {
        let (secret, _) = find_cli_token(env, home).ok_or_else(|| {
            AppError::new(
                ErrorCode::NoCliToken,
                "No token from huggingface-cli was found (neither HF_TOKEN nor a saved login).",
            )
        })?;
        let token = normalize_token(secret.expose())?;
        self.sign_in_with(token, storage).await
    }

    /// Asks whoami again (the user asked for it) and updates the cache.
    pub async fn refresh(&self) -> AppResult<AuthStatus> {
        let (token, _) = self.token().ok_or_else(not_signed_in)?;
        let account = self.fetch_account(&token).await?;
        set_typed(&*self.store, KEY_ACCOUNT, &account)?;
        Ok(self.status().await)
    }

    /// Removes the token from the keyring and memory, and forgets the account.
    pub fn sign_out(&self) -> AppResult<()> {
        self.secrets.delete(HF_TOKEN_ENTRY)?;
        self.store.delete(KEY_ACCOUNT)?;
        note_token_rejected(&*self.store, false)?;
        log::info!("signed out");
        Ok(())
    }
}

fn not_signed_in() -> AppError {
    AppError::new(
        ErrorCode::NotSignedIn,
        "Sign in with a Hugging Face token first.",
    )
}

/// Words specific to a token check: a 401 at sign-in means this token is wrong.
fn explain_sign_in_error(err: AppError) -> AppError {
    match err.code {
        ErrorCode::Unauthorized => AppError::new(
            ErrorCode::Unauthorized,
            "Hugging Face does not recognise this token: it may be mistyped, revoked or expired. Your previous sign-in, if any, is unchanged.",
        ),
        ErrorCode::Forbidden => AppError::new(
            ErrorCode::Forbidden,
            format!("{} Your previous sign-in, if any, is unchanged.", err.message),
        ),
        _ => err,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn token_shapes() {
        assert_eq!(
            normalize_token("  ").unwrap_err().code,
            ErrorCode::TokenEmpty
        );
        assert_eq!(
            normalize_token("sk-abc123456789").unwrap_err().code,
            ErrorCode::TokenMalformed
        );
        assert_eq!(
            normalize_token("hf_abc def123456").unwrap_err().code,
            ErrorCode::TokenMalformed
        );
        assert_eq!(
            normalize_token("hf_x").unwrap_err().code,
            ErrorCode::TokenMalformed
        );
        // Pasted with a newline and spaces around it: fine.
        let t = normalize_token("\n hf_AbCdEfGhIjKlMnOp \r\n").unwrap();
        assert_eq!(t.expose(), "hf_AbCdEfGhIjKlMnOp");
    }

    #[test]
    fn malformed_message_does_not_echo_input() {
        let err = normalize_token("hf_secret value with spaces").unwrap_err();
        assert!(!err.message.contains("secret value"));
    }

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn cli_token_path_follows_huggingface_hub() {
        let home = Path::new("/home/u");
        assert_eq!(
            cli_token_path(&env_of(&[]), home),
            PathBuf::from("/home/u/.cache/huggingface/token")
        );
        assert_eq!(
            cli_token_path(&env_of(&[("XDG_CACHE_HOME", "/x")]), home),
            PathBuf::from("/x/huggingface/token")
        );
        assert_eq!(
            cli_token_path(
                &env_of(&[("HF_HOME", "/hf"), ("XDG_CACHE_HOME", "/x")]),
                home
            ),
            PathBuf::from("/hf/token")
        );
        assert_eq!(
            cli_token_path(
                &env_of(&[("HF_TOKEN_PATH", "/t"), ("HF_HOME", "/hf")]),
                home
            ),
            PathBuf::from("/t")
        );
    }

    #[test]
    fn finds_env_token_first_then_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), "hf_fromFile0000wxyz\n").unwrap();
        let hf_home = dir.path().to_str().unwrap();
        let (s, src) =
            find_cli_token(&env_of(&[("HF_HOME", hf_home)]), Path::new("/nowhere")).unwrap();
        assert_eq!(s.expose(), "hf_fromFile0000wxyz");
        assert_eq!(src.last4, "wxyz");
        assert!(src.source.ends_with("token"));
        let (s, src) = find_cli_token(
            &env_of(&[("HF_HOME", hf_home), ("HF_TOKEN", "hf_fromEnv00001234")]),
            Path::new("/nowhere"),
        )
        .unwrap();
        assert_eq!(
            (s.expose(), src.source.as_str()),
            ("hf_fromEnv00001234", "HF_TOKEN")
        );
        assert!(find_cli_token(&env_of(&[]), Path::new("/nowhere")).is_none());
    }
}
