//! The router's model catalog (`GET /v1/models`): which models are served, by which providers, at
//! what price and speed. Parsed leniently (every provider field but `provider` and `status` may
//! be missing), cached on disk so the pickers work offline and at start-up, and refreshed at most
//! every few hours.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use ts_rs::TS;

use crate::error::{AppError, AppResult, ErrorCode};

/// How old a cached catalog may get before a background refresh.
pub const MAX_AGE_SECS: u64 = 4 * 3600;

/// Price in USD per 1M tokens.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Pricing {
    pub input: f64,
    pub output: f64,
}

impl Pricing {
    /// Cost in USD of a call with these token counts.
    pub fn cost(&self, tokens_in: u64, tokens_out: u64) -> f64 {
        (tokens_in as f64 * self.input + tokens_out as f64 * self.output) / 1_000_000.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum OfferStatus {
    Live,
    Error,
    /// Anything the router may add later: treated as unavailable.
    Other,
}

impl From<&str> for OfferStatus {
    fn from(s: &str) -> Self {
        match s {
            "live" => OfferStatus::Live,
            "error" => OfferStatus::Error,
            _ => OfferStatus::Other,
        }
    }
}

/// One provider serving one model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ProviderOffer {
    pub provider: String,
    pub status: OfferStatus,
    #[ts(type = "number | null")]
    pub context_length: Option<u64>,
    pub pricing: Option<Pricing>,
    pub is_free: bool,
    pub supports_tools: Option<bool>,
    pub supports_structured_output: Option<bool>,
    pub first_token_latency_ms: Option<f64>,
    /// Tokens per second.
    pub throughput: Option<f64>,
}

impl ProviderOffer {
    pub fn is_live(&self) -> bool {
        self.status == OfferStatus::Live
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ModelInfo {
    pub id: String,
    #[ts(type = "number | null")]
    pub created: Option<i64>,
    pub owned_by: Option<String>,
    pub input_modalities: Vec<String>,
    pub output_modalities: Vec<String>,
    pub providers: Vec<ProviderOffer>,
}

impl ModelInfo {
    pub fn offer(&self, provider: &str) -> Option<&ProviderOffer> {
        self.providers.iter().find(|p| p.provider == provider)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct Catalog {
    /// Unix seconds of the download; `None` for an empty catalog.
    #[ts(type = "number | null")]
    pub fetched_at: Option<u64>,
    pub models: Vec<ModelInfo>,
}

impl Catalog {
    pub fn model(&self, id: &str) -> Option<&ModelInfo> {
        self.models.iter().find(|m| m.id == id)
    }

    pub fn offer(&self, model: &str, provider: &str) -> Option<&ProviderOffer> {
        self.model(model).and_then(|m| m.offer(provider))
    }

    /// Whether it is time to download it again.
    pub fn is_stale(&self, now: u64) -> bool {
        match self.fetched_at {
            None => true,
            Some(t) => now.saturating_sub(t) >= MAX_AGE_SECS,
        }
    }

    /// Parses the router's `/v1/models` answer. Entries that are not models are skipped, not
    /// fatal; an answer with no `data` list at all is a bad response.
    pub fn parse(body: &[u8], fetched_at: u64) -> AppResult<Catalog> {
        let wire: WireList = serde_json::from_slice(body).map_err(|e| {
            AppError::new(
                ErrorCode::BadResponse,
                format!("The model list could not be read: {e}"),
            )
        })?;
        let mut models: Vec<ModelInfo> = wire
            .data
            .into_iter()
            .filter_map(|v| serde_json::from_value::<WireModel>(v).ok())
            .map(ModelInfo::from)
            .collect();
        models.sort_by_cached_key(|m| m.id.to_lowercase());
        models.dedup_by(|a, b| a.id == b.id);
        Ok(Catalog {
            fetched_at: Some(fetched_at),
            models,
        })
    }

    /// Loads the cached copy; a missing or unreadable file is an empty catalog (it is only a
    /// cache: the next refresh rewrites it).
    pub fn load(path: &Path) -> Catalog {
        match std::fs::read(path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                log::warn!("ignoring unreadable catalog cache {}: {e}", path.display());
                Catalog::default()
            }),
            Err(_) => Catalog::default(),
        }
    }

    /// Writes the cache atomically (temporary file, then rename), so a crash never leaves half
    /// a file.
    pub fn save(&self, path: &Path) -> AppResult<()> {
        let bytes = serde_json::to_vec(self)
            .map_err(|e| AppError::internal(format!("could not serialise the catalog: {e}")))?;
        write_atomic(path, &bytes)
    }
}

/// Downloads the catalog from the router (no credentials needed, none sent).
pub async fn fetch(client: &crate::hf::HfClient, now: u64) -> AppResult<Catalog> {
    let url = client.endpoints().router_url("v1/models");
    let who = "Hugging Face";
    let response = client
        .http()
        .get(&url)
        .timeout(std::time::Duration::from_secs(60))
        .send()
        .await
        .map_err(|e| crate::hf::transport_error(&e, who))?;
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .bytes()
        .await
        .map_err(|e| crate::hf::transport_error(&e, who))?;
    if !status.is_success()
        || crate::hf::looks_like_html(
            &headers,
            &String::from_utf8_lossy(&body[..body.len().min(64)]),
        )
    {
        return Err(crate::hf::error_from_response(
            status,
            &headers,
            &String::from_utf8_lossy(&body),
            who,
        ));
    }
    Catalog::parse(&body, now)
}

/// Writes `bytes` to `path` through a temporary file in the same folder and a rename.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> AppResult<()> {
    use std::io::Write;
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| AppError::io("create the data folder", &e))?;
    let tmp: PathBuf = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = std::fs::File::create(&tmp).map_err(|e| AppError::io("write the cache", &e))?;
    f.write_all(bytes)
        .and_then(|_| f.sync_all())
        .map_err(|e| AppError::io("write the cache", &e))?;
    std::fs::rename(&tmp, path).map_err(|e| AppError::io("write the cache", &e))
}

#[derive(Deserialize)]
struct WireList {
    data: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
struct WireModel {
    id: String,
    #[serde(default)]
    created: Option<i64>,
    #[serde(default)]
    owned_by: Option<String>,
    #[serde(default)]
    architecture: Option<WireArchitecture>,
    #[serde(default)]
    providers: Vec<serde_json::Value>,
}

#[derive(Deserialize, Default)]
struct WireArchitecture {
    #[serde(default)]
    input_modalities: Vec<String>,
    #[serde(default)]
    output_modalities: Vec<String>,
}

#[derive(Deserialize)]
struct WireOffer {
    provider: String,
    status: String,
    #[serde(default)]
    context_length: Option<u64>,
    #[serde(default)]
    pricing: Option<WirePricing>,
    #[serde(default)]
    is_free: Option<bool>,
    #[serde(default)]
    supports_tools: Option<bool>,
    #[serde(default)]
    supports_structured_output: Option<bool>,
    #[serde(default)]
    first_token_latency_ms: Option<f64>,
    #[serde(default)]
    throughput: Option<f64>,
}

#[derive(Deserialize)]
struct WirePricing {
    input: Option<f64>,
    output: Option<f64>,
}

impl From<WireModel> for ModelInfo {
    fn from(w: WireModel) -> Self {
        let arch = w.architecture.unwrap_or_default();
        let providers = w
            .providers
            .into_iter()
            .filter_map(|v| serde_json::from_value::<WireOffer>(v).ok())
            .map(|o| ProviderOffer {
                status: OfferStatus::from(o.status.as_str()),
                provider: o.provider,
                context_length: o.context_length.filter(|&c| c > 0),
                pricing: o.pricing.and_then(|p| match (p.input, p.output) {
                    (Some(i), Some(o)) if i >= 0.0 && o >= 0.0 => Some(Pricing {
                        input: i,
                        output: o,
                    }),
                    _ => None,
                }),
                is_free: o.is_free.unwrap_or(false),
                supports_tools: o.supports_tools,
                supports_structured_output: o.supports_structured_output,
                first_token_latency_ms: o.first_token_latency_ms,
                throughput: o.throughput,
            })
            .collect();
        ModelInfo {
            id: w.id,
            created: w.created,
            owned_by: w.owned_by,
            input_modalities: arch.input_modalities,
            output_modalities: arch.output_modalities,
            providers,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = r#"{"object":"list","data":[
      {"id":"openai/gpt-oss-120b","object":"model","created":1754000000,"owned_by":"openai",
       "architecture":{"input_modalities":["text"],"output_modalities":["text"]},
       "providers":[
         {"provider":"groq","status":"live","context_length":131072,"pricing":{"input":0.15,"output":0.75},
          "supports_tools":true,"supports_structured_output":true,"first_token_latency_ms":310,"throughput":552.0,"is_model_author":false},
         {"provider":"novita","status":"error"},
         {"status":"live"},
         {"provider":"together","status":"staging","pricing":{"input":0.1}}
       ]},
      {"id":"Qwen/Qwen2.5-VL-7B-Instruct","providers":[{"provider":"hf-inference","status":"live","is_free":true}],
       "architecture":{"input_modalities":["text","image"]}},
      {"not":"a model"},
      {"id":"Qwen/Qwen2.5-VL-7B-Instruct","providers":[]}
    ]}"#;

    #[test]
    fn parses_lenient_router_answer() {
        let c = Catalog::parse(SAMPLE.as_bytes(), 100).unwrap();
        assert_eq!(c.fetched_at, Some(100));
        // Sorted case-insensitively, duplicates and non-models dropped.
        let ids: Vec<_> = c.models.iter().map(|m| m.id.as_str()).collect();
        assert_eq!(ids, ["openai/gpt-oss-120b", "Qwen/Qwen2.5-VL-7B-Instruct"]);
        let m = c.model("openai/gpt-oss-120b").unwrap();
        // The entry without a provider name is skipped.
        assert_eq!(m.providers.len(), 3);
        let groq = m.offer("groq").unwrap();
        assert!(groq.is_live());
        assert_eq!(groq.context_length, Some(131072));
        assert_eq!(groq.pricing.unwrap().output, 0.75);
        assert_eq!(groq.throughput, Some(552.0));
        assert_eq!(m.offer("novita").unwrap().status, OfferStatus::Error);
        let together = m.offer("together").unwrap();
        assert_eq!(together.status, OfferStatus::Other);
        assert_eq!(together.pricing, None, "half a price is no price");
        let vl = c.model("Qwen/Qwen2.5-VL-7B-Instruct").unwrap();
        assert_eq!(vl.input_modalities, ["text", "image"]);
        assert!(vl.providers[0].is_free);
        assert!(vl.output_modalities.is_empty());
    }

    #[test]
    fn rejects_what_is_not_a_list() {
        for body in ["<html>", "{}", "[1,2]", ""] {
            let e = Catalog::parse(body.as_bytes(), 0).unwrap_err();
            assert_eq!(e.code, ErrorCode::BadResponse, "{body}");
        }
    }

    #[test]
    fn cost_is_tokens_times_price_per_million() {
        let p = Pricing {
            input: 0.15,
            output: 0.75,
        };
        let c = p.cost(1000, 2000);
        assert!((c - (0.00015 + 0.0015)).abs() < 1e-12, "{c}");
        assert_eq!(p.cost(0, 0), 0.0);
    }

    #[test]
    fn staleness() {
        assert!(Catalog::default().is_stale(0));
        let c = Catalog {
            fetched_at: Some(1000),
            models: vec![],
        };
        assert!(!c.is_stale(1000 + MAX_AGE_SECS - 1));
        assert!(c.is_stale(1000 + MAX_AGE_SECS));
    }

    #[test]
    fn cache_round_trip_and_corrupt_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/catalog.json");
        assert_eq!(Catalog::load(&path), Catalog::default());
        let c = Catalog::parse(SAMPLE.as_bytes(), 42).unwrap();
        c.save(&path).unwrap();
        assert_eq!(Catalog::load(&path), c);
        std::fs::write(&path, b"{truncated").unwrap();
        assert_eq!(Catalog::load(&path), Catalog::default());
    }
}
