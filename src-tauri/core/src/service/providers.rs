//! Provider settings: routed or own key per provider, keys in the keyring (the UI only ever
//! learns "set, ends in abcd"), key tests, and custom OpenAI-compatible endpoints.

use std::time::Duration;

use serde::Serialize;
use ts_rs::TS;
use zeroize::Zeroizing;

use super::Services;
use crate::call::Task;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{looks_like_html, send_for_text};
use crate::providers::{
    self, check_transport, endpoint_key_entry, normalize_base_url, normalize_key, parse_model_list,
    provider_key_entry, CustomEndpoint, ProviderMode, ProviderPrefs,
};
use crate::secrets::{Secret, Secrets, Storage};

const TEST_TIMEOUT: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct KeyInfo {
    pub last4: String,
    pub storage: Storage,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderRow {
    pub name: String,
    pub display: String,
    pub enabled: bool,
    pub mode: ProviderMode,
    pub supports_chat: bool,
    /// What the app can ask of it (chat, pictures, video, speech, embeddings), in that order.
    pub tasks: Vec<Task>,
    /// A direct call with the user's key is possible.
    pub own_key_possible: bool,
    /// Calls pinned to it go straight to it with the user's key (decided here, shown as is).
    pub calls_directly: bool,
    /// The router serves it (false for OpenAI).
    pub routed_possible: bool,
    pub key: Option<KeyInfo>,
    pub key_page: Option<String>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EndpointRow {
    #[serde(flatten)]
    pub endpoint: CustomEndpoint,
    /// The provider name its models carry in the catalog and the pickers.
    pub offer: String,
    pub key: Option<KeyInfo>,
}

#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderSettings {
    pub providers: Vec<ProviderRow>,
    pub endpoints: Vec<EndpointRow>,
}

/// The result of a key or endpoint test, in words.
#[derive(Debug, Clone, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct TestResult {
    pub models: u32,
    pub message: String,
}

fn key_info(secrets: &Secrets, entry: &str) -> Option<KeyInfo> {
    match secrets.get(entry) {
        Ok(Some((s, storage))) => Some(KeyInfo {
            last4: s.last4(),
            storage,
        }),
        _ => None,
    }
}

/// What the app can ask of a provider, routed or with its key.
fn provider_tasks(p: &providers::ProviderDef) -> Vec<Task> {
    use crate::speech::{protocol as speech, SpeechKind};
    let name = p.name.as_str();
    let mut tasks = Vec::new();
    if p.supports_chat() {
        tasks.push(Task::Chat);
    }
    if crate::images::protocol(name).is_some() {
        tasks.push(Task::TextToImage);
    }
    if crate::images::protocol_for(name, Task::TextToVideo).is_some() {
        tasks.push(Task::TextToVideo);
    }
    if crate::images::protocol_for(name, Task::ImageToVideo).is_some() {
        tasks.push(Task::ImageToVideo);
    }
    if speech(SpeechKind::Stt, name).is_some() {
        tasks.push(Task::SpeechToText);
    }
    if speech(SpeechKind::Tts, name).is_some() {
        tasks.push(Task::TextToSpeech);
    }
    if crate::embeddings::supported(name) {
        tasks.push(Task::FeatureExtraction);
    }
    tasks
}

/// The settings; `with_keys` also asks the keyring which keys are set (slow: one keyring read
/// per provider), which only the Providers screen needs.
fn settings_with(state: &Services, with_keys: bool) -> ProviderSettings {
    let prefs = ProviderPrefs::load(&*state.store);
    let providers = providers::table()
        .iter()
        .map(|p| (p, provider_tasks(p)))
        .filter(|(_, tasks)| !tasks.is_empty())
        .map(|(p, tasks)| {
            let pref = prefs.pref(&p.name);
            ProviderRow {
                name: p.name.clone(),
                display: p.display.clone(),
                enabled: pref.enabled,
                mode: pref.mode,
                supports_chat: p.supports_chat(),
                tasks,
                own_key_possible: p.supports_own_key_any(),
                calls_directly: pref.calls_directly(Some(p)),
                routed_possible: !p.own_key_only,
                key: with_keys
                    .then(|| key_info(&state.secrets, &provider_key_entry(&p.name)))
                    .flatten(),
                key_page: p.keys.clone(),
            }
        })
        .collect();
    let endpoints = prefs
        .endpoints
        .iter()
        .map(|e| EndpointRow {
            endpoint: e.clone(),
            offer: e.offer(),
            key: with_keys
                .then(|| key_info(&state.secrets, &endpoint_key_entry(&e.id)))
                .flatten(),
        })
        .collect();
    ProviderSettings {
        providers,
        endpoints,
    }
}

fn storage_for(secrets: &Secrets) -> Storage {
    if secrets.keyring_available() {
        Storage::Keyring
    } else {
        Storage::Session
    }
}

/// Lists models with `key` at `url`: a free call that proves the key (or endpoint) works.
/// `authorization` is the header's value and `key` the credential in it, taken out of any error
/// that quotes the server.
async fn list_models(
    http: &reqwest::Client,
    url: &str,
    authorization: Option<(String, &Secret)>,
    who: &str,
) -> AppResult<Vec<String>> {
    let mut req = http.get(url).timeout(TEST_TIMEOUT);
    let key = authorization.as_ref().map(|(_, k)| *k);
    if let Some((a, _)) = &authorization {
        req = req.header(reqwest::header::AUTHORIZATION, a);
    }
    let (_, headers, body) = send_for_text(req, who).await.map_err(|e| match key {
        Some(k) => e.without_secret(k.expose()),
        None => e,
    })?;
    if looks_like_html(&headers, &body) {
        return Err(AppError::new(
            ErrorCode::BadResponse,
            format!("{who} answered with a web page, not a model list. Is the address right?"),
        ));
    }
    parse_model_list(&body).ok_or_else(|| {
        AppError::new(
            ErrorCode::BadResponse,
            format!("{who} did not answer with an OpenAI-style model list."),
        )
    })
}

impl Services {
    /// `with_keys: false` leaves out which keys are set (the playground only needs the choices).
    pub async fn providers_get(&self, with_keys: Option<bool>) -> AppResult<ProviderSettings> {
        Ok(settings_with(self, with_keys.unwrap_or(true)))
    }

    pub async fn provider_set(
        &self,
        name: String,
        enabled: bool,
        mode: ProviderMode,
    ) -> AppResult<ProviderSettings> {
        let def = providers::get(&name).ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("Unknown provider {name}."))
        })?;
        if mode == ProviderMode::OwnKey && !def.supports_own_key_any() {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!("{} can only be used through Hugging Face.", def.display),
            ));
        }
        let mut prefs = ProviderPrefs::load(&*self.store);
        prefs
            .providers
            .insert(name, providers::ProviderPref { enabled, mode });
        prefs.save(&*self.store)?;
        Ok(settings_with(self, true))
    }

    pub async fn provider_key_set(&self, name: String, key: String) -> AppResult<ProviderSettings> {
        let key = Zeroizing::new(key);
        providers::get(&name).ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("Unknown provider {name}."))
        })?;
        let secret = normalize_key(&key)?;
        self.secrets.set(
            &provider_key_entry(&name),
            &secret,
            storage_for(&self.secrets),
        )?;
        log::info!("a key was saved for provider {name}");
        Ok(settings_with(self, true))
    }

    pub async fn provider_key_remove(&self, name: String) -> AppResult<ProviderSettings> {
        self.secrets.delete(&provider_key_entry(&name))?;
        let mut prefs = ProviderPrefs::load(&*self.store);
        if prefs.provider_models.remove(&name).is_some() {
            prefs.save(&*self.store)?;
        }
        Ok(settings_with(self, true))
    }

    pub async fn provider_key_test(&self, name: String) -> AppResult<TestResult> {
        let def = providers::get(&name).ok_or_else(|| {
            AppError::new(ErrorCode::NotFound, format!("Unknown provider {name}."))
        })?;
        let Some((key, _)) = self.secrets.get(&provider_key_entry(&name))? else {
            return Err(AppError::new(
                ErrorCode::ProviderKeyMissing,
                format!("No {} key is saved yet.", def.display),
            ));
        };
        let url = def.models_url(&self.config.endpoints).ok_or_else(|| {
            if def.images.is_some() {
                AppError::new(
                    ErrorCode::InvalidRequest,
                    format!(
                        "{} has no free call to test a key with: Switchboard does not make a paid picture to test it. Your first generation with it tells whether the key works.",
                        def.display
                    ),
                )
            } else {
                AppError::new(
                    ErrorCode::InvalidRequest,
                    format!("{} cannot be called directly.", def.display),
                )
            }
        })?;
        let models = list_models(
            self.hf.http(),
            &url,
            Some((def.authorization(&key), &key)),
            &def.display,
        )
        .await?;
        let n = models.len();
        // Kept for the pickers (offline too): a provider on the user's own key offers the
        // models it lists, which for OpenAI is the only list there is.
        if def.supports_own_key() {
            let mut prefs = ProviderPrefs::load(&*self.store);
            prefs.provider_models.insert(name, models);
            prefs.save(&*self.store)?;
        }
        Ok(TestResult {
            models: n as u32,
            message: format!("The key works: {} lists {n} models.", def.display),
        })
    }

    pub async fn endpoint_add(
        &self,
        name: String,
        base_url: String,
        key: Option<String>,
        allow_plain_http: bool,
    ) -> AppResult<ProviderSettings> {
        let key = key.map(Zeroizing::new);
        let name = name.split_whitespace().collect::<Vec<_>>().join(" ");
        if name.is_empty() {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Give the endpoint a name.",
            ));
        }
        let base_url = normalize_base_url(&base_url)?;
        check_transport(&base_url, allow_plain_http)?;
        // Remembered only where it is needed: a local address needs no choice.
        let allow_plain_http = allow_plain_http && check_transport(&base_url, false).is_err();
        let secret = match key.as_deref().map(|k| k.trim()) {
            Some(k) if !k.is_empty() => Some(normalize_key(k)?),
            _ => None,
        };
        let mut prefs = ProviderPrefs::load(&*self.store);
        if prefs
            .endpoints
            .iter()
            .any(|e| e.name.eq_ignore_ascii_case(&name))
        {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!("There is already an endpoint called “{name}”."),
            ));
        }
        let id = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        if let Some(s) = &secret {
            self.secrets
                .set(&endpoint_key_entry(&id), s, storage_for(&self.secrets))?;
        }
        prefs.endpoints.push(CustomEndpoint {
            id,
            name,
            base_url,
            models: Vec::new(),
            allow_plain_http,
        });
        prefs.save(&*self.store)?;
        Ok(settings_with(self, true))
    }

    pub async fn endpoint_remove(&self, id: String) -> AppResult<ProviderSettings> {
        let mut prefs = ProviderPrefs::load(&*self.store);
        prefs.endpoints.retain(|e| e.id != id);
        self.secrets.delete(&endpoint_key_entry(&id))?;
        prefs.save(&*self.store)?;
        Ok(settings_with(self, true))
    }

    /// Lists the endpoint's models and keeps them, so they appear in the model picker.
    pub async fn endpoint_test(&self, id: String) -> AppResult<TestResult> {
        let mut prefs = ProviderPrefs::load(&*self.store);
        let ep = prefs
            .endpoint(&id)
            .cloned()
            .ok_or_else(|| AppError::new(ErrorCode::NotFound, "That endpoint no longer exists."))?;
        ep.check_transport()?;
        let key = self.secrets.get(&endpoint_key_entry(&id))?.map(|(k, _)| k);
        let models = list_models(
            self.hf.http(),
            &format!("{}/v1/models", ep.base_url),
            key.as_ref().map(|k| (format!("Bearer {}", k.expose()), k)),
            &ep.name,
        )
        .await?;
        let n = models.len() as u32;
        if let Some(e) = prefs.endpoints.iter_mut().find(|e| e.id == id) {
            e.models = models;
        }
        prefs.save(&*self.store)?;
        Ok(TestResult {
            models: n,
            message: format!("{} answers and lists {n} models.", ep.name),
        })
    }
}
