//! Feature extraction (embeddings): each provider's request shape behind [`embed`], and the
//! figures the app shows computed here, in Rust: cosine similarity ([`similarity`]), each
//! vector's size and norm, the sentences most similar to one ([`most_similar`]).
//!
//! | provider | request | answer |
//! |---|---|---|
//! | hf-inference | `POST models/{id}/pipeline/feature-extraction` `{inputs: [..]}` | `[[f32]]` (or `[[[f32]]]` per token: mean-pooled) |
//! | together, deepinfra, scaleway | `POST …/embeddings` `{model, input: [..]}` | `data[].embedding` |

use reqwest::header::HeaderMap;
use serde::Serialize;
use serde_json::{json, Value};
use ts_rs::TS;

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

/// One pair of sentences `(i, j)`, `i < j`, as two models see it.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbeddingPairCompare {
    pub i: u32,
    pub j: u32,
    /// The first model's cosine similarity.
    pub first: f64,
    /// The second model's.
    pub second: f64,
    /// `second - first`.
    pub diff: f64,
    /// Where the first model ranks this pair among all pairs, 1 = most similar (ties share
    /// their mean rank).
    pub first_rank: f64,
    pub second_rank: f64,
    /// How many other pairs the two models put in the opposite order relative to this one.
    pub flips: u32,
}

/// Two pairs the models order differently: the first model ranks `above` over `below`, the
/// second the other way.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbeddingPairFlip {
    /// `(i, j)` of the pair the first model finds more similar.
    pub above: (u32, u32),
    /// `(i, j)` of the pair the second model finds more similar.
    pub below: (u32, u32),
}

/// How two models' similarity matrices over the same sentences disagree.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct EmbeddingComparison {
    /// `second[i][j] - first[i][j]` for every cell (0 on the diagonal).
    pub diff: Vec<Vec<f64>>,
    /// Spearman's rank correlation of the two lists of pair similarities; `null` with fewer
    /// than two pairs or when one list is constant.
    pub spearman: Option<f64>,
    /// Every pair, those whose order the models disagree on first (most flips first), then by
    /// the size of the difference.
    pub pairs: Vec<EmbeddingPairCompare>,
    /// The pairs of pairs ordered differently, the widest disagreements first, at most
    /// [`MAX_FLIPS`].
    pub flips: Vec<EmbeddingPairFlip>,
    /// How many pairs of pairs are ordered differently in all.
    pub flips_total: u32,
}

/// The most flips a [`EmbeddingComparison`] lists.
pub const MAX_FLIPS: usize = 20;

/// Mean ranks, 1 = largest value; ties share the mean of the ranks they span.
pub fn ranks_desc(values: &[f64]) -> Vec<f64> {
    let mut order = (0..values.len()).collect::<Vec<_>>();
    order.sort_by(|a, b| values[*b].total_cmp(&values[*a]));
    let mut ranks = vec![0.0; values.len()];
    let mut k = 0;
    while k < order.len() {
        let mut e = k;
        while e + 1 < order.len() && values[order[e + 1]] == values[order[k]] {
            e += 1;
        }
        // Positions k..=e (0-based) share the rank (k+1 + e+1) / 2.
        let r = (k + e) as f64 / 2.0 + 1.0;
        for &o in &order[k..=e] {
            ranks[o] = r;
        }
        k = e + 1;
    }
    ranks
}

/// Pearson's correlation; `None` with fewer than two values or a constant list.
fn pearson(x: &[f64], y: &[f64]) -> Option<f64> {
    let n = x.len();
    if n < 2 || n != y.len() {
        return None;
    }
    let mx = x.iter().sum::<f64>() / n as f64;
    let my = y.iter().sum::<f64>() / n as f64;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (a, b) in x.iter().zip(y) {
        sxy += (a - mx) * (b - my);
        sxx += (a - mx).powi(2);
        syy += (b - my).powi(2);
    }
    if sxx == 0.0 || syy == 0.0 {
        return None;
    }
    Some((sxy / (sxx * syy).sqrt()).clamp(-1.0, 1.0))
}

/// Spearman's rank correlation (Pearson's on mean ranks, so ties are handled).
pub fn spearman(x: &[f64], y: &[f64]) -> Option<f64> {
    pearson(&ranks_desc(x), &ranks_desc(y))
}

/// Compares two similarity matrices of the same sentences. `None` when their sizes differ.
pub fn compare(first: &[Vec<f64>], second: &[Vec<f64>]) -> Option<EmbeddingComparison> {
    let n = first.len();
    if second.len() != n || first.iter().chain(second).any(|r| r.len() != n) {
        return None;
    }
    let diff = (0..n)
        .map(|i| (0..n).map(|j| second[i][j] - first[i][j]).collect())
        .collect::<Vec<Vec<f64>>>();
    let idx = (0..n)
        .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
        .collect::<Vec<_>>();
    let a = idx.iter().map(|&(i, j)| first[i][j]).collect::<Vec<_>>();
    let b = idx.iter().map(|&(i, j)| second[i][j]).collect::<Vec<_>>();
    let (ra, rb) = (ranks_desc(&a), ranks_desc(&b));
    let mut flips = Vec::new();
    let mut count = vec![0u32; idx.len()];
    for p in 0..idx.len() {
        for q in p + 1..idx.len() {
            let (da, db) = (a[p] - a[q], b[p] - b[q]);
            if da * db < 0.0 {
                count[p] += 1;
                count[q] += 1;
                let (above, below) = if da > 0.0 { (p, q) } else { (q, p) };
                flips.push((da.abs() + db.abs(), above, below));
            }
        }
    }
    flips.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let pair = |k: usize| (idx[k].0 as u32, idx[k].1 as u32);
    let flips_total = flips.len() as u32;
    let flips = flips
        .into_iter()
        .take(MAX_FLIPS)
        .map(|(_, above, below)| EmbeddingPairFlip {
            above: pair(above),
            below: pair(below),
        })
        .collect();
    let mut pairs = idx
        .iter()
        .enumerate()
        .map(|(k, &(i, j))| EmbeddingPairCompare {
            i: i as u32,
            j: j as u32,
            first: a[k],
            second: b[k],
            diff: b[k] - a[k],
            first_rank: ra[k],
            second_rank: rb[k],
            flips: count[k],
        })
        .collect::<Vec<_>>();
    pairs.sort_by(|x, y| {
        y.flips
            .cmp(&x.flips)
            .then(y.diff.abs().total_cmp(&x.diff.abs()))
            .then((x.i, x.j).cmp(&(y.i, y.j)))
    });
    Some(EmbeddingComparison {
        diff,
        spearman: spearman(&a, &b),
        pairs,
        flips,
        flips_total,
    })
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

    #[test]
    fn ranks_share_ties_and_spearman_is_hand_computed() {
        assert_eq!(ranks_desc(&[0.1, 0.9, 0.5, 0.5]), vec![4.0, 1.0, 2.5, 2.5]);
        // Same order: 1; reversed: -1.
        assert!((spearman(&[1.0, 2.0, 3.0], &[10.0, 20.0, 30.0]).unwrap() - 1.0).abs() < 1e-12);
        assert!((spearman(&[1.0, 2.0, 3.0], &[3.0, 2.0, 1.0]).unwrap() + 1.0).abs() < 1e-12);
        // Ranks (1,2,3,4) vs (2,1,3,4): d² = 1+1 → 1 - 6·2/(4·15) = 0.8.
        assert!(
            (spearman(&[4.0, 3.0, 2.0, 1.0], &[3.0, 4.0, 2.0, 1.0]).unwrap() - 0.8).abs() < 1e-12
        );
        assert_eq!(spearman(&[1.0, 1.0], &[1.0, 2.0]), None);
        assert_eq!(spearman(&[1.0], &[1.0]), None);
    }

    #[test]
    fn compare_gives_differences_ranks_and_flips_first() {
        // Three sentences, pairs (0,1) (0,2) (1,2).
        let a = vec![
            vec![1.0, 0.9, 0.2],
            vec![0.9, 1.0, 0.5],
            vec![0.2, 0.5, 1.0],
        ];
        let b = vec![
            vec![1.0, 0.8, 0.6],
            vec![0.8, 1.0, 0.4],
            vec![0.6, 0.4, 1.0],
        ];
        let c = compare(&a, &b).unwrap();
        assert!((c.diff[0][2] - 0.4).abs() < 1e-12);
        assert!((c.diff[2][0] - 0.4).abs() < 1e-12);
        assert!((c.diff[1][2] + 0.1).abs() < 1e-12);
        assert_eq!(c.diff[1][1], 0.0);
        // A ranks (0,1)=1 (1,2)=2 (0,2)=3; B ranks (0,1)=1 (0,2)=2 (1,2)=3: d² = 0+1+1,
        // rho = 1 - 6·2/(3·8) = 0.5.
        assert!((c.spearman.unwrap() - 0.5).abs() < 1e-12);
        // One flip: A puts (1,2) above (0,2), B the other way.
        assert_eq!(c.flips_total, 1);
        assert_eq!(
            c.flips,
            vec![EmbeddingPairFlip {
                above: (1, 2),
                below: (0, 2)
            }]
        );
        // The flipped pairs first, the larger difference first among them.
        let order = c.pairs.iter().map(|p| (p.i, p.j)).collect::<Vec<_>>();
        assert_eq!(order, vec![(0, 2), (1, 2), (0, 1)]);
        let p02 = &c.pairs[0];
        assert_eq!((p02.first_rank, p02.second_rank, p02.flips), (3.0, 2.0, 1));
        assert!((p02.first - 0.2).abs() < 1e-12 && (p02.second - 0.6).abs() < 1e-12);
        assert_eq!(c.pairs[2].flips, 0);
        // Same matrix: no difference, full agreement.
        let same = compare(&a, &a).unwrap();
        assert_eq!(same.flips_total, 0);
        assert!((same.spearman.unwrap() - 1.0).abs() < 1e-12);
        // Different sizes cannot be compared.
        assert!(compare(&a, &b[..2]).is_none());
    }
}
