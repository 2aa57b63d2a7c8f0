//! What the user asks for: the model, where the call goes, the conversation and its parameters.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use ts_rs::TS;

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

/// What a call asks a model for: routes and own-key support differ by task.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, TS)]
#[serde(rename_all = "kebab-case")]
#[ts(export)]
pub enum Task {
    #[default]
    Chat,
    TextToImage,
    FeatureExtraction,
    SpeechToText,
    TextToSpeech,
    TextToVideo,
    ImageToVideo,
}

impl Task {
    /// The Hub's name of the task (`pipeline_tag`, and a mapping entry's `task`).
    pub fn hub_name(self) -> &'static str {
        match self {
            Task::Chat => "conversational",
            Task::TextToImage => "text-to-image",
            Task::FeatureExtraction => "feature-extraction",
            Task::SpeechToText => "automatic-speech-recognition",
            Task::TextToSpeech => "text-to-speech",
            Task::TextToVideo => "text-to-video",
            Task::ImageToVideo => "image-to-video",
        }
    }

    /// A generation whose result is a video.
    pub fn is_video(self) -> bool {
        matches!(self, Task::TextToVideo | Task::ImageToVideo)
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

    /// The pinned offer, as the catalog names it (a provider, or `endpoint:{id}`).
    pub fn pinned(&self) -> Option<&str> {
        match self {
            Routing::Pinned { provider } => Some(provider),
            Routing::Auto { .. } => None,
        }
    }

    /// What the user chose, read once: an automatic policy, a provider, or a custom endpoint
    /// (offered in the catalog as the pseudo-provider `endpoint:{id}`). The only place the app
    /// reads that prefix.
    pub fn target(&self) -> Target<'_> {
        match self {
            Routing::Auto { policy } => Target::Auto(*policy),
            Routing::Pinned { provider } => match provider.strip_prefix(ENDPOINT_PREFIX) {
                Some(id) => Target::Endpoint(id),
                None => Target::Provider(provider),
            },
        }
    }
}

/// The pseudo-provider name under which a custom endpoint's models are offered.
pub const ENDPOINT_PREFIX: &str = "endpoint:";

/// The user's choice of [`Routing`], parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target<'a> {
    Auto(Policy),
    Provider(&'a str),
    /// A custom endpoint, by id.
    Endpoint(&'a str),
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
    /// Pictures attached to the message: kept files (the SHA-256 of their bytes and an
    /// extension, in the images folder), sent as image content parts to models that take
    /// image input.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[ts(as = "Option<Vec<String>>", optional)]
    pub images: Vec<String>,
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
