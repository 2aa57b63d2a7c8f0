//! The router's model catalog (`/v1/models`), provider routes and synthesized data.
//!
//! `/v1/models` was never recorded: it is synthesized, deterministically, from the recorded Hub
//! mappings (conversational, live, still-routed providers) plus a few well-known extra models.

use crate::fixtures::Fixtures;
use serde_json::{json, Map, Value};

/// Providers that left the router: dropped from `/v1/models` and routing policies.
pub const REMOVED_PROVIDERS: [&str; 6] = [
    "hyperbolic",
    "nebius",
    "sambanova",
    "black-forest-labs",
    "clarifai",
    "nvidia",
];

/// Chat route of a provider, relative to its base (`{model}` = the provider's model id).
/// Includes the providers that left the router, whose recordings are still replayed.
pub fn chat_route(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "cerebras" | "featherless-ai" | "nscale" | "openai" | "ovhcloud" | "publicai"
        | "scaleway" | "together" | "baseten" | "hyperbolic" | "nebius" | "sambanova" => {
            "v1/chat/completions"
        }
        "cohere" => "compatibility/v1/chat/completions",
        "deepinfra" => "v1/openai/chat/completions",
        "fireworks-ai" => "inference/v1/chat/completions",
        "groq" => "openai/v1/chat/completions",
        "hf-inference" => "models/{model}/v1/chat/completions",
        "novita" => "v3/openai/chat/completions",
        "zai-org" => "api/paas/v4/chat/completions",
        _ => return None,
    })
}

/// Whether `route` (no leading slash) is `provider`'s chat route.
pub fn is_chat_route(provider: &str, route: &str) -> bool {
    match chat_route(provider) {
        Some(r) if r.contains("{model}") => {
            route.starts_with("models/") && route.ends_with("/v1/chat/completions")
        }
        Some(r) => route == r,
        None => false,
    }
}

/// One provider serving a model through the router.
#[derive(Debug, Clone)]
pub struct CatalogProvider {
    pub provider: String,
    /// The provider's own model id (Hub mapping `providerId`).
    pub provider_id: String,
    /// `live` or `error`.
    pub status: String,
}

/// One model of the router catalog.
#[derive(Debug, Clone)]
pub struct CatalogModel {
    pub id: String,
    pub providers: Vec<CatalogProvider>,
    /// Not recorded: synthesized, served by the Hub double too.
    pub synthetic: bool,
}

impl CatalogModel {
    /// First live provider: what every routing policy picks in the double.
    pub fn first_live(&self) -> Option<&CatalogProvider> {
        self.providers.iter().find(|p| p.status == "live")
    }

    pub fn provider(&self, name: &str) -> Option<&CatalogProvider> {
        self.providers.iter().find(|p| p.provider == name)
    }
}

/// (provider, providerId, status).
type ExtraProvider = (&'static str, &'static str, &'static str);

/// Extra well-known models: (id, providers).
const EXTRA_MODELS: &[(&str, &[ExtraProvider])] = &[
    (
        "openai/gpt-oss-120b",
        &[
            ("groq", "openai/gpt-oss-120b", "live"),
            ("cerebras", "gpt-oss-120b", "live"),
            ("together", "openai/gpt-oss-120b", "live"),
            (
                "fireworks-ai",
                "accounts/fireworks/models/gpt-oss-120b",
                "live",
            ),
        ],
    ),
    (
        "deepseek-ai/DeepSeek-R1",
        &[
            ("together", "deepseek-ai/DeepSeek-R1", "live"),
            ("novita", "deepseek/deepseek-r1-turbo", "error"),
        ],
    ),
    (
        "Qwen/Qwen3-Coder-480B-A35B-Instruct",
        &[
            ("cerebras", "qwen-3-coder-480b", "live"),
            (
                "together",
                "Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8",
                "live",
            ),
            ("novita", "qwen/qwen3-coder-480b-a35b-instruct", "live"),
        ],
    ),
    (
        "Qwen/Qwen2.5-VL-72B-Instruct",
        &[
            ("together", "Qwen/Qwen2.5-VL-72B-Instruct", "live"),
            ("novita", "qwen/qwen2.5-vl-72b-instruct", "live"),
        ],
    ),
];

/// Models that take image input (`architecture.input_modalities` has `image`; on the Hub,
/// pipeline tag `image-text-to-text`).
pub const VISION_MODELS: [&str; 1] = ["Qwen/Qwen2.5-VL-72B-Instruct"];

/// USD per 1M tokens (input, output) per (model, provider). Missing pairs have no pricing.
const PRICES: &[(&str, &str, f64, f64)] = &[
    (
        "meta-llama/Llama-3.3-70B-Instruct",
        "fireworks-ai",
        0.9,
        0.9,
    ),
    ("meta-llama/Llama-3.3-70B-Instruct", "together", 0.88, 0.88),
    ("meta-llama/Llama-3.3-70B-Instruct", "novita", 0.135, 0.4),
    ("meta-llama/Llama-3.3-70B-Instruct", "cerebras", 0.85, 1.2),
    ("meta-llama/Llama-3.1-8B-Instruct", "fireworks-ai", 0.2, 0.2),
    ("meta-llama/Llama-3.1-8B-Instruct", "novita", 0.02, 0.05),
    ("meta-llama/Llama-3.2-3B-Instruct", "together", 0.06, 0.06),
    ("meta-llama/Meta-Llama-3-8B-Instruct", "together", 0.1, 0.1),
    (
        "meta-llama/Meta-Llama-3-8B-Instruct",
        "hf-inference",
        0.0,
        0.0,
    ),
    ("openai/gpt-oss-120b", "groq", 0.15, 0.75),
    ("openai/gpt-oss-120b", "cerebras", 0.25, 0.69),
    ("openai/gpt-oss-120b", "together", 0.15, 0.6),
    ("openai/gpt-oss-120b", "fireworks-ai", 0.15, 0.6),
    ("deepseek-ai/DeepSeek-R1", "together", 3.0, 7.0),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "cerebras", 2.0, 2.0),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "together", 2.0, 2.0),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "novita", 0.29, 1.2),
];

/// The one free offer of the catalog.
const FREE_OFFER: (&str, &str) = ("meta-llama/Meta-Llama-3-8B-Instruct", "hf-inference");

/// The whole catalog, in a fixed order: recorded models by id, then the extras.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    pub models: Vec<CatalogModel>,
}

impl Catalog {
    pub(crate) fn build(fx: &Fixtures) -> Catalog {
        let mut models = Vec::new();
        for id in fx.hub_models.keys() {
            let Some(mapping) = fx.mapping(id) else {
                continue;
            };
            let providers: Vec<CatalogProvider> = mapping
                .iter()
                .filter(|(p, m)| {
                    m["task"] == "conversational"
                        && m["status"] == "live"
                        && !REMOVED_PROVIDERS.contains(&p.as_str())
                })
                .map(|(p, m)| CatalogProvider {
                    provider: p.clone(),
                    provider_id: m["providerId"].as_str().unwrap_or(id).to_string(),
                    status: "live".to_string(),
                })
                .collect();
            if !providers.is_empty() {
                models.push(CatalogModel {
                    id: id.clone(),
                    providers,
                    synthetic: false,
                });
            }
        }
        for (id, providers) in EXTRA_MODELS {
            if models.iter().any(|m| m.id == *id) {
                continue;
            }
            models.push(CatalogModel {
                id: id.to_string(),
                providers: providers
                    .iter()
                    .map(|(p, pid, st)| CatalogProvider {
                        provider: p.to_string(),
                        provider_id: pid.to_string(),
                        status: st.to_string(),
                    })
                    .collect(),
                synthetic: true,
            });
        }
        Catalog { models }
    }

    pub fn get(&self, id: &str) -> Option<&CatalogModel> {
        self.models.iter().find(|m| m.id == id)
    }

    /// `GET /v1/models`.
    pub fn list_json(&self) -> Value {
        json!({
            "object": "list",
            "data": self.models.iter().map(model_json).collect::<Vec<_>>(),
        })
    }
}

/// The Hub answer for a synthesized model (with its mapping).
pub fn synthetic_hub_model(m: &CatalogModel) -> Value {
    let mapping: Map<String, Value> = m
        .providers
        .iter()
        .map(|p| {
            (
                p.provider.clone(),
                json!({"status": p.status, "providerId": p.provider_id, "task": "conversational"}),
            )
        })
        .collect();
    json!({
        "_id": format!("{:024x}", fnv(&m.id) as u128),
        "id": m.id,
        "inferenceProviderMapping": mapping,
    })
}

/// One entry of `/v1/models`.
pub fn model_json(m: &CatalogModel) -> Value {
    let owner = m.id.split('/').next().unwrap_or_default();
    json!({
        "id": m.id,
        "object": "model",
        "created": 1_700_000_000 + (fnv(&m.id) % 50_000_000) as i64,
        "owned_by": owner,
        "architecture": {
            "input_modalities": if VISION_MODELS.contains(&m.id.as_str()) { json!(["text", "image"]) } else { json!(["text"]) },
            "output_modalities": ["text"],
        },
        "providers": m.providers.iter().map(|p| provider_json(&m.id, p)).collect::<Vec<_>>(),
    })
}

fn provider_json(model: &str, p: &CatalogProvider) -> Value {
    let mut o = Map::new();
    o.insert("provider".into(), json!(p.provider));
    o.insert("status".into(), json!(p.status));
    if p.status != "live" {
        // An unavailable offer: only the two fields that are always there.
        return Value::Object(o);
    }
    if p.provider != "hf-inference" {
        o.insert("context_length".into(), json!(context_length(model)));
    }
    if let Some((_, _, input, output)) = PRICES
        .iter()
        .find(|(m, pr, _, _)| *m == model && *pr == p.provider)
    {
        o.insert("pricing".into(), json!({"input": input, "output": output}));
    }
    if (model, p.provider.as_str()) == FREE_OFFER {
        o.insert("is_free".into(), json!(true));
    }
    o.insert("supports_tools".into(), json!(p.provider != "hf-inference"));
    if p.provider != "fireworks-ai" {
        o.insert(
            "supports_structured_output".into(),
            json!(p.provider != "hf-inference"),
        );
    }
    if let Some((latency, throughput)) = speed(&p.provider) {
        o.insert("first_token_latency_ms".into(), json!(latency));
        o.insert("throughput".into(), json!(throughput));
    }
    o.insert(
        "is_model_author".into(),
        json!(model.starts_with("openai/") && p.provider == "openai"),
    );
    Value::Object(o)
}

fn context_length(model: &str) -> u64 {
    match model {
        "meta-llama/Meta-Llama-3-8B-Instruct" => 8192,
        "deepseek-ai/DeepSeek-R1" => 163_840,
        "Qwen/Qwen3-Coder-480B-A35B-Instruct" => 262_144,
        _ => 131_072,
    }
}

/// (first token latency ms, throughput tokens/s); novita reports neither.
fn speed(provider: &str) -> Option<(u64, f64)> {
    Some(match provider {
        "cerebras" => (240, 2105.5),
        "groq" => (310, 552.0),
        "together" => (460, 118.4),
        "fireworks-ai" => (390, 176.2),
        "hf-inference" => (910, 41.7),
        "novita" => return None,
        _ => (600, 80.0),
    })
}

/// FNV-1a, for deterministic synthetic values.
pub(crate) fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}
