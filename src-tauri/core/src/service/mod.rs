//! The services: everything a command does, end to end, with no Tauri. The app crate builds one
//! [`Services`] at start-up (handing it its settings [`Store`] and data folder) and each of its
//! commands forwards to a method here. Tests build one from a temporary folder, a
//! [`MemoryStore`](crate::settings::MemoryStore) and the HF test double.
//!
//! - [`account`]: app info, the token (sign in/out, the CLI token), theme;
//! - [`chat`]: the catalog, and a call run end to end: resolve → save → stream → record → mark
//!   used up; running calls belong to the services, not to a screen;
//! - [`history`]: the history opened on its own thread, and its commands;
//! - [`providers`]: routed or own key per provider, keys, custom endpoints;
//! - [`billing`]: the credits meter, the ledger and its totals;
//! - [`images`]: picture and video generations as durable jobs, the gallery;
//! - `reach`: how a call of another task than chat reaches its provider (router or own key).

pub mod account;
pub mod billing;
pub mod chat;
pub mod embeddings;
pub mod history;
pub mod images;
pub mod providers;
mod reach;
pub mod speech;
pub mod usage;

use std::path::PathBuf;
use std::sync::Arc;

use crate::auth::Auth;
use crate::config::Config;
use crate::error::{AppError, AppResult};
use crate::hf::HfClient;
use crate::secrets::Secrets;
use crate::settings::Store;

/// The app's state: configuration, the one HTTP client, the keyring, the settings store, the
/// history and the running calls.
pub struct Services {
    pub config: Config,
    pub auth: Auth,
    pub hf: HfClient,
    pub store: Arc<dyn Store>,
    /// The user's home folder (where `huggingface-cli` keeps its token).
    pub home: PathBuf,
    pub secrets: Arc<Secrets>,
    pub chat: Arc<chat::ChatState>,
    pub history: history::HistorySlot,
    /// The throttle of Hugging Face's billing endpoints.
    pub usage: Arc<usage::UsageState>,
    /// Image generations being waited on.
    pub images: Arc<images::ImageState>,
    /// Speech runs being waited on (a start-up resume leaves them alone).
    speech_in_flight: speech::SpeechInFlight,
}

impl Services {
    /// Builds the services over `store` and `secrets`, creating the data folder; the history
    /// starts opening on a thread of its own.
    pub fn new(
        config: Config,
        store: Arc<dyn Store>,
        secrets: Arc<Secrets>,
        home: PathBuf,
    ) -> AppResult<Self> {
        std::fs::create_dir_all(&config.data_dir)
            .map_err(|e| AppError::io("create the data folder", &e))?;
        let hf = HfClient::new(config.endpoints.clone())?;
        let auth = Auth::new(hf.clone(), secrets.clone(), store.clone());
        let chat = Arc::new(chat::ChatState::new(
            &config.data_dir,
            config.chat_timeout_secs,
        ));
        let history = history::HistorySlot::open(config.data_dir.join("history.sqlite3"));
        let config_dir = config.data_dir.clone();
        Ok(Self {
            config,
            auth,
            hf,
            store,
            home,
            secrets,
            chat,
            history,
            usage: Arc::default(),
            images: Arc::new(images::ImageState::new(&config_dir)?),
            speech_in_flight: Arc::default(),
        })
    }
}
