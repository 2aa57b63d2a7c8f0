//! Where a chat call goes: through the router with the HF token, straight to a provider with
//! the user's own key (the provider-side model id comes from the Hub mapping), or to a custom
//! OpenAI-compatible endpoint. No HF token ever goes to a provider, no provider key to Hugging
//! Face. No Tauri here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::call::CallMode;
use crate::chat::{ChatPreview, ChatRequest};
use crate::config::Endpoints;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{HfClient, MappingEntry};
use crate::providers::{
    self, endpoint_key_entry, provider_key_entry, ProviderMode, ProviderPrefs, ENDPOINT_PREFIX,
};
use crate::secrets::{Secret, Secrets};
use crate::settings::Store;

const MAPPING_TTL: Duration = Duration::from_secs(3600);

/// Hub mappings, cached for an hour.
#[derive(Default)]
pub struct MappingCache(Mutex<HashMap<String, (Instant, Vec<MappingEntry>)>>);

impl MappingCache {
    pub async fn get(&self, hf: &HfClient, model: &str) -> AppResult<Vec<MappingEntry>> {
        if let Some((at, m)) = self.0.lock().unwrap_or_else(|e| e.into_inner()).get(model) {
            if at.elapsed() < MAPPING_TTL {
                return Ok(m.clone());
            }
        }
        let m = hf.model_mapping(model).await?;
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(model.to_string(), (Instant::now(), m.clone()));
        Ok(m)
    }
}

/// Where a chat call goes, with what credential.
pub struct Resolved {
    pub preview: ChatPreview,
    pub credential: Secret,
    pub mode: CallMode,
    /// Who answers, for messages.
    pub who: String,
}

/// Everything the resolution needs, cloned out of the app state for a background task.
pub struct Resolver {
    pub endpoints: Endpoints,
    pub hf: HfClient,
    pub secrets: std::sync::Arc<Secrets>,
    pub store: std::sync::Arc<dyn Store>,
    pub mappings: std::sync::Arc<MappingCache>,
}

impl Resolver {
    /// How a request will be billed, from the saved choices (no network).
    pub fn mode_of(&self, request: &ChatRequest) -> CallMode {
        match request.routing.pinned() {
            None => CallMode::Routed,
            Some(p) if p.starts_with(ENDPOINT_PREFIX) => CallMode::Endpoint,
            Some(p) => {
                let prefs = ProviderPrefs::load(&*self.store);
                match (prefs.pref(p).mode, providers::get(p)) {
                    (ProviderMode::OwnKey, Some(def)) if def.supports_own_key() => CallMode::OwnKey,
                    _ => CallMode::Routed,
                }
            }
        }
    }

    /// Routed with the HF token, straight to a provider with the user's key, or to a custom
    /// endpoint. `routed` is the router request already built (and validated).
    pub async fn resolve(
        &self,
        request: &ChatRequest,
        routed: ChatPreview,
        hf_token: Option<Secret>,
    ) -> AppResult<Resolved> {
        let prefs = ProviderPrefs::load(&*self.store);
        let not_signed_in = || {
            AppError::new(
                ErrorCode::NotSignedIn,
                "Sign in with a Hugging Face token to send messages through Hugging Face.",
            )
        };
        let Some(pinned) = request.routing.pinned() else {
            return Ok(Resolved {
                preview: routed,
                credential: hf_token.ok_or_else(not_signed_in)?,
                mode: CallMode::Routed,
                who: "Hugging Face".into(),
            });
        };
        if let Some(id) = pinned.strip_prefix(ENDPOINT_PREFIX) {
            let ep = prefs.endpoint(id).ok_or_else(|| {
                AppError::new(ErrorCode::NotFound, "That custom endpoint was removed.")
            })?;
            let key = self
                .secrets
                .get(&endpoint_key_entry(id))?
                .map(|(k, _)| k)
                .unwrap_or_else(|| Secret::new(String::new()));
            let url = format!("{}/v1/chat/completions", ep.base_url);
            return Ok(Resolved {
                preview: routed.retarget(url, &request.model, Vec::new()),
                credential: key,
                mode: CallMode::Endpoint,
                who: ep.name.clone(),
            });
        }
        let pref = prefs.pref(pinned);
        let def = providers::get(pinned);
        match (pref.mode, def) {
            (ProviderMode::OwnKey, Some(def)) if def.supports_own_key() => {
                let Some((key, _)) = self.secrets.get(&provider_key_entry(pinned))? else {
                    return Err(AppError::new(
                        ErrorCode::ProviderKeyMissing,
                        format!(
                            "{} is set to use your own key, but no key is saved. Add it in Providers, or switch it back to “Through Hugging Face”.",
                            def.display
                        ),
                    ));
                };
                let mapping = self.mappings.get(&self.hf, &request.model).await?;
                let entry = mapping.iter().find(|m| m.provider == pinned).ok_or_else(|| {
                    AppError::new(
                        ErrorCode::ModelUnavailable,
                        format!(
                            "Hugging Face does not list {} as served by {}, so the app does not know its model id there.",
                            request.model, def.display
                        ),
                    )
                })?;
                match entry.status.as_str() {
                    "live" => {}
                    "staging" => {
                        return Err(AppError::new(
                            ErrorCode::ModelUnavailable,
                            format!(
                                "{} lists {} as “staging”: only {}’s own organization can use it for now.",
                                def.display, request.model, def.display
                            ),
                        ))
                    }
                    other => {
                        return Err(AppError::new(
                            ErrorCode::ModelUnavailable,
                            format!(
                                "{} marks {} as unavailable (“{other}”) right now.",
                                def.display, request.model
                            ),
                        ))
                    }
                }
                let url = def
                    .chat_url(&self.endpoints)
                    .expect("own-key providers have a chat URL");
                let headers = def
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                Ok(Resolved {
                    preview: routed.retarget(url, &entry.provider_id, headers),
                    credential: key,
                    mode: CallMode::OwnKey,
                    who: def.display.clone(),
                })
            }
            _ => Ok(Resolved {
                preview: routed,
                credential: hf_token.ok_or_else(not_signed_in)?,
                mode: CallMode::Routed,
                who: "Hugging Face".into(),
            }),
        }
    }
}
