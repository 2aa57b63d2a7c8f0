//! Secrets: the HF token and provider keys.
//!
//! They live only in the OS keyring (Secret Service on Linux, Keychain on macOS, Credential
//! Manager on Windows), through the `keyring` crate. When no keyring can be reached the user may
//! choose to keep a secret for this session only, in memory. There is no file fallback, on
//! purpose. A [`Secret`] never prints itself (`Debug` is redacted) and is wiped from memory on
//! drop; the UI only ever learns [`Secret::last4`].

use std::collections::HashMap;
use std::fmt;
use std::sync::Mutex;

use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use crate::error::{AppError, AppResult, ErrorCode};

/// Service name of every keyring entry the app writes.
pub const KEYRING_SERVICE: &str = "switchboard";
/// Keyring entry of the Hugging Face token.
pub const HF_TOKEN_ENTRY: &str = "hf-token";

/// A secret string. Not `Clone` by accident, not printable, zeroed on drop.
pub struct Secret(Zeroizing<String>);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The value, for the one place that needs it (an `Authorization` header, the keyring).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The last four characters: all the UI may ever see of a secret.
    pub fn last4(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        chars[chars.len().saturating_sub(4)..].iter().collect()
    }

    pub fn duplicate(&self) -> Self {
        Self::new(self.0.as_str().to_owned())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret(…{})", self.last4())
    }
}

/// Where a secret is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Storage {
    /// The OS keyring: survives restarts.
    Keyring,
    /// Memory only: gone when the app quits.
    Session,
}

/// Why a backend failed, without any secret in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendError {
    /// No keyring service can be reached, or it refused access.
    Unavailable(String),
    /// Anything else.
    Other(String),
}

/// A place to keep secrets by name.
pub trait SecretBackend: Send + Sync {
    fn get(&self, name: &str) -> Result<Option<Secret>, BackendError>;
    fn set(&self, name: &str, secret: &Secret) -> Result<(), BackendError>;
    /// Deleting an absent entry is not an error.
    fn delete(&self, name: &str) -> Result<(), BackendError>;
}

/// The OS keyring.
pub struct KeyringBackend {
    service: String,
}

impl KeyringBackend {
    pub fn new(service: impl Into<String>) -> Self {
        Self {
            service: service.into(),
        }
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, BackendError> {
        keyring::Entry::new(&self.service, name).map_err(map_keyring_error)
    }
}

fn map_keyring_error(err: keyring::Error) -> BackendError {
    use keyring::Error as E;
    match err {
        E::PlatformFailure(e) => BackendError::Unavailable(e.to_string()),
        E::NoStorageAccess(e) => BackendError::Unavailable(e.to_string()),
        other => BackendError::Other(other.to_string()),
    }
}

impl SecretBackend for KeyringBackend {
    fn get(&self, name: &str) -> Result<Option<Secret>, BackendError> {
        match self.entry(name)?.get_password() {
            Ok(v) => Ok(Some(Secret::new(v))),
            Err(keyring::Error::NoEntry) => Ok(None),
            Err(e) => Err(map_keyring_error(e)),
        }
    }

    fn set(&self, name: &str, secret: &Secret) -> Result<(), BackendError> {
        self.entry(name)?
            .set_password(secret.expose())
            .map_err(map_keyring_error)
    }

    fn delete(&self, name: &str) -> Result<(), BackendError> {
        match self.entry(name)?.delete_credential() {
            Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
            Err(e) => Err(map_keyring_error(e)),
        }
    }
}

/// Secrets in memory: the session-only fallback, and a stand-in keyring for unit tests.
#[derive(Default)]
pub struct MemoryBackend {
    map: Mutex<HashMap<String, Secret>>,
}

impl SecretBackend for MemoryBackend {
    fn get(&self, name: &str) -> Result<Option<Secret>, BackendError> {
        Ok(self.lock().get(name).map(Secret::duplicate))
    }

    fn set(&self, name: &str, secret: &Secret) -> Result<(), BackendError> {
        self.lock().insert(name.to_string(), secret.duplicate());
        Ok(())
    }

    fn delete(&self, name: &str) -> Result<(), BackendError> {
        self.lock().remove(name);
        Ok(())
    }
}

impl MemoryBackend {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Secret>> {
        // A panic while holding this lock cannot leave the map half-written.
        self.map.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// The app's secrets: the keyring, with a session-only overlay that wins when set.
pub struct Secrets {
    keyring: Box<dyn SecretBackend>,
    session: MemoryBackend,
}

impl Secrets {
    pub fn new(keyring: Box<dyn SecretBackend>) -> Self {
        Self {
            keyring,
            session: MemoryBackend::default(),
        }
    }

    pub fn os_keyring() -> Self {
        Self::new(Box::new(KeyringBackend::new(KEYRING_SERVICE)))
    }

    /// The secret `name` and where it is kept, or `None`. A session secret wins over the keyring.
    pub fn get(&self, name: &str) -> AppResult<Option<(Secret, Storage)>> {
        if let Some(s) = self.session.get(name).map_err(to_app_error)? {
            return Ok(Some((s, Storage::Session)));
        }
        Ok(self
            .keyring
            .get(name)
            .map_err(to_app_error)?
            .map(|s| (s, Storage::Keyring)))
    }

    /// Whether the keyring answers at all (a read of an entry that may not exist).
    pub fn keyring_available(&self) -> bool {
        self.keyring.get(HF_TOKEN_ENTRY).is_ok()
    }

    /// Keeps `secret` under `name` in `storage`, replacing any earlier value in either place.
    pub fn set(&self, name: &str, secret: &Secret, storage: Storage) -> AppResult<()> {
        match storage {
            Storage::Keyring => {
                self.keyring.set(name, secret).map_err(to_app_error)?;
                // Only once the keyring holds the new one may a session copy go.
                self.session.delete(name).map_err(to_app_error)
            }
            Storage::Session => self.session.set(name, secret).map_err(to_app_error),
        }
    }

    /// Removes `name` from memory and from the keyring.
    pub fn delete(&self, name: &str) -> AppResult<()> {
        self.session.delete(name).map_err(to_app_error)?;
        self.keyring.delete(name).map_err(to_app_error)
    }
}

fn to_app_error(err: BackendError) -> AppError {
    match err {
        BackendError::Unavailable(detail) => AppError::new(
            ErrorCode::KeyringUnavailable,
            format!("The system keyring could not be reached ({detail})."),
        ),
        BackendError::Other(detail) => AppError::new(
            ErrorCode::KeyringUnavailable,
            format!("The system keyring refused the operation ({detail})."),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A keyring that is never there.
    struct NoKeyring;
    impl SecretBackend for NoKeyring {
        fn get(&self, _: &str) -> Result<Option<Secret>, BackendError> {
            Err(BackendError::Unavailable("no Secret Service".into()))
        }
        fn set(&self, _: &str, _: &Secret) -> Result<(), BackendError> {
            Err(BackendError::Unavailable("no Secret Service".into()))
        }
        fn delete(&self, _: &str) -> Result<(), BackendError> {
            Err(BackendError::Unavailable("no Secret Service".into()))
        }
    }

    #[test]
    fn secret_never_prints_itself() {
        let s = Secret::new("hf_supersecretvalue1234".into());
        assert_eq!(format!("{s:?}"), "Secret(…1234)");
        assert_eq!(s.last4(), "1234");
        assert_eq!(Secret::new("ab".into()).last4(), "ab");
    }

    #[test]
    fn keyring_round_trip_and_delete() {
        let secrets = Secrets::new(Box::<MemoryBackend>::default());
        assert!(secrets.get("hf-token").unwrap().is_none());
        secrets
            .set("hf-token", &Secret::new("hf_one".into()), Storage::Keyring)
            .unwrap();
        let (s, storage) = secrets.get("hf-token").unwrap().unwrap();
        assert_eq!((s.expose(), storage), ("hf_one", Storage::Keyring));
        secrets.delete("hf-token").unwrap();
        assert!(secrets.get("hf-token").unwrap().is_none());
        // Deleting twice is fine.
        secrets.delete("hf-token").unwrap();
    }

    #[test]
    fn session_secret_wins_until_saved_to_keyring() {
        let secrets = Secrets::new(Box::<MemoryBackend>::default());
        secrets
            .set("k", &Secret::new("old".into()), Storage::Keyring)
            .unwrap();
        secrets
            .set("k", &Secret::new("session".into()), Storage::Session)
            .unwrap();
        assert_eq!(secrets.get("k").unwrap().unwrap().1, Storage::Session);
        secrets
            .set("k", &Secret::new("new".into()), Storage::Keyring)
            .unwrap();
        let (s, storage) = secrets.get("k").unwrap().unwrap();
        assert_eq!((s.expose(), storage), ("new", Storage::Keyring));
    }

    #[test]
    fn without_keyring_reports_unavailable_and_session_still_works() {
        let secrets = Secrets::new(Box::new(NoKeyring));
        assert!(!secrets.keyring_available());
        let err = secrets
            .set("k", &Secret::new("v".into()), Storage::Keyring)
            .unwrap_err();
        assert_eq!(err.code, ErrorCode::KeyringUnavailable);
        secrets
            .set("k", &Secret::new("v".into()), Storage::Session)
            .unwrap();
        assert_eq!(secrets.get("k").unwrap().unwrap().1, Storage::Session);
    }
}
