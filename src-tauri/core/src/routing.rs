//! Where a chat call goes: through the router with the HF token, straight to a provider with
//! the user's own key (the provider-side model id comes from the Hub mapping), or to a custom
//! OpenAI-compatible endpoint. No HF token ever goes to a provider, no provider key to Hugging
//! Face. No Tauri here.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::call::{Billing, CallMode, RouteDecision, Routing, Target, Task};
use crate::chat::{ChatPreview, ChatRequest};
use crate::config::Endpoints;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{HfClient, MappingEntry};
use crate::providers::{self, endpoint_key_entry, provider_key_entry, ProviderPrefs};
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
    /// Where a request will go, from the saved choices (no network).
    pub fn mode_of(&self, request: &ChatRequest) -> CallMode {
        self.decide(&request.routing, request.bill_to.as_deref())
            .mode
    }

    /// Where a call chosen as `routing` goes and who pays, from the user's provider settings
    /// (no network, no keyring). [`Self::resolve`] follows the same decision.
    pub fn decide(&self, routing: &Routing, bill_to: Option<&str>) -> RouteDecision {
        self.decide_for(Task::Chat, routing, bill_to)
    }

    /// [`Self::decide`] for a call of `task`: the same rule, with the provider's own-key
    /// support for that task (fal takes the user's key for pictures, not for chat).
    pub fn decide_for(
        &self,
        task: Task,
        routing: &Routing,
        bill_to: Option<&str>,
    ) -> RouteDecision {
        let prefs = ProviderPrefs::load(&*self.store);
        let (mode, who) = match routing.target() {
            Target::Auto(_) => (CallMode::Routed, None),
            Target::Endpoint(id) => (
                CallMode::Endpoint,
                Some(
                    prefs
                        .endpoint(id)
                        .map_or_else(|| "a removed endpoint".to_string(), |e| e.name.clone()),
                ),
            ),
            Target::Provider(p) => {
                let def = providers::get(p);
                let who = Some(def.map_or_else(|| p.to_string(), |d| d.display.clone()));
                if prefs.pref(p).calls_directly_for(def, task) {
                    (CallMode::OwnKey, who)
                } else {
                    (CallMode::Routed, who)
                }
            }
        };
        let billing = Billing::for_call(mode, bill_to);
        RouteDecision {
            mode,
            billing,
            who,
            bill_to: (billing == Billing::Org).then(|| bill_to.unwrap_or_default().to_string()),
        }
    }

    /// Refuses a call pinned to a provider the user turned off in Providers (a choice restored
    /// from the settings, a preset or a reopened conversation): nothing is sent to it, with its
    /// key or through the router. Automatic policies are the router's choice, made from the
    /// user's Hugging Face settings.
    pub fn check_enabled(&self, routing: &Routing) -> AppResult<()> {
        let Target::Provider(p) = routing.target() else {
            return Ok(());
        };
        if ProviderPrefs::load(&*self.store).pref(p).enabled {
            return Ok(());
        }
        let name = providers::get(p).map_or(p, |d| d.display.as_str());
        Err(AppError::new(
            ErrorCode::ProviderDisabled,
            format!(
                "{name} is turned off in Providers, so Switchboard sends it nothing. Turn it on in Providers, or pick another provider."
            ),
        ))
    }

    /// Routed with the HF token, straight to a provider with the user's key, or to a custom
    /// endpoint. `routed` is the router request already built (and validated).
    pub async fn resolve(
        &self,
        request: &ChatRequest,
        routed: ChatPreview,
        hf_token: Option<Secret>,
    ) -> AppResult<Resolved> {
        self.check_enabled(&request.routing)?;
        let not_signed_in = || {
            AppError::new(
                ErrorCode::NotSignedIn,
                "Sign in with a Hugging Face token to send messages through Hugging Face.",
            )
        };
        // The credential first: a missing one is explained without any network.
        let credential = match request.routing.target() {
            Target::Auto(_) => hf_token.ok_or_else(not_signed_in)?,
            Target::Endpoint(id) => self
                .secrets
                .get(&endpoint_key_entry(id))?
                .map(|(k, _)| k)
                .unwrap_or_else(|| Secret::new(String::new())),
            Target::Provider(p) => match self.decide(&request.routing, None).mode {
                CallMode::OwnKey => match self.secrets.get(&provider_key_entry(p))? {
                    Some((key, _)) => key,
                    None => {
                        let name = providers::get(p).map_or(p, |d| d.display.as_str());
                        return Err(AppError::new(
                            ErrorCode::ProviderKeyMissing,
                            format!(
                                "{name} is set to use your own key, but no key is saved. Add it in Providers, or switch it back to “Through Hugging Face”."
                            ),
                        ));
                    }
                },
                _ => hf_token.ok_or_else(not_signed_in)?,
            },
        };
        let (preview, who) = self.route(request, routed).await?;
        Ok(Resolved {
            mode: preview.mode,
            preview,
            credential,
            who,
        })
    }

    /// The request exactly as it will be sent (URL, the provider's model id, headers, whose
    /// credential), without the credential: what "Get code" shows, and what [`Self::resolve`]
    /// sends. An own-key call needs the Hub's mapping (network, cached for an hour) unless the
    /// provider itself listed the model for the user's key.
    pub async fn route(
        &self,
        request: &ChatRequest,
        routed: ChatPreview,
    ) -> AppResult<(ChatPreview, String)> {
        let prefs = ProviderPrefs::load(&*self.store);
        let pinned = match request.routing.target() {
            Target::Auto(_) => return Ok((routed, "Hugging Face".into())),
            Target::Provider(p) => p,
            Target::Endpoint(id) => {
                let ep = prefs.endpoint(id).ok_or_else(|| {
                    AppError::new(ErrorCode::NotFound, "That custom endpoint was removed.")
                })?;
                ep.check_transport()?;
                let url = format!("{}/v1/chat/completions", ep.base_url);
                return Ok((
                    routed.retarget(url, &request.model, Vec::new()),
                    ep.name.clone(),
                ));
            }
        };
        // With the user's key only when the one rule says so (`ProviderPref::calls_directly`).
        let def = providers::get(pinned);
        match def.filter(|_| prefs.pref(pinned).calls_directly(def)) {
            Some(def) => {
                let provider_id = if prefs.lists_model(pinned, &request.model) {
                    // A model the provider listed for the user's key: its own id already.
                    request.model.clone()
                } else {
                    self.provider_model_id(request, pinned, def).await?
                };
                let url = def
                    .chat_url(&self.endpoints)
                    .expect("own-key providers have a chat URL");
                let headers = def
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                let mut preview = routed.retarget(url, &provider_id, headers);
                preview.mode = CallMode::OwnKey;
                Ok((preview, def.display.clone()))
            }
            _ => Ok((routed, "Hugging Face".into())),
        }
    }

    /// The provider's id for a Hub model, from the Hub's mapping; only a live one is used.
    async fn provider_model_id(
        &self,
        request: &ChatRequest,
        pinned: &str,
        def: &providers::ProviderDef,
    ) -> AppResult<String> {
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
            "live" => Ok(entry.provider_id.clone()),
            "staging" => Err(AppError::new(
                ErrorCode::ModelUnavailable,
                format!(
                    "{} lists {} as “staging”: only {}’s own organization can use it for now.",
                    def.display, request.model, def.display
                ),
            )),
            other => Err(AppError::new(
                ErrorCode::ModelUnavailable,
                format!(
                    "{} marks {} as unavailable (“{other}”) right now.",
                    def.display, request.model
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::call::Policy;
    use crate::providers::{CustomEndpoint, ProviderMode, ProviderPref};
    use crate::secrets::MemoryBackend;
    use crate::settings::MemoryStore;
    use std::sync::Arc;

    fn resolver(prefs: ProviderPrefs) -> Resolver {
        let endpoints = Endpoints {
            hub: "http://127.0.0.1:9".into(),
            router: "http://127.0.0.1:9".into(),
            provider_base_template: None,
        };
        let store = Arc::new(MemoryStore::default());
        prefs.save(&*store).unwrap();
        Resolver {
            hf: HfClient::new(endpoints.clone()).unwrap(),
            endpoints,
            secrets: Arc::new(Secrets::new(Box::<MemoryBackend>::default())),
            store,
            mappings: Arc::default(),
        }
    }

    fn pinned(p: &str) -> Routing {
        Routing::Pinned { provider: p.into() }
    }

    fn own_key(enabled: bool) -> ProviderPref {
        ProviderPref {
            enabled,
            mode: ProviderMode::OwnKey,
        }
    }

    #[test]
    fn the_router_bills_hf_credits_or_the_organisation() {
        let r = resolver(ProviderPrefs::default());
        let auto = Routing::Auto {
            policy: Policy::Cheapest,
        };
        let d = r.decide(&auto, None);
        assert_eq!(
            (d.mode, d.billing, d.who),
            (CallMode::Routed, Billing::HfCredits, None)
        );
        let d = r.decide(&pinned("groq"), Some("acme"));
        assert_eq!(d.mode, CallMode::Routed);
        assert_eq!(d.billing, Billing::Org);
        assert_eq!(d.who.as_deref(), Some("Groq"));
        assert_eq!(d.bill_to.as_deref(), Some("acme"));
    }

    #[test]
    fn own_key_follows_the_providers_mode_whether_or_not_it_is_enabled() {
        let mut prefs = ProviderPrefs::default();
        prefs.providers.insert("groq".into(), own_key(true));
        prefs.providers.insert("cerebras".into(), own_key(false));
        // fal has no chat route of its own: own key is not possible there.
        prefs.providers.insert("fal-ai".into(), own_key(true));
        let r = resolver(prefs);
        for (p, who) in [("groq", "Groq"), ("cerebras", "Cerebras")] {
            let d = r.decide(&pinned(p), Some("acme"));
            assert_eq!(d.mode, CallMode::OwnKey, "{p}");
            // The provider bills: nothing goes to the organisation.
            assert_eq!(d.billing, Billing::Provider);
            assert_eq!(d.bill_to, None);
            assert_eq!(d.who.as_deref(), Some(who));
        }
        assert_eq!(r.decide(&pinned("fal-ai"), None).mode, CallMode::Routed);
    }

    #[test]
    fn a_custom_endpoint_is_named_and_billed_by_itself() {
        let mut prefs = ProviderPrefs::default();
        prefs.endpoints.push(CustomEndpoint {
            id: "abc".into(),
            name: "My vLLM".into(),
            base_url: "http://127.0.0.1:8000".into(),
            allow_plain_http: false,
            models: vec!["m".into()],
        });
        let r = resolver(prefs);
        let d = r.decide(&pinned("endpoint:abc"), Some("acme"));
        assert_eq!(d.mode, CallMode::Endpoint);
        assert_eq!(d.billing, Billing::Endpoint);
        assert_eq!(d.who.as_deref(), Some("My vLLM"));
        let gone = r.decide(&pinned("endpoint:zzz"), None);
        assert_eq!(gone.who.as_deref(), Some("a removed endpoint"));
    }
}
