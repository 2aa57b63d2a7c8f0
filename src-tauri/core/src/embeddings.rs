//! Feature extraction (embeddings): each provider's request shape behind [`embed`], and the
//! figures the app shows computed here, in Rust: cosine similarity ([`similarity`]), each
//! vector's size and norm, the sentences most similar to one ([`most_similar`]).
//!
//! | provider | request | answer |
//! |---|---|---|
//! | hf-inference | `POST models/{id}/pipeline/feature-extraction` `{inputs: [..]}` | `[[f32]]` (or `[[[f32]]]` per token: mean-pooled) |
//! | together, deepinfra, scaleway | `POST …/embeddings` `{model, input: [..]}` | `data[].embedding` |

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::error::{AppError, AppResult, ErrorCode};
use crate::hf::{self, error_from_response, read_capped, transport_error};

/// The most sentences in one call.
pub const MAX_SENTENCES: usize = 64;
/// The most an answer may weigh.
pub const MAX_ANSWER_BYTES: usize = 64 << 20;

/// Whether the app can ask `provider` for embeddings.
pub fn supported(provider: &str) -> bool {
    provider == "hf-inference" || openai_route(provider).is_some()
}

/// The OpenAI-style embeddings route of a provider (under its base, or `{router}/{provider}`).
pub fn openai_route(provider: &str) -> Option<&'static str> {
    Some(match provider {
        "together" | "scaleway" => "v1/embeddings",
        "deepinfra" => "v1/openai/embeddings",
        _ => return None,
    })
}

/// Where the call goes and with what credential.
pub struct Target {
    pub provider: String,
    /// Who answers, in words.
    pub who: String,
    /// `{router}/{provider}` when routed, else the provider's own base.
    pub base: String,
    pub model_id: String,
    pub auth: (String, String),
    pub headers: Vec<(String, String)>,
    /// The raw credential, to take out of any error text.
    pub secret: String,
}

/// The URL and body of the request.
pub fn build(t: &Target, sentences: &[String]) -> (String, Value) {
    match openai_route(&t.provider) {
        Some(route) => (
            format!("{}/{route}", t.base),
            json!({"model": t.model_id, "input": sentences}),
        ),
        None => (
            format!(
                "{}/models/{}/pipeline/feature-extraction",
                t.base, t.model_id
            ),
            json!({"inputs": sentences}),
        ),
    }
}

/// What came back: one vector per sentence, the request id, the tokens billed if reported.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub vectors: Vec<Vec<f32>>,
    pub request_id: Option<String>,
    pub tokens: Option<u64>,
}

/// Sends the sentences and reads the vectors. Errors carry the request id when one came back.
pub async fn embed(
    http: &reqwest::Client,
    t: &Target,
    sentences: &[String],
) -> Result<Answer, (AppError, Option<String>)> {
    let (url, body) = build(t, sentences);
    let mut rb = http
        .post(&url)
        .json(&body)
        .header(t.auth.0.as_str(), t.auth.1.as_str());
    for (k, v) in &t.headers {
        rb = rb.header(k.as_str(), v.as_str());
    }
    let resp = rb
        .send()
        .await
        .map_err(|e| (transport_error(&e, &t.who).without_secret(&t.secret), None))?;
    let status = resp.status();
    let headers = resp.headers().clone();
    let rid = crate::images::request_id(&headers);
    let bytes = match read_capped(resp, MAX_ANSWER_BYTES).await {
        Ok(Some(b)) => b,
        Ok(None) => return Err((hf::too_large(&t.who, MAX_ANSWER_BYTES), rid)),
        Err(e) => return Err((transport_error(&e, &t.who), rid)),
    };
    if !status.is_success() {
        let text = String::from_utf8_lossy(&bytes);
        let err = error_from_response(status, &headers, &text, &t.who);
        return Err((err.without_secret(&t.secret), rid));
    }
    read(&t.who, &t.provider, &headers, &bytes, sentences.len())
        .map(|(vectors, tokens)| Answer {
            vectors,
            request_id: rid.clone(),
            tokens,
        })
        .map_err(|e| (e, rid))
}

fn unreadable(who: &str, what: &str) -> AppError {
    AppError::new(
        ErrorCode::ServerError,
        format!("{who} sent an answer Switchboard cannot read ({what})."),
    )
}

fn floats(who: &str, v: &Value) -> AppResult<Vec<f32>> {
    v.as_array()
        .ok_or_else(|| unreadable(who, "no vector"))?
        .iter()
        .map(|x| {
            x.as_f64()
                .filter(|f| f.is_finite())
                .map(|f| f as f32)
                .ok_or_else(|| unreadable(who, "a value is not a number"))
        })
        .collect()
}

/// One sentence's vector from HF Inference: `[f32]`, or `[[f32]]` per token (mean-pooled).
fn pooled(who: &str, v: &Value) -> AppResult<Vec<f32>> {
    let a = v.as_array().ok_or_else(|| unreadable(who, "no vector"))?;
    if a.first().is_some_and(Value::is_array) {
        let tokens = a
            .iter()
            .map(|t| floats(who, t))
            .collect::<AppResult<Vec<_>>>()?;
        let dim = tokens.first().map_or(0, Vec::len);
        if dim == 0 || tokens.iter().any(|t| t.len() != dim) {
            return Err(unreadable(who, "token vectors of different sizes"));
        }
        let n = tokens.len() as f32;
        Ok((0..dim)
            .map(|i| tokens.iter().map(|t| t[i]).sum::<f32>() / n)
            .collect())
    } else {
        floats(who, v)
    }
}

/// The vectors of an answer, checked: one per sentence, all of one size.
pub fn read(
    who: &str,
    provider: &str,
    _headers: &HeaderMap,
    body: &[u8],
    expected: usize,
) -> AppResult<(Vec<Vec<f32>>, Option<u64>)> {
    let v: Value = serde_json::from_slice(body).map_err(|_| unreadable(who, "not JSON"))?;
    let (vectors, tokens) = if openai_route(provider).is_some() {
        let mut data = v["data"]
            .as_array()
            .ok_or_else(|| unreadable(who, "no data"))?
            .clone();
        data.sort_by_key(|d| d["index"].as_u64().unwrap_or(0));
        let vectors = data
            .iter()
            .map(|d| floats(who, &d["embedding"]))
            .collect::<AppResult<Vec<_>>>()?;
        (vectors, v["usage"]["prompt_tokens"].as_u64())
    } else {
        let a = v.as_array().ok_or_else(|| unreadable(who, "no vectors"))?;
        // One sentence may come back as a bare vector.
        let vectors = if expected == 1 && a.first().is_some_and(Value::is_number) {
            vec![floats(who, &v)?]
        } else if expected == 1 && a.len() != 1 {
            vec![pooled(who, &v)?]
        } else {
            a.iter()
                .map(|s| pooled(who, s))
                .collect::<AppResult<Vec<_>>>()?
        };
        (vectors, None)
    };
    if vectors.len() != expected {
        return Err(unreadable(
            who,
            &format!("{} vectors for {expected} sentences", vectors.len()),
        ));
    }
    let dim = vectors.first().map_or(0, Vec::len);
    if dim == 0 || vectors.iter().any(|x| x.len() != dim) {
        return Err(unreadable(who, "vectors of different sizes"));
    }
    Ok((vectors, tokens))
}

/// The Euclidean norm.
pub fn norm(v: &[f32]) -> f64 {
    v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt()
}

/// Cosine similarity; 0 when either vector is zero.
pub fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a
        .iter()
        .zip(b)
        .map(|(x, y)| f64::from(*x) * f64::from(*y))
        .sum();
    let n = norm(a) * norm(b);
    if n == 0.0 {
        0.0
    } else {
        (dot / n).clamp(-1.0, 1.0)
    }
}

/// The cosine similarity of every pair: symmetric, 1 on the diagonal (for non-zero vectors).
pub fn similarity(vectors: &[Vec<f32>]) -> Vec<Vec<f64>> {
    let n = vectors.len();
    let mut m = vec![vec![0.0; n]; n];
    for i in 0..n {
        for j in i..n {
            let c = cosine(&vectors[i], &vectors[j]);
            m[i][j] = c;
            m[j][i] = c;
        }
    }
    m
}

/// The other sentences ranked by their similarity to sentence `i`, most similar first.
pub fn most_similar(matrix: &[Vec<f64>], i: usize) -> Vec<(usize, f64)> {
    let Some(row) = matrix.get(i) else {
        return Vec::new();
    };
    let mut r = row
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(j, v)| (j, *v))
        .collect::<Vec<_>>();
    r.sort_by(|a, b| b.1.total_cmp(&a.1));
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_of_known_vectors() {
        assert!((cosine(&[1.0, 0.0], &[0.0, 2.0])).abs() < 1e-12);
        assert!((cosine(&[1.0, 1.0], &[2.0, 2.0]) - 1.0).abs() < 1e-12);
        assert!((cosine(&[1.0, 0.0], &[-3.0, 0.0]) + 1.0).abs() < 1e-12);
        assert_eq!(cosine(&[0.0, 0.0], &[1.0, 0.0]), 0.0);
        assert!((norm(&[3.0, 4.0]) - 5.0).abs() < 1e-12);
    }

    #[test]
    fn the_matrix_is_symmetric_and_ranks_neighbours() {
        let v = vec![vec![1.0, 0.0], vec![0.9, 0.1], vec![0.0, 1.0]];
        let m = similarity(&v);
        for (i, row) in m.iter().enumerate() {
            assert!((row[i] - 1.0).abs() < 1e-9);
            for (j, x) in row.iter().enumerate() {
                assert_eq!(*x, m[j][i]);
            }
        }
        let ranked = most_similar(&m, 0);
        assert_eq!(ranked.iter().map(|r| r.0).collect::<Vec<_>>(), vec![1, 2]);
    }

    #[test]
    fn hf_inference_shapes_are_read() {
        let h = HeaderMap::new();
        let (v, _) = read("HF", "hf-inference", &h, b"[[1,2],[3,4]]", 2).unwrap();
        assert_eq!(v, vec![vec![1.0, 2.0], vec![3.0, 4.0]]);
        let (v, _) = read("HF", "hf-inference", &h, b"[1,2]", 1).unwrap();
        assert_eq!(v, vec![vec![1.0, 2.0]]);
        // Per-token vectors (the recorded bart-base answer) are mean-pooled.
        let (v, _) = read("HF", "hf-inference", &h, b"[[[1,2],[3,4]]]", 1).unwrap();
        assert_eq!(v, vec![vec![2.0, 3.0]]);
        assert!(read("HF", "hf-inference", &h, b"[[1,2],[3]]", 2).is_err());
        assert!(read("HF", "hf-inference", &h, b"[[1,2]]", 2).is_err());
        let body = br#"{"data":[{"index":1,"embedding":[0,1]},{"index":0,"embedding":[1,0]}],"usage":{"prompt_tokens":7}}"#;
        let (v, t) = read("T", "together", &h, body, 2).unwrap();
        assert_eq!(v, vec![vec![1.0, 0.0], vec![0.0, 1.0]]);
        assert_eq!(t, Some(7));
    }
}
