//! Chat completions through the Hugging Face router: what the user asks for ([`ChatRequest`]),
//! the exact HTTP request it becomes ([`build`]), and the streamed answer ([`stream`]), reported
//! as [`ChatEvent`]s. No Tauri in here.

pub mod prefs;
pub mod stream;
pub mod think;

use serde::Serialize;
use serde_json::{json, Map, Value};
use ts_rs::TS;

use crate::catalog::Catalog;
use crate::config::Endpoints;
use crate::error::{AppError, AppResult, ErrorCode};

pub use crate::call::{
    CallMode, CallResult, CallStats, ChatEvent, ChatMessage, ChatParams, ChatRequest, Outcome,
    Policy, RateLimit, Role, Routing,
};
pub use prefs::PlaygroundPrefs;
pub use stream::{run, CallOptions};

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
    /// `X-HF-Session-id`: the conversation's (or compare pane's) session, so Hugging Face
    /// reports its billed cost. Routed calls only: [`ChatPreview::retarget`] drops it.
    #[serde(default)]
    pub session_id: Option<String>,
    /// Extra non-secret headers (some providers want one on direct calls).
    pub headers: Vec<(String, String)>,
    /// Whose credential it needs: the HF token (routed), the provider's key (own key) or the
    /// endpoint's key. "Get code" names the matching environment variable, never the secret.
    pub mode: CallMode,
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
        self.session_id = None;
        self.headers = headers;
        self.mode = CallMode::Endpoint;
        self
    }
}

/// Body fields the app owns: extra parameters cannot replace them.
const RESERVED: [&str; 4] = ["model", "messages", "stream", "stream_options"];

/// The most pictures one message may carry.
pub const MAX_IMAGES_PER_MESSAGE: usize = 8;

/// Whether the catalog says `model` takes image input.
pub fn takes_images(catalog: Option<&Catalog>, model: &str) -> bool {
    catalog
        .and_then(|c| c.model(model.trim()))
        .is_some_and(|m| m.input_modalities.iter().any(|x| x == "image"))
}

/// Builds the request. `catalog` caps `max_tokens` at the pinned provider's context length.
/// A request with attached pictures needs [`build_with_images`].
pub fn build(
    endpoints: &Endpoints,
    req: &ChatRequest,
    catalog: Option<&Catalog>,
) -> AppResult<ChatPreview> {
    build_with_images(endpoints, req, catalog, &|_| {
        Err(AppError::internal("attached pictures cannot be read here"))
    })
}

/// [`build`], with `picture` turning an attached picture's file name into its `data:` URL
/// (checked to be a picture and within the size cap). Pictures go as OpenAI image content
/// parts, and only to a model whose catalog entry takes image input: otherwise the request is
/// refused before anything is sent.
pub fn build_with_images(
    endpoints: &Endpoints,
    req: &ChatRequest,
    catalog: Option<&Catalog>,
    picture: &dyn Fn(&str) -> AppResult<String>,
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
    let with_images = req.messages.iter().any(|m| !m.images.is_empty());
    if with_images && !takes_images(catalog, model) {
        return Err(AppError::new(
            ErrorCode::ImageInputUnsupported,
            format!("{model} does not take pictures: remove the attached pictures or choose a model that takes image input."),
        ));
    }
    for m in &req.messages {
        if m.images.is_empty() {
            messages.push(serde_json::to_value(m).expect("messages serialise"));
            continue;
        }
        if m.images.len() > MAX_IMAGES_PER_MESSAGE {
            return Err(AppError::new(
                ErrorCode::InvalidRequest,
                format!("A message can carry at most {MAX_IMAGES_PER_MESSAGE} pictures."),
            ));
        }
        let mut parts = Vec::with_capacity(m.images.len() + 1);
        if !m.content.is_empty() {
            parts.push(json!({"type": "text", "text": m.content}));
        }
        for file in &m.images {
            parts.push(json!({"type": "image_url", "image_url": {"url": picture(file)?}}));
        }
        messages.push(json!({"role": m.role, "content": parts}));
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
        session_id: None,
        headers: Vec::new(),
        mode: CallMode::Routed,
    })
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
                images: Vec::new(),
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
        let mut p = build(&endpoints(), &r, None).unwrap();
        p.session_id = Some("conversation-session".into());
        let p = p.retarget(
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
        assert_eq!(p.session_id, None, "the session is Hugging Face's only");
        assert_eq!(p.headers.len(), 1);
    }

    fn vision_catalog() -> Catalog {
        Catalog::parse(
            br#"{"data":[{"id":"openai/gpt-oss-120b","providers":[{"provider":"groq","status":"live"}],"architecture":{"input_modalities":["text"]}},
              {"id":"Qwen/Qwen2.5-VL-7B-Instruct","providers":[{"provider":"groq","status":"live"}],"architecture":{"input_modalities":["text","image"]}}]}"#,
            0,
        )
        .unwrap()
    }

    #[test]
    fn attached_pictures_become_image_parts() {
        let mut r = request();
        r.model = "Qwen/Qwen2.5-VL-7B-Instruct".into();
        r.messages[0].images = vec!["ab.png".into()];
        let load = |f: &str| Ok(format!("data:image/png;base64,{f}"));
        let p = build_with_images(&endpoints(), &r, Some(&vision_catalog()), &load).unwrap();
        assert_eq!(
            p.body["messages"][1],
            json!({"role": "user", "content": [
                {"type": "text", "text": "Hi"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,ab.png"}}
            ]})
        );
        assert!(p.body["messages"][1].get("images").is_none());
        assert_eq!(
            p.body["messages"][0]["content"], "Be brief.",
            "text stays a string"
        );
    }

    #[test]
    fn a_model_without_image_input_refuses_pictures_before_reading_them() {
        let mut r = request();
        r.messages[0].images = vec!["ab.png".into()];
        let load = |_: &str| -> AppResult<String> { panic!("no picture is read") };
        for catalog in [Some(vision_catalog()), None] {
            let e = build_with_images(&endpoints(), &r, catalog.as_ref(), &load).unwrap_err();
            assert_eq!(e.code, ErrorCode::ImageInputUnsupported);
        }
        r.model = "Qwen/Qwen2.5-VL-7B-Instruct".into();
        r.messages[0].images = vec!["a.png".into(); MAX_IMAGES_PER_MESSAGE + 1];
        let load = |_: &str| Ok("data:image/png;base64,AA".to_string());
        let e = build_with_images(&endpoints(), &r, Some(&vision_catalog()), &load).unwrap_err();
        assert_eq!(e.code, ErrorCode::InvalidRequest);
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
