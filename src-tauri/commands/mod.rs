//! The IPC layer: each command forwards to [`Services`] in a few lines, nothing more. The
//! surface (names, argument and result types) is declared once, in `src-tauri/surface.rs`;
//! errors cross as [`AppError`](switchboard_core::error::AppError) (`{code, message}`).

use std::sync::Arc;

use tauri::{AppHandle, Manager, Runtime};

use switchboard_core::config::Config;
use switchboard_core::error::{AppError, AppResult};
use switchboard_core::secrets::Secrets;
use switchboard_core::service::Services;

pub mod account;
pub mod billing;
pub mod chat;
mod dialog;
pub mod embeddings;
pub mod history;
pub mod images;
pub mod perf;
pub mod providers;
pub mod reconcile;
pub mod speech;
mod store;
#[cfg(test)]
mod surface_tests;

// Every type named in `surface.rs`.
#[allow(unused_imports)]
use self::{
    account::{SessionOnlyArgs, SignInArgs, UrlArgs},
    billing::{BilledArgs, TotalsArgs},
    chat::{AttachArgs, CallIdArgs, ChatStartArgs, RefreshArgs, RouteArgs},
    embeddings::EmbedExportArgs,
    history::{ExportArgs, IdArgs, ListArgs, PinArgs, RenameArgs},
    images::{FileArgs, JobIdArgs, VideoCatalogArgs, VideoRouteArgs},
    perf::FirstPaintArgs,
    providers::{EndpointAddArgs, NameArgs, ProviderKeyArgs, ProviderSetArgs, ProvidersGetArgs},
    speech::{AudioFileArgs, AudioPutArgs, SpeechExportArgs, SpeechProvidersArgs, SpeechRouteArgs},
};
#[allow(unused_imports)]
use switchboard_core::{
    auth::{AuthStatus, CliTokenSource},
    billing::{CreditSettings, CreditStatus},
    call::{
        ChatEvent, ChatRequest, ImageEvent, ImageJob, ImageRequest, RouteDecision, StoredImage,
    },
    catalog::Catalog,
    chat::{ChatPreview, PlaygroundPrefs},
    embeddings::EmbeddingComparison,
    history::images::ImageQuery,
    history::ledger::{CallPage, CallQuery, Totals},
    history::sessions::{ConversationCost, ProviderAccuracy},
    history::speech::SpeechRecord,
    history::{Conversation, ConversationSummary, ImportReport, SearchHit, SearchQuery},
    image_catalog::ImageCatalog,
    links::Link,
    service::account::AppInfo,
    service::billing::RateInfo,
    service::chat::ChatStarted,
    service::embeddings::{
        EmbedCompareArgs, EmbedPair, EmbedPairRequest, EmbedRequest, EmbeddingView,
    },
    service::history::{HistoryFacets, HistoryStatus},
    service::images::ImageStarted,
    service::providers::{ProviderSettings, TestResult},
    service::speech::{AudioInfo, SynthesizeRequest, TranscribeRequest},
    service::usage::{ReconcileReport, UsageReport},
    settings::{Settings, Theme},
};

/// Runs `f` on the services on a blocking thread once the history is open: SQLite calls and
/// file writes block, and the async runtime has only a few workers (two on a 2-core machine)
/// that every other command and live stream share.
pub(crate) async fn blocking<R: Runtime, T: Send + 'static>(
    app: AppHandle<R>,
    f: impl FnOnce(&Services) -> AppResult<T> + Send + 'static,
) -> AppResult<T> {
    // Whether it opened or not, `f` sees it at once and without blocking from here on.
    let _ = app.state::<Services>().history.wait().await;
    tauri::async_runtime::spawn_blocking(move || f(&app.state::<Services>()))
        .await
        .map_err(|e| AppError::internal(format!("a background task failed: {e}")))?
}

/// Builds the services at start-up: configuration from the environment, the settings store
/// (`settings.json`, written atomically), the OS keyring, the user's home folder.
pub fn init<R: Runtime>(app: &AppHandle<R>) -> AppResult<Services> {
    let default_data_dir = app
        .path()
        .app_data_dir()
        .map_err(|e| AppError::internal(format!("no data folder: {e}")))?;
    let config = Config::from_env(default_data_dir)?;
    std::fs::create_dir_all(&config.data_dir)
        .map_err(|e| AppError::io("create the data folder", &e))?;
    let store = store::open(&config.data_dir.join("settings.json"));
    let home = app.path().home_dir().unwrap_or_default();
    log::info!("data folder: {}", config.data_dir.display());
    Services::new(config, store, Arc::new(Secrets::os_keyring()), home)
}

/// The declaration in `surface.rs` becomes: [`COMMANDS`], [`handler`] and, for the tests,
/// the TypeScript call map.
macro_rules! surface {
    ($( $area:ident :: $name:ident ( $( $args:ty $(, channel $event:ty)? )? ) -> $ret:ty ; )*) => {
        /// Every command's name, in the order of the declaration.
        #[allow(dead_code)]
        pub const COMMANDS: &[&str] = &[$(stringify!($name)),*];

        /// What Tauri dispatches the window's calls to.
        pub fn handler<R: Runtime>() -> impl Fn(tauri::ipc::Invoke<R>) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($area::$name),*]
        }

        /// One entry per command for the TypeScript call map.
        #[cfg(test)]
        #[allow(unused_parens)]
        pub(crate) fn typescript_entries() -> Vec<surface_tests::Entry> {
            vec![$(
                surface_tests::Entry::new::<$ret>(
                    stringify!($name),
                    surface_tests::ts_of::<($($args)?)>(),
                    surface_tests::ts_of::<($($($event)?)?)>(),
                )
            ),*]
        }
    };
}

include!("../surface.rs");
