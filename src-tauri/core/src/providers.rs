//! Providers as data (`data/providers.json`: base URLs, chat routes, auth style), the user's
//! per-provider choices (enabled, routed through Hugging Face or with their own key), and custom
//! OpenAI-compatible endpoints. No Tauri here; keys live in [`crate::secrets`].

use std::collections::BTreeMap;
use std::sync::OnceLock;

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::catalog::{Catalog, ModelInfo, OfferStatus, ProviderOffer};
use crate::config::Endpoints;
use crate::error::{AppError, AppResult, ErrorCode};
use crate::secrets::Secret;
use crate::settings::{get_typed, set_typed, Store};

pub const KEY_PROVIDERS: &str = "providers";

#[derive(Debug, Clone, Deserialize)]
pub struct ProviderDef {
    pub name: String,
    pub display: String,
    /// Direct base URL; `None` for providers reachable only through the router.
    pub base: Option<String>,
    /// Chat route relative to the base (`{model}` = the provider's model id); `None`: no chat.
    pub chat: Option<String>,
    /// Model-list route, for testing a key; default: the chat route's folder + `models`.
    #[serde(default)]
    pub models: Option<String>,
    /// Extra headers the provider expects on direct calls.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Where to create a key.
    pub keys: Option<String>,
    /// `bearer` (default) or `key` (`Authorization: Key …`).
    #[serde(default)]
    pub auth: Option<String>,
    /// Not served by the router (OpenAI).
    #[serde(default)]
    pub own_key_only: bool,
    /// Direct text-to-image route relative to the image base (`{model}` = the provider's
    /// model id); `None`: no pictures with the user's own key.
    #[serde(default)]
    pub images: Option<String>,
    /// Base URL of the image route when it is not `base` (fal's queue).
    #[serde(default)]
    pub images_base: Option<String>,
}

#[derive(Deserialize)]
struct Table {
    providers: Vec<ProviderDef>,
}

/// The provider table shipped with the app.
pub fn table() -> &'static [ProviderDef] {
    static TABLE: OnceLock<Vec<ProviderDef>> = OnceLock::new();
    TABLE.get_or_init(|| {
        serde_json::from_str::<Table>(include_str!("data/providers.json"))
            .expect("data/providers.json is valid")
            .providers
    })
}

pub fn get(name: &str) -> Option<&'static ProviderDef> {
    table().iter().find(|p| p.name == name)
}

impl ProviderDef {
    pub fn supports_chat(&self) -> bool {
        self.chat.is_some()
    }

    /// Whether a call can go straight to the provider with the user's key.
    pub fn supports_own_key(&self) -> bool {
        self.base.is_some() && self.chat.as_deref().is_some_and(|c| !c.contains("{model}"))
    }

    /// Whether a call of `task` can go straight to the provider with the user's key.
    pub fn supports_own_key_for(&self, task: crate::call::Task) -> bool {
        match task {
            crate::call::Task::Chat => self.supports_own_key(),
            crate::call::Task::TextToImage => self.base.is_some() && self.images.is_some(),
            crate::call::Task::FeatureExtraction => {
                self.base.is_some() && crate::embeddings::openai_route(&self.name).is_some()
            }
            crate::call::Task::SpeechToText => {
                self.base.is_some()
                    && crate::speech::protocol(crate::speech::SpeechKind::Stt, &self.name).is_some()
            }
            crate::call::Task::TextToSpeech => {
                self.base.is_some()
                    && crate::speech::protocol(crate::speech::SpeechKind::Tts, &self.name).is_some()
            }
            t @ (crate::call::Task::TextToVideo | crate::call::Task::ImageToVideo) => {
                self.base.is_some() && crate::images::protocol_for(&self.name, t).is_some()
            }
        }
    }

    /// Whether the user's own key can be used for any task (the Providers screen's choice).
    pub fn supports_own_key_any(&self) -> bool {
        self.supports_own_key()
            || self.supports_own_key_for(crate::call::Task::TextToImage)
            || self.supports_own_key_for(crate::call::Task::FeatureExtraction)
            || self.supports_own_key_for(crate::call::Task::SpeechToText)
            || self.supports_own_key_for(crate::call::Task::TextToSpeech)
            || self.supports_own_key_for(crate::call::Task::TextToVideo)
    }

    /// The direct base of the image route (the override template in tests).
    pub fn images_base_url(&self, endpoints: &Endpoints) -> Option<String> {
        let base = self.images_base.as_deref().or(self.base.as_deref())?;
        Some(endpoints.provider_base(&self.name, base))
    }

    fn base_url(&self, endpoints: &Endpoints) -> Option<String> {
        let base = self.base.as_deref()?;
        Some(endpoints.provider_base(&self.name, base))
    }

    /// The direct chat completions URL.
    pub fn chat_url(&self, endpoints: &Endpoints) -> Option<String> {
        let route = self.chat.as_deref()?;
        Some(format!("{}/{}", self.base_url(endpoints)?, route))
    }

    /// The direct model-list URL (a free call that proves a key works).
    pub fn models_url(&self, endpoints: &Endpoints) -> Option<String> {
        let route = match &self.models {
            Some(m) => m.clone(),
            None => {
                self.chat
                    .as_deref()?
                    .strip_suffix("chat/completions")?
                    .to_string()
                    + "models"
            }
        };
        Some(format!("{}/{}", self.base_url(endpoints)?, route))
    }

    /// `Authorization` header value for `key`.
    pub fn authorization(&self, key: &Secret) -> String {
        match self.auth.as_deref() {
            Some("key") => format!("Key {}", key.expose()),
            _ => format!("Bearer {}", key.expose()),
        }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum ProviderMode {
    /// Through the Hugging Face router with the HF token (billed to HF credits).
    #[default]
    Routed,
    /// Straight to the provider with the user's own key (billed by the provider).
    OwnKey,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderPref {
    pub enabled: bool,
    pub mode: ProviderMode,
}

impl ProviderPref {
    /// Whether a call pinned to this provider goes straight to it with the user's key: the one
    /// rule for it ([`crate::routing::Resolver::decide`] and the provider list both use it).
    pub fn calls_directly(&self, def: Option<&ProviderDef>) -> bool {
        self.calls_directly_for(def, crate::call::Task::Chat)
    }

    /// [`Self::calls_directly`] for a call of `task` (a provider may take the user's key for
    /// pictures and not for chat, like fal).
    pub fn calls_directly_for(&self, def: Option<&ProviderDef>, task: crate::call::Task) -> bool {
        self.mode == ProviderMode::OwnKey && def.is_some_and(|d| d.supports_own_key_for(task))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CustomEndpoint {
    pub id: String,
    pub name: String,
    /// Without `/v1`: the app calls `{base}/v1/models` and `{base}/v1/chat/completions`.
    pub base_url: String,
    /// Model ids from the last successful test, so the picker works offline.
    pub models: Vec<String>,
    /// The user chose to send to this plain-http address of a public host without encryption
    /// (see [`check_transport`]); loopback and private addresses need no choice.
    #[serde(default)]
    pub allow_plain_http: bool,
}

impl CustomEndpoint {
    /// The pseudo-provider its models are offered under in the catalog (`endpoint:{id}`).
    pub fn offer(&self) -> String {
        format!("{ENDPOINT_PREFIX}{}", self.id)
    }

    /// Whether the key and prompts may be sent to this endpoint ([`check_transport`]).
    pub fn check_transport(&self) -> AppResult<()> {
        check_transport(&self.base_url, self.allow_plain_http)
    }
}

/// An endpoint's key and every prompt go to its address: over http only to this computer or a
/// private network (a local model server, a lab gateway), or after the user's explicit
/// `allow_plain_http` choice; anything else needs https.
pub fn check_transport(base_url: &str, allow_plain_http: bool) -> AppResult<()> {
    let url = url::Url::parse(base_url)
        .map_err(|_| AppError::new(ErrorCode::InvalidRequest, "That address is not a full URL."))?;
    if url.scheme() != "http" || allow_plain_http || crate::config::is_loopback_or_private(&url) {
        return Ok(());
    }
    Err(AppError::new(
        ErrorCode::InsecureEndpoint,
        format!(
            "{} is reached over plain http: its key and your prompts would cross the network unencrypted. Use https, or choose to send without encryption.",
            url.host_str().unwrap_or("This endpoint")
        ),
    ))
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ProviderPrefs {
    pub providers: BTreeMap<String, ProviderPref>,
    pub endpoints: Vec<CustomEndpoint>,
    /// The model ids each provider listed for the user's own key (its `/v1/models`, at the last
    /// successful key test), so its own models can be picked offline: OpenAI's only way in.
    pub provider_models: BTreeMap<String, Vec<String>>,
}

impl ProviderPrefs {
    pub fn load(store: &dyn Store) -> Self {
        get_typed(store, KEY_PROVIDERS).unwrap_or_default()
    }

    pub fn save(&self, store: &dyn Store) -> AppResult<()> {
        set_typed(store, KEY_PROVIDERS, self)
    }

    /// The choice for `name`, with defaults: enabled, routed (own key for OpenAI).
    pub fn pref(&self, name: &str) -> ProviderPref {
        let own_only = get(name).is_some_and(|p| p.own_key_only);
        let mut p = self.providers.get(name).copied().unwrap_or(ProviderPref {
            enabled: true,
            mode: ProviderMode::Routed,
        });
        if own_only {
            p.mode = ProviderMode::OwnKey;
        }
        p
    }

    pub fn endpoint(&self, id: &str) -> Option<&CustomEndpoint> {
        self.endpoints.iter().find(|e| e.id == id)
    }

    /// Whether `provider` listed `model` for the user's key (then `model` is its own id).
    pub fn lists_model(&self, provider: &str, model: &str) -> bool {
        self.provider_models
            .get(provider)
            .is_some_and(|m| m.iter().any(|id| id == model))
    }
}

/// The keyring entry of a provider's key.
pub fn provider_key_entry(name: &str) -> String {
    format!("provider:{name}")
}

/// The keyring entry of a custom endpoint's key.
pub fn endpoint_key_entry(id: &str) -> String {
    format!("endpoint:{id}")
}

pub use crate::call::ENDPOINT_PREFIX;

/// A pasted key: surrounding whitespace and newlines are dropped; whitespace inside is refused.
pub fn normalize_key(raw: &str) -> AppResult<Secret> {
    let key = raw.trim();
    if key.is_empty() {
        return Err(AppError::new(ErrorCode::TokenEmpty, "Paste the key first."));
    }
    if key.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(AppError::new(
            ErrorCode::TokenMalformed,
            "The key contains spaces or line breaks: copy it again, in one piece.",
        ));
    }
    if key.starts_with("hf_") {
        return Err(AppError::new(
            ErrorCode::TokenMalformed,
            "That is a Hugging Face token, not the provider's key. Leave this provider on “Through Hugging Face” to use your HF token.",
        ));
    }
    Ok(Secret::new(key.to_string()))
}

/// Checks and normalises an endpoint base URL: http(s), no query; a trailing `/v1` is dropped.
pub fn normalize_base_url(raw: &str) -> AppResult<String> {
    let bad = |why: &str| {
        AppError::new(
            ErrorCode::InvalidRequest,
            format!("That address can’t be used: {why}. Example: http://localhost:11434/v1"),
        )
    };
    let raw = raw.trim();
    let url = url::Url::parse(raw).map_err(|_| bad("it is not a full URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(bad("it must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(bad("it has no host"));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(bad("it must not have ?query or #fragment"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("put the key in the key field, not in the address"));
    }
    let s = url.as_str().trim_end_matches('/');
    let s = s.strip_suffix("/v1").unwrap_or(s);
    Ok(s.to_string())
}

/// Model ids from an OpenAI-style `/v1/models` answer.
pub fn parse_model_list(body: &str) -> Option<Vec<String>> {
    let v: serde_json::Value = serde_json::from_str(body).ok()?;
    let data = v.get("data").or(Some(&v))?.as_array()?;
    let mut ids: Vec<String> = data
        .iter()
        .filter_map(|m| m.get("id").and_then(|i| i.as_str()).map(str::to_string))
        .collect();
    ids.sort();
    ids.dedup();
    Some(ids)
}

/// Offers `model` from `provider` (a provider's name, or `endpoint:{id}`): added to the router
/// model of the same id unless that provider already offers it there, else a model of its own,
/// owned by `owner`. The app knows nothing of such an offer but that it is live.
fn add_offer(catalog: &mut Catalog, model: &str, provider: &str, owner: &str) {
    let offer = ProviderOffer {
        provider: provider.to_string(),
        status: OfferStatus::Live,
        context_length: None,
        pricing: None,
        is_free: false,
        supports_tools: None,
        supports_structured_output: None,
        first_token_latency_ms: None,
        throughput: None,
    };
    match catalog.models.iter_mut().find(|m| m.id == model) {
        Some(m) if m.providers.iter().any(|o| o.provider == provider) => {}
        Some(m) => m.providers.push(offer),
        None => catalog.models.push(ModelInfo {
            id: model.to_string(),
            created: None,
            owned_by: Some(owner.to_string()),
            input_modalities: vec!["text".into()],
            output_modalities: vec!["text".into()],
            providers: vec![offer],
        }),
    }
}

/// Adds custom endpoints' models to the catalog, offered by `endpoint:{id}`.
pub fn merge_endpoints(catalog: &mut Catalog, endpoints: &[CustomEndpoint]) {
    for ep in endpoints {
        let provider = ep.offer();
        for id in &ep.models {
            add_offer(catalog, id, &provider, &ep.name);
        }
    }
}

/// Adds the models each provider in own-key mode listed for the user's key (see
/// [`ProviderPrefs::provider_models`]) as offers of that provider. The router never lists
/// OpenAI: this is how its models reach the pickers.
pub fn merge_provider_models(catalog: &mut Catalog, prefs: &ProviderPrefs) {
    for (name, ids) in &prefs.provider_models {
        let def = get(name);
        let pref = prefs.pref(name);
        if !pref.enabled || !pref.calls_directly(def) {
            continue;
        }
        let owner = def.map_or_else(|| name.clone(), |d| d.display.clone());
        for id in ids {
            add_offer(catalog, id, name, &owner);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_http_endpoints_need_a_local_address_or_a_choice() {
        for ok in [
            "http://localhost:11434",
            "http://127.0.0.1:8000",
            "http://192.168.1.20:8080",
            "http://10.0.0.7",
            "http://[fd12::7]:8000",
            "https://gw.example.com/llm",
        ] {
            assert!(check_transport(ok, false).is_ok(), "{ok}");
        }
        for public in ["http://gw.example.com/llm", "http://203.0.113.9:8000"] {
            let e = check_transport(public, false).unwrap_err();
            assert_eq!(e.code, ErrorCode::InsecureEndpoint, "{public}");
            assert!(e.message.contains("unencrypted"), "{}", e.message);
            assert!(check_transport(public, true).is_ok(), "{public}: chosen");
        }
    }

    #[test]
    fn the_table_has_every_documented_chat_provider() {
        for name in [
            "cerebras",
            "groq",
            "together",
            "fireworks-ai",
            "novita",
            "openai",
            "hf-inference",
        ] {
            assert!(get(name).is_some(), "{name}");
        }
        let ep = Endpoints {
            provider_base_template: None,
            ..Endpoints::default()
        };
        let groq = get("groq").unwrap();
        assert_eq!(
            groq.chat_url(&ep).unwrap(),
            "https://api.groq.com/openai/v1/chat/completions"
        );
        assert_eq!(
            groq.models_url(&ep).unwrap(),
            "https://api.groq.com/openai/v1/models"
        );
        assert!(groq.supports_own_key());
        assert!(
            !get("hf-inference").unwrap().supports_own_key(),
            "routed only"
        );
        assert!(!get("fal-ai").unwrap().supports_chat());
        assert_eq!(
            get("zai-org")
                .unwrap()
                .headers
                .get("x-source-channel")
                .map(String::as_str),
            Some("hugging_face")
        );
        let tpl = Endpoints {
            provider_base_template: Some("http://127.0.0.1:1/direct/{provider}".into()),
            ..Endpoints::default()
        };
        assert_eq!(
            get("together").unwrap().chat_url(&tpl).unwrap(),
            "http://127.0.0.1:1/direct/together/v1/chat/completions"
        );
        let key = Secret::new("k-123".into());
        assert_eq!(get("fal-ai").unwrap().authorization(&key), "Key k-123");
        assert_eq!(groq.authorization(&key), "Bearer k-123");
    }

    #[test]
    fn preferences_default_to_routed_and_openai_is_own_key_only() {
        let p = ProviderPrefs::default();
        assert_eq!(
            p.pref("groq"),
            ProviderPref {
                enabled: true,
                mode: ProviderMode::Routed
            }
        );
        assert_eq!(p.pref("openai").mode, ProviderMode::OwnKey);
    }

    #[test]
    fn keys_are_trimmed_and_checked() {
        assert_eq!(
            normalize_key("  gsk_abc123\n").unwrap().expose(),
            "gsk_abc123"
        );
        assert_eq!(normalize_key(" ").unwrap_err().code, ErrorCode::TokenEmpty);
        assert_eq!(
            normalize_key("gsk_ab c").unwrap_err().code,
            ErrorCode::TokenMalformed
        );
        assert_eq!(
            normalize_key("gsk\nabc").unwrap_err().code,
            ErrorCode::TokenMalformed
        );
        assert_eq!(
            normalize_key("hf_abcdefghijkl").unwrap_err().code,
            ErrorCode::TokenMalformed
        );
    }

    #[test]
    fn endpoint_urls_are_normalised_or_explained() {
        assert_eq!(
            normalize_base_url(" http://localhost:11434/v1/ ").unwrap(),
            "http://localhost:11434"
        );
        assert_eq!(
            normalize_base_url("https://gw.example.com/llm").unwrap(),
            "https://gw.example.com/llm"
        );
        for bad in [
            "localhost:8080",
            "ftp://x",
            "http://",
            "http://x/v1?key=1",
            "http://u:p@x",
            "not a url",
        ] {
            let e = normalize_base_url(bad).unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidRequest, "{bad}");
        }
    }

    #[test]
    fn model_lists() {
        assert_eq!(
            parse_model_list(r#"{"object":"list","data":[{"id":"b"},{"id":"a"},{"x":1}]}"#)
                .unwrap(),
            ["a", "b"]
        );
        assert_eq!(parse_model_list(r#"[{"id":"m"}]"#).unwrap(), ["m"]);
        assert!(parse_model_list("<html>").is_none());
    }
}
