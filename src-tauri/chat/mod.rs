//! Chat completions through the Hugging Face router: what the user asks for ([`ChatRequest`]),
//! the exact HTTP request it becomes ([`build`]), and the streamed answer ([`stream`]), reported
//! as [`ChatEvent`]s. No Tauri in here.

pub mod stream;
pub mod think;

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use ts_rs::TS;

use crate::catalog::{Catalog, Pricing};
use crate::config::Endpoints;
use crate::error::{AppError, AppResult, ErrorCode};

pub use stream::{run, CallOptions};

/// The router's automatic provider choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Policy {
    /// Highest throughput (the router's default).
    #[default]
    Fastest,
    /// Lowest price per output token.
    Cheapest,
    /// The user's order in their Hugging Face settings.
    Preferred,
}

impl Policy {
    pub fn suffix(self) -> &'static str {
        match self {
            Policy::Fastest => "fastest",
            Policy::Cheapest => "cheapest",
            Policy::Preferred => "preferred",
        }
    }
}

/// Which provider serves a call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[ts(export)]
pub enum Routing {
    Auto { policy: Policy },
    Pinned { provider: String },
}

impl Default for Routing {
    fn default() -> Self {
        Routing::Auto {
            policy: Policy::Fastest,
        }
    }
}

impl Routing {
    /// `model:provider` or `model:policy`, as the router documents.
    pub fn model_id(&self, model: &str) -> String {
        match self {
            Routing::Auto { policy } => format!("{model}:{}", policy.suffix()),
            Routing::Pinned { provider } => format!("{model}:{provider}"),
        }
    }

    pub fn pinned(&self) -> Option<&str> {
        match self {
            Routing::Pinned { provider } => Some(provider),
            Routing::Auto { .. } => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Role {
    System,
    User,
    Assistant,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct ChatMessage {
    pub role: Role,
    pub content: String,
}

/// Sampling parameters. `None` leaves the provider's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase", default)]
#[ts(export)]
pub struct ChatParams {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    pub max_tokens: Option<u32>,
    pub stop: Vec<String>,
    #[ts(type = "number | null")]
    pub seed: Option<i64>,
    /// Any other body fields, as a JSON object (`{"frequency_penalty": 0.5}`).
    #[ts(type = "Record<string, unknown> | null")]
    pub extra: Option<Value>,
}

/// What the user asks for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatRequest {
    /// The Hub model id, without suffix.
    pub model: String,
    pub routing: Routing,
    /// The system prompt; empty for none.
    #[serde(default)]
    pub system: String,
    /// The conversation so far, ending with the user's message.
    pub messages: Vec<ChatMessage>,
    #[serde(default)]
    pub params: ChatParams,
    /// An organisation billed with `X-HF-Bill-To`.
    #[serde(default)]
    pub bill_to: Option<String>,
}

/// The exact HTTP request a [`ChatRequest`] becomes, with the token left out. "Get code" shows
/// it; [`stream::run`] sends it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct ChatPreview {
    /// The chat completions URL.
    pub url: String,
    /// The OpenAI-style base URL (for client libraries).
    pub base_url: String,
    #[ts(type = "Record<string, unknown>")]
    pub body: Value,
    pub bill_to: Option<String>,
    /// Extra non-secret headers (some providers want one on direct calls).
    pub headers: Vec<(String, String)>,
}

impl ChatPreview {
    /// The same request sent straight to a provider or endpoint: its URL, its model id, no
    /// `X-HF-Bill-To` (that is for the router only).
    pub fn retarget(mut self, url: String, model: &str, headers: Vec<(String, String)>) -> Self {
        self.body["model"] = json!(model);
        self.base_url = url
            .strip_suffix("/chat/completions")
            .unwrap_or(&url)
            .to_string();
        self.url = url;
        self.bill_to = None;
        self.headers = headers;
        self
    }
}

/// Body fields the app owns: extra parameters cannot replace them.
const RESERVED: [&str; 4] = ["model", "messages", "stream", "stream_options"];

/// Builds the request. `catalog` caps `max_tokens` at the pinned provider's context length.
pub fn build(
    endpoints: &Endpoints,
    req: &ChatRequest,
    catalog: Option<&Catalog>,
) -> AppResult<ChatPreview> {
    let model = req.model.trim();
    if model.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidRequest,
            "Choose a model first.",
        ));
    }
    if req.messages.is_empty() {
        return Err(AppError::new(
            ErrorCode::InvalidRequest,
            "There is no message to send.",
        ));
    }
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    if !req.system.trim().is_empty() {
        messages.push(json!({"role": "system", "content": req.system}));
    }
    for m in &req.messages {
        messages.push(serde_json::to_value(m).expect("messages serialise"));
    }

    // `model` first: the router reads the prefix.
    let mut body = Map::new();
    body.insert("model".into(), json!(req.routing.model_id(model)));
    body.insert("messages".into(), Value::Array(messages));
    body.insert("stream".into(), json!(true));
    body.insert("stream_options".into(), json!({"include_usage": true}));
    let p = &req.params;
    if let Some(t) = p.temperature {
        body.insert("temperature".into(), json!(t));
    }
    if let Some(t) = p.top_p {
        body.insert("top_p".into(), json!(t));
    }
    if let Some(mut n) = p.max_tokens {
        let context = req
            .routing
            .pinned()
            .and_then(|prov| catalog?.offer(model, prov)?.context_length);
        if let Some(ctx) = context {
            n = n.min(u32::try_from(ctx).unwrap_or(u32::MAX));
        }
        body.insert("max_tokens".into(), json!(n));
    }
    let stop: Vec<&String> = p.stop.iter().filter(|s| !s.is_empty()).collect();
    if !stop.is_empty() {
        body.insert("stop".into(), json!(stop));
    }
    if let Some(seed) = p.seed {
        body.insert("seed".into(), json!(seed));
    }
    match &p.extra {
        None | Some(Value::Null) => {}
        Some(Value::Object(extra)) => {
            for (k, v) in extra {
                if RESERVED.contains(&k.as_str()) {
                    return Err(AppError::new(
                        ErrorCode::InvalidRequest,
                        format!(
                            "The extra parameter “{k}” is set by the app and cannot be changed."
                        ),
                    ));
                }
                body.insert(k.clone(), v.clone());
            }
        }
        Some(_) => {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                "Extra parameters must be a JSON object, like {\"frequency_penalty\": 0.5}.",
            ))
        }
    }
    let bill_to = req
        .bill_to
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Ok(ChatPreview {
        url: endpoints.router_url("v1/chat/completions"),
        base_url: endpoints.router_url("v1"),
        body: Value::Object(body),
        bill_to,
        headers: Vec::new(),
    })
}

/// How a call ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "snake_case")]
#[ts(export)]
pub enum Outcome {
    Complete,
    /// The user pressed Stop: the partial answer is kept.
    Stopped,
    Error,
}

/// The figures shown under an answer.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct CallStats {
    /// The provider that served the call (`x-inference-provider`, or the pinned one).
    pub provider: Option<String>,
    #[ts(type = "number")]
    pub tokens_in: u64,
    #[ts(type = "number")]
    pub tokens_out: u64,
    /// The provider sent no usage: the token counts are estimates.
    pub usage_estimated: bool,
    /// Time to the first token, ms.
    pub ttft_ms: Option<f64>,
    pub total_ms: f64,
    pub tokens_per_sec: Option<f64>,
    /// The provider's price at the time of the call.
    pub pricing: Option<Pricing>,
    /// USD; `None` when the price is unknown.
    pub cost: Option<f64>,
    pub finish_reason: Option<String>,
    /// The provider's or the Hub's remaining allowance, when the answer said.
    #[serde(default)]
    pub rate_limit: Option<RateLimit>,
}

/// What `x-ratelimit-*` or `RateLimit`/`RateLimit-Policy` headers said.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct RateLimit {
    /// Requests left in the window.
    #[ts(type = "number | null")]
    pub remaining: Option<u64>,
    /// Requests allowed per window.
    #[ts(type = "number | null")]
    pub limit: Option<u64>,
    /// Seconds until the window resets.
    #[ts(type = "number | null")]
    pub reset_secs: Option<u64>,
}

/// What the UI learns while a call runs, in order: `Started` once the answer's headers are in,
/// `Retrying` before each automatic retry, `Delta`s as the text streams, `Finished` last (always
/// sent exactly once).
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(
    tag = "event",
    rename_all = "snake_case",
    rename_all_fields = "camelCase"
)]
#[ts(export)]
pub enum ChatEvent {
    Started {
        request_id: Option<String>,
        provider: Option<String>,
    },
    Retrying {
        attempt: u32,
        max_attempts: u32,
        #[ts(type = "number")]
        wait_ms: u64,
        error: AppError,
        request_id: Option<String>,
    },
    Delta {
        content: String,
        reasoning: String,
    },
    Finished {
        outcome: Outcome,
        error: Option<AppError>,
        request_id: Option<String>,
        stats: CallStats,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> ChatRequest {
        ChatRequest {
            model: "openai/gpt-oss-120b".into(),
            routing: Routing::Pinned {
                provider: "groq".into(),
            },
            system: "Be brief.".into(),
            messages: vec![ChatMessage {
                role: Role::User,
                content: "Hi".into(),
            }],
            params: ChatParams::default(),
            bill_to: None,
        }
    }

    fn endpoints() -> Endpoints {
        Endpoints {
            router: "http://r".into(),
            ..Endpoints::default()
        }
    }

    #[test]
    fn model_suffix_names_provider_or_policy() {
        assert_eq!(
            Routing::Pinned {
                provider: "groq".into()
            }
            .model_id("m/x"),
            "m/x:groq"
        );
        for (p, s) in [
            (Policy::Fastest, "m/x:fastest"),
            (Policy::Cheapest, "m/x:cheapest"),
            (Policy::Preferred, "m/x:preferred"),
        ] {
            assert_eq!(Routing::Auto { policy: p }.model_id("m/x"), s);
        }
    }

    #[test]
    fn body_has_model_first_system_and_usage() {
        let p = build(&endpoints(), &request(), None).unwrap();
        assert_eq!(p.url, "http://r/v1/chat/completions");
        assert_eq!(p.base_url, "http://r/v1");
        let text = serde_json::to_string(&p.body).unwrap();
        assert!(
            text.starts_with(r#"{"model":"openai/gpt-oss-120b:groq","messages":[{"role":"system""#),
            "{text}"
        );
        assert_eq!(p.body["stream"], true);
        assert_eq!(p.body["stream_options"]["include_usage"], true);
        assert!(p.body.get("temperature").is_none(), "defaults are left out");
    }

    #[test]
    fn parameters_and_extra_fields() {
        let mut r = request();
        r.system = "  ".into();
        r.params = ChatParams {
            temperature: Some(0.2),
            top_p: Some(0.9),
            max_tokens: Some(500),
            stop: vec!["END".into(), "".into()],
            seed: Some(7),
            extra: Some(
                json!({"frequency_penalty": 0.5, "response_format": {"type": "json_object"}}),
            ),
        };
        r.bill_to = Some(" acme-research ".into());
        let p = build(&endpoints(), &r, None).unwrap();
        let b = &p.body;
        assert_eq!(
            b["messages"].as_array().unwrap().len(),
            1,
            "blank system prompt left out"
        );
        assert_eq!(b["temperature"], 0.2);
        assert_eq!(b["top_p"], 0.9);
        assert_eq!(b["max_tokens"], 500);
        assert_eq!(b["stop"], json!(["END"]));
        assert_eq!(b["seed"], 7);
        assert_eq!(b["frequency_penalty"], 0.5);
        assert_eq!(b["response_format"]["type"], "json_object");
        assert_eq!(p.bill_to.as_deref(), Some("acme-research"));
    }

    #[test]
    fn max_tokens_capped_by_pinned_context() {
        let catalog = Catalog::parse(
            br#"{"data":[{"id":"openai/gpt-oss-120b","providers":[{"provider":"groq","status":"live","context_length":8192}]}]}"#,
            0,
        )
        .unwrap();
        let mut r = request();
        r.params.max_tokens = Some(100_000);
        let p = build(&endpoints(), &r, Some(&catalog)).unwrap();
        assert_eq!(p.body["max_tokens"], 8192);
    }

    #[test]
    fn retargeted_requests_carry_the_provider_model_and_no_bill_to() {
        let mut r = request();
        r.bill_to = Some("acme".into());
        let p = build(&endpoints(), &r, None).unwrap().retarget(
            "http://p/openai/v1/chat/completions".into(),
            "llama-3.3-70b-versatile",
            vec![("x-source-channel".into(), "hugging_face".into())],
        );
        assert_eq!(p.body["model"], "llama-3.3-70b-versatile");
        assert!(serde_json::to_string(&p.body)
            .unwrap()
            .starts_with("{\"model\":"));
        assert_eq!(p.base_url, "http://p/openai/v1");
        assert_eq!(p.bill_to, None);
        assert_eq!(p.headers.len(), 1);
    }

    #[test]
    fn refuses_bad_input() {
        let mut r = request();
        r.params.extra = Some(json!([1]));
        assert_eq!(
            build(&endpoints(), &r, None).unwrap_err().code,
            ErrorCode::InvalidRequest
        );
        r.params.extra = Some(json!({"model": "other"}));
        let e = build(&endpoints(), &r, None).unwrap_err();
        assert!(e.message.contains("model"), "{}", e.message);
        let mut r = request();
        r.model = " ".into();
        assert!(build(&endpoints(), &r, None).is_err());
        let mut r = request();
        r.messages.clear();
        assert!(build(&endpoints(), &r, None).is_err());
    }

    #[test]
    fn events_serialise_for_the_ui() {
        let e = ChatEvent::Started {
            request_id: Some("r1".into()),
            provider: None,
        };
        assert_eq!(
            serde_json::to_value(&e).unwrap(),
            json!({"event": "started", "requestId": "r1", "provider": null})
        );
        let r = serde_json::to_value(Routing::Auto {
            policy: Policy::Cheapest,
        })
        .unwrap();
        assert_eq!(r, json!({"kind": "auto", "policy": "cheapest"}));
    }
}
