//! Feature extraction (embeddings), in the recorded HF Inference shape and the OpenAI shape.
//!
//! - hf-inference (routed only): `POST hf-inference/models/{model}/pipeline/feature-extraction`
//!   or, as recorded, `POST hf-inference/pipeline/feature-extraction/{model}`, body
//!   `{"inputs": "…" | ["…", …]}`: a bare JSON array of floats per sentence (`[[…], …]` for a
//!   list, `[…]` for one sentence), as the recording of a sentence-transformers model answers.
//! - OpenAI style (together, deepinfra, scaleway, nebius; routed or direct): `POST …/embeddings`
//!   `{model, input}` → `{object: "list", data: [{object, index, embedding}], model, usage}`.
//!
//! The vectors are not recorded for arbitrary sentences, so the double makes them: [`vector`]
//! sums a fixed pseudo-random vector per lower-cased word, so sentences sharing words are
//! similar; tests compute the same vectors to check what the app shows.
//!
//! A second model, [`SECOND_MODEL`], answers other vectors ([`vector_of`]): 384 numbers, the
//! common little words left out and each word cut to its first four letters (so "markets" and
//! "market" are one word to it), so the two models order some pairs of sentences differently.
//! Every other model answers [`vector`].

use serde_json::{json, Value};

/// The size of the vectors the double answers (the recorded model's: 768).
pub const DIM: usize = 768;

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = x;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn word_seed(w: &str) -> u64 {
    // FNV-1a: stable across runs and platforms.
    w.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The second embedding model the double knows, with vectors of its own.
pub const SECOND_MODEL: &str = "BAAI/bge-small-en-v1.5";
/// The size of the second model's vectors.
pub const SECOND_DIM: usize = 384;

const STOP_WORDS: [&str; 12] = [
    "a", "an", "the", "is", "are", "on", "in", "as", "and", "of", "to", "it",
];

/// The vector the double answers for `sentence` (every model but [`SECOND_MODEL`]).
pub fn vector(sentence: &str) -> Vec<f32> {
    let words = sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect::<Vec<_>>();
    // A constant part: no sentence (even an empty one) is a zero vector.
    let mut seeds = vec![1u64];
    seeds.extend(words.iter().map(|w| word_seed(w)));
    sum(DIM, seeds)
}

/// The vector `model` answers for `sentence`.
pub fn vector_of(model: &str, sentence: &str) -> Vec<f32> {
    if model != SECOND_MODEL {
        return vector(sentence);
    }
    let words = sentence
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| !STOP_WORDS.contains(&w.as_str()))
        .map(|w| w.chars().take(4).collect::<String>())
        .collect::<Vec<_>>();
    let mut seeds = vec![2u64];
    seeds.extend(words.iter().map(|w| word_seed(w) ^ 0x5bd1_e995));
    sum(SECOND_DIM, seeds)
}

fn sum(dim: usize, seeds: Vec<u64>) -> Vec<f32> {
    let mut v = vec![0f32; dim];
    for seed in seeds {
        let mut s = seed;
        for x in v.iter_mut() {
            s = splitmix(s);
            *x += ((s >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0) as f32;
        }
    }
    v
}

/// The sentences of a request body: `inputs` (HF Inference) or `input` (OpenAI), one or many.
pub(crate) fn sentences(body: &Value) -> Option<(Vec<String>, bool)> {
    let v = body.get("inputs").or_else(|| body.get("input"))?;
    match v {
        Value::String(s) => Some((vec![s.clone()], false)),
        Value::Array(a) => a
            .iter()
            .map(|x| x.as_str().map(str::to_string))
            .collect::<Option<Vec<_>>>()
            .map(|l| (l, true)),
        _ => None,
    }
}

/// Whether `route` (under `/router/{provider}/` or `/direct/{provider}/`) asks for embeddings.
pub(crate) fn is_route(provider: &str, route: &str) -> bool {
    if provider == "hf-inference" {
        return route.starts_with("pipeline/feature-extraction/")
            || (route.starts_with("models/") && route.ends_with("/pipeline/feature-extraction"));
    }
    matches!(provider, "together" | "deepinfra" | "scaleway" | "nebius")
        && route.ends_with("embeddings")
}

/// The model a request names: in the route for HF Inference, in the body otherwise.
fn model_of<'a>(provider: &str, route: &'a str, body: &'a Value) -> &'a str {
    if provider == "hf-inference" {
        return route
            .strip_prefix("pipeline/feature-extraction/")
            .or_else(|| {
                route
                    .strip_prefix("models/")
                    .and_then(|r| r.strip_suffix("/pipeline/feature-extraction"))
            })
            .unwrap_or("");
    }
    body["model"].as_str().unwrap_or("")
}

/// The answer body for the request `body` on `route`, or the provider's complaint.
pub(crate) fn answer(provider: &str, route: &str, body: &Value) -> Result<Value, String> {
    let model = model_of(provider, route, body);
    let (list, many) = sentences(body)
        .ok_or_else(|| "Input should be a valid string or a list of strings".to_string())?;
    if list.is_empty() {
        return Err("inputs must not be empty".into());
    }
    let vectors = list.iter().map(|s| vector_of(model, s)).collect::<Vec<_>>();
    if provider == "hf-inference" {
        return Ok(if many {
            json!(vectors)
        } else {
            json!(vectors[0])
        });
    }
    let tokens: usize = list.iter().map(|s| s.split_whitespace().count() + 2).sum();
    Ok(json!({
        "object": "list",
        "data": vectors.iter().enumerate().map(|(i, e)| json!({"object": "embedding", "index": i, "embedding": e})).collect::<Vec<_>>(),
        "model": body["model"],
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }))
}
