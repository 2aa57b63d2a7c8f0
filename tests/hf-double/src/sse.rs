//! Server-sent events: splitting recorded streams, and synthesizing chat answers shaped like the
//! recorded together ones.

use serde_json::{json, Value};

/// A `data:` payload that is not JSON, for [`crate::FaultKind::MalformedEvent`].
pub const MALFORMED_EVENT: &str = "data: {not json";
/// The end-of-stream event.
pub const DONE_EVENT: &str = "data: [DONE]";

/// Splits a recorded `text/event-stream` body into its events (without the blank-line separators).
pub fn split_events(body: &str) -> Vec<String> {
    body.split("\n\n")
        .map(|e| e.trim_matches(|c| c == '\n' || c == '\r'))
        .filter(|e| !e.is_empty())
        .map(str::to_string)
        .collect()
}

/// The JSON payload of a `data:` event (with or without the space), if it is JSON.
pub fn event_json(event: &str) -> Option<Value> {
    let data = event.strip_prefix("data:")?;
    serde_json::from_str(data.trim_start()).ok()
}

/// Whether any event carries a non-null `usage`.
pub fn has_usage(events: &[String]) -> bool {
    events
        .iter()
        .filter_map(|e| event_json(e))
        .any(|v| v.get("usage").is_some_and(Value::is_object))
}

/// A final `choices: []` chunk carrying usage, shaped after the stream's last JSON chunk.
pub fn usage_event(events: &[String], prompt_tokens: u64) -> Option<String> {
    let last = events.iter().rev().find_map(|e| event_json(e))?;
    let completion_tokens = events
        .iter()
        .filter_map(|e| event_json(e))
        .filter(|v| {
            v["choices"][0]["delta"]["content"]
                .as_str()
                .is_some_and(|c| !c.is_empty())
        })
        .count() as u64;
    let mut chunk = serde_json::Map::new();
    for key in ["id", "object", "created", "model"] {
        if let Some(v) = last.get(key) {
            chunk.insert(key.to_string(), v.clone());
        }
    }
    chunk.insert("choices".into(), json!([]));
    chunk.insert(
        "usage".into(),
        usage_json(prompt_tokens, completion_tokens.max(1)),
    );
    Some(format!("data: {}", Value::Object(chunk)))
}

fn usage_json(prompt: u64, completion: u64) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

/// A rough prompt token count for a chat request body.
pub fn estimate_prompt_tokens(body: &Value) -> u64 {
    let chars: usize = body["messages"]
        .as_array()
        .map(|ms| {
            ms.iter()
                .map(|m| m["content"].as_str().map_or(0, str::len))
                .sum()
        })
        .unwrap_or(0);
    (chars as u64) / 4 + 8
}

/// Replaces the `"model"` value `from` by `to` in raw JSON text, keeping every other byte.
pub fn rewrite_model(text: &str, from: &str, to: &str) -> String {
    if from == to || from.is_empty() {
        return text.to_string();
    }
    let enc = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let (from, to) = (enc(from), enc(to));
    text.replace(&format!("\"model\":{from}"), &format!("\"model\":{to}"))
        .replace(&format!("\"model\": {from}"), &format!("\"model\": {to}"))
}

/// Splits content into pieces of at most `max_chars` characters.
pub fn split_content(content: &str, max_chars: usize) -> Vec<String> {
    let chars: Vec<char> = content.chars().collect();
    chars
        .chunks(max_chars.max(1))
        .map(|c| c.iter().collect())
        .collect()
}

/// Deterministic filler text for long streams: piece `i`.
pub fn filler_piece(i: usize) -> String {
    const WORDS: [&str; 16] = [
        "Deep", "learning", "is", "a", "subfield", "of", "machine", "learning", "that", "uses",
        "neural", "networks", "with", "many", "layers", "and",
    ];
    if i == 0 {
        WORDS[0].to_string()
    } else {
        format!(" {}", WORDS[i % WORDS.len()])
    }
}

const TOGETHER_CHUNK: &str = r#"{"id":"91158e6ad8a0ef60","object":"chat.completion.chunk","created":1739457445,"choices":[{"index":0,"text":"Deep","logprobs":null,"finish_reason":null,"seed":null,"delta":{"token_id":34564,"role":"assistant","content":"Deep","tool_calls":null}}],"model":"meta-llama/Meta-Llama-3-8B-Instruct-Turbo","usage":null}"#;
const TOGETHER_COMPLETION: &str = r#"{"id":"9115d3daeab10608","object":"chat.completion","created":1739460289,"model":"meta-llama/Meta-Llama-3-8B-Instruct-Turbo","prompt":[],"choices":[{"finish_reason":"stop","seed":3629048360264764400,"logprobs":null,"index":0,"message":{"role":"assistant","content":"","tool_calls":[]}}],"usage":{"prompt_tokens":26,"completion_tokens":0,"total_tokens":26}}"#;

/// Templates to synthesize answers from (the recorded together stream's first chunk and the
/// recorded together completion when available).
#[derive(Debug, Clone)]
pub struct Templates {
    chunk: Value,
    completion: Value,
}

impl Templates {
    pub fn new(stream_body: Option<&str>, completion_body: Option<&str>) -> Templates {
        let chunk = stream_body
            .and_then(|b| split_events(b).first().and_then(|e| event_json(e)))
            .unwrap_or_else(|| serde_json::from_str(TOGETHER_CHUNK).expect("valid template"));
        let completion = completion_body
            .and_then(|b| serde_json::from_str(b).ok())
            .unwrap_or_else(|| serde_json::from_str(TOGETHER_COMPLETION).expect("valid template"));
        Templates { chunk, completion }
    }

    /// Stream events: one chunk per piece (the last with `finish_reason: "stop"`), a usage chunk,
    /// and `[DONE]`.
    pub fn stream(&self, model: &str, id: &str, pieces: &[String], prompt: u64) -> Vec<String> {
        let created = super::tokens::now_unix();
        let mut events = Vec::with_capacity(pieces.len() + 2);
        for (i, piece) in pieces.iter().enumerate() {
            let mut c = self.chunk.clone();
            c["id"] = json!(id);
            c["created"] = json!(created);
            c["model"] = json!(model);
            let choice = &mut c["choices"][0];
            if choice.get("text").is_some() {
                choice["text"] = json!(piece);
            }
            choice["finish_reason"] = if i + 1 == pieces.len() {
                json!("stop")
            } else {
                Value::Null
            };
            let delta = &mut choice["delta"];
            delta["content"] = json!(piece);
            if delta.get("token_id").is_some() {
                delta["token_id"] = json!(1000 + i);
            }
            events.push(format!("data: {c}"));
        }
        let usage = json!({
            "id": id,
            "object": "chat.completion.chunk",
            "created": created,
            "choices": [],
            "model": model,
            "usage": usage_json(prompt, pieces.len() as u64),
        });
        events.push(format!("data: {usage}"));
        events.push(DONE_EVENT.to_string());
        events
    }

    /// A non-streamed completion with this content.
    pub fn completion(&self, model: &str, id: &str, content: &str, prompt: u64) -> String {
        let mut c = self.completion.clone();
        c["id"] = json!(id);
        c["created"] = json!(super::tokens::now_unix());
        c["model"] = json!(model);
        c["choices"][0]["message"]["content"] = json!(content);
        c["choices"][0]["finish_reason"] = json!("stop");
        let completion = split_content(content, 4).len() as u64;
        c["usage"] = usage_json(prompt, completion);
        c.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_and_rewrites() {
        let body = "data: {\"model\":\"a\",\"x\":1}\n\ndata: [DONE]\n\n";
        let ev = split_events(body);
        assert_eq!(ev, vec!["data: {\"model\":\"a\",\"x\":1}", "data: [DONE]"]);
        assert_eq!(
            rewrite_model(&ev[0], "a", "b/c"),
            "data: {\"model\":\"b/c\",\"x\":1}"
        );
        assert!(!has_usage(&ev));
        let u = usage_event(&ev, 10).unwrap();
        assert!(u.contains("\"choices\":[]") && u.contains("\"total_tokens\":11"));
    }

    #[test]
    fn synthesized_stream_shape() {
        let t = Templates::new(None, None);
        let ev = t.stream("m", "id1", &split_content("<think>hi</think>", 5), 3);
        assert_eq!(ev.last().unwrap(), DONE_EVENT);
        let text: String = ev
            .iter()
            .filter_map(|e| event_json(e))
            .filter_map(|v| {
                v["choices"][0]["delta"]["content"]
                    .as_str()
                    .map(String::from)
            })
            .collect();
        assert_eq!(text, "<think>hi</think>");
    }
}
