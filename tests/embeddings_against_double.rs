//! Embeddings end to end against the HF test double: five sentences through the router to HF
//! Inference, the similarity matrix checked against the vectors the double returned, the call
//! in the ledger, the run in the history after a restart and through export/import; the
//! provider's own key straight to Together; faults said plainly and still in the ledger.

mod support;

use std::sync::Arc;

use hf_double::{tokens, Fault, Scope};
use support::{pinned, services_on_double, OnDouble};
use switchboard_core::call::{Billing, CallMode, Routing};
use switchboard_core::config::Config;
use switchboard_core::error::ErrorCode;
use switchboard_core::history::ledger::{CallKind, CallQuery};
use switchboard_core::providers::{provider_key_entry, ProviderMode};
use switchboard_core::secrets::{MemoryBackend, Secret, Secrets, Storage};
use switchboard_core::service::embeddings::{EmbedRequest, EmbeddingView};
use switchboard_core::service::Services;

const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";

const FIVE: [&str; 5] = [
    "The cat sits on the mat.",
    "A cat is sitting on a mat.",
    "Stock markets fell sharply today.",
    "The weather is sunny and warm.",
    "Markets fell as stocks dropped.",
];

fn request(routing: Routing) -> EmbedRequest {
    EmbedRequest {
        model: MODEL.into(),
        routing,
        bill_to: None,
        sentences: FIVE.iter().map(|s| s.to_string()).collect(),
    }
}

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let n = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

/// The matrix shown is the cosine of the vectors the double returned, computed independently.
fn check_matches_double(v: &EmbeddingView) {
    let expected = FIVE
        .iter()
        .map(|s| hf_double::embeddings::vector(s))
        .collect::<Vec<_>>();
    assert_eq!(v.record.vectors, expected);
    assert_eq!(v.dim as usize, hf_double::embeddings::DIM);
    for i in 0..5 {
        let norm = expected[i]
            .iter()
            .map(|x| (*x as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        assert!((v.norms[i] - norm).abs() < 1e-6, "norm {i}");
        for j in 0..5 {
            let c = cosine(&expected[i], &expected[j]);
            assert!(
                (v.matrix[i][j] - c).abs() < 1e-9,
                "[{i}][{j}] {} vs {c}",
                v.matrix[i][j]
            );
        }
    }
}

fn restart(
    double: &hf_double::HfDouble,
    store: Arc<switchboard_core::settings::MemoryStore>,
    dir: &std::path::Path,
) -> Services {
    let config = Config {
        endpoints: support::endpoints(double),
        data_dir: dir.join("data"),
        chat_timeout_secs: Some(20),
    };
    let secrets = Arc::new(Secrets::new(Box::<MemoryBackend>::default()));
    Services::new(config, store, secrets, dir.to_path_buf()).unwrap()
}

#[tokio::test]
async fn five_sentences_through_the_router_give_the_doubles_similarities_and_survive_a_restart() {
    let f = services_on_double(tokens::FREE_TOKEN).await;
    let v = f
        .services
        .embed(request(pinned("hf-inference")))
        .await
        .unwrap();
    check_matches_double(&v);
    // Sentences sharing words are the nearest: the cat with the cat, the markets with the markets.
    assert_eq!(v.ranked[0][0], 1);
    assert_eq!(v.ranked[2][0], 4);
    assert_eq!(v.record.mode, CallMode::Routed);
    assert_eq!(v.record.billing, Billing::HfCredits);
    // HF Inference's route and shape, with the HF token.
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").expect("a request");
    assert_eq!(
        post.path,
        format!("/router/hf-inference/models/{MODEL}/pipeline/feature-extraction")
    );
    assert_eq!(post.json().unwrap()["inputs"].as_array().unwrap().len(), 5);
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {}", tokens::FREE_TOKEN).as_str())
    );
    // In the ledger with its task; no price is known, so the cost is unknown, not $0.
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let row = rows
        .iter()
        .find(|r| r.kind == CallKind::Embeddings)
        .expect("ledger row");
    assert_eq!(row.cost, None);
    assert_eq!(row.status, "complete");
    assert!(row.request_id.is_some());
    assert_eq!(row.request_id, v.record.request_id);
    drop(h);

    // A full backup, taken before the restart.
    let backup = f.services.history_export_all_text().unwrap();

    let OnDouble {
        double,
        services,
        store,
        dir,
    } = f;
    drop(services);
    let services = restart(&double, store, dir.path());
    let kept = services.embeddings_list(10).await.unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(
        kept[0].record.sentences,
        FIVE.iter().map(|s| s.to_string()).collect::<Vec<_>>()
    );
    check_matches_double(&kept[0]);

    // Imported into a fresh data folder, the run comes back, once.
    let fresh = tempfile::tempdir().unwrap();
    let other = restart(&double, Arc::default(), fresh.path());
    let file = fresh.path().join("backup.json");
    std::fs::write(&file, backup).unwrap();
    let report = other.history_import_file(&file).await.unwrap();
    assert_eq!(report.embeddings, 1);
    let again = other.history_import_file(&file).await.unwrap();
    assert_eq!(again.embeddings, 0);
    let back = other.embeddings_list(10).await.unwrap();
    assert_eq!(back.len(), 1);
    check_matches_double(&back[0]);
}

#[tokio::test]
async fn an_own_key_goes_straight_to_together_and_never_carries_the_hf_token() {
    let f = services_on_double(tokens::FREE_TOKEN).await;
    f.services
        .provider_set("together".into(), true, ProviderMode::OwnKey)
        .await
        .unwrap();
    let err = f
        .services
        .embed(request(pinned("together")))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ProviderKeyMissing);
    f.services
        .secrets
        .set(
            &provider_key_entry("together"),
            &Secret::new(tokens::PROVIDER_KEY.into()),
            Storage::Keyring,
        )
        .unwrap();
    let v = f.services.embed(request(pinned("together"))).await.unwrap();
    check_matches_double(&v);
    assert_eq!(v.record.mode, CallMode::OwnKey);
    assert_eq!(v.record.billing, Billing::Provider);
    assert!(v.record.tokens.is_some_and(|t| t > 0));
    let reqs = f.double.requests();
    let post = reqs.iter().find(|r| r.method == "POST").unwrap();
    assert_eq!(post.path, "/direct/together/v1/embeddings");
    assert_eq!(
        post.header("authorization"),
        Some(format!("Bearer {}", tokens::PROVIDER_KEY).as_str())
    );
    assert!(!post.body.contains(tokens::FREE_TOKEN));
    assert_eq!(post.json().unwrap()["model"], MODEL);
}

#[tokio::test]
async fn failures_are_said_plainly_kept_in_the_ledger_and_not_in_the_history() {
    let f = services_on_double(tokens::FREE_TOKEN).await;
    f.double
        .push_fault(Fault::server_error(500).scope(Scope::Embeddings).once());
    let err = f
        .services
        .embed(request(pinned("hf-inference")))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ServerError);
    assert!(!err.message.contains(tokens::FREE_TOKEN));
    // Nothing to send: said before any request.
    let mut empty = request(pinned("hf-inference"));
    empty.sentences = vec!["  ".into(), String::new()];
    let err = f.services.embed(empty).await.unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
    // A provider that serves no embeddings here.
    let err = f
        .services
        .embed(request(pinned("fal-ai")))
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::ModelUnavailable);
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    let failed = rows
        .iter()
        .filter(|r| r.kind == CallKind::Embeddings)
        .collect::<Vec<_>>();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].status, "error");
    assert_eq!(failed[0].error_code, Some(ErrorCode::ServerError));
    assert!(failed[0].request_id.is_some());
    drop(h);
    assert!(f.services.embeddings_list(10).await.unwrap().is_empty());
    // The next call (the fault was once) works.
    let v = f
        .services
        .embed(request(pinned("hf-inference")))
        .await
        .unwrap();
    check_matches_double(&v);
}

/// Spearman's rho of two lists without ties, by the textbook formula `1 - 6·Σd² / (n(n²-1))`.
fn spearman_by_hand(a: &[f64], b: &[f64]) -> f64 {
    let rank = |v: &[f64]| {
        let mut order = (0..v.len()).collect::<Vec<_>>();
        order.sort_by(|x, y| v[*y].total_cmp(&v[*x]));
        let mut r = vec![0.0; v.len()];
        for (k, o) in order.into_iter().enumerate() {
            r[o] = (k + 1) as f64;
        }
        r
    };
    let (ra, rb) = (rank(a), rank(b));
    let n = a.len() as f64;
    let d2: f64 = ra.iter().zip(&rb).map(|(x, y)| (x - y).powi(2)).sum();
    1.0 - 6.0 * d2 / (n * (n * n - 1.0))
}

#[tokio::test]
async fn two_models_at_once_are_each_kept_and_compared_as_their_vectors_say() {
    use hf_double::embeddings::{vector_of, SECOND_DIM, SECOND_MODEL};
    use switchboard_core::service::embeddings::{EmbedCompareArgs, EmbedPairRequest};

    let f = services_on_double(tokens::FREE_TOKEN).await;
    let mut second = request(pinned("hf-inference"));
    second.model = SECOND_MODEL.into();
    // The second request's own sentences are ignored: both models get the first's.
    second.sentences = vec!["ignored".into()];
    let pair = f
        .services
        .embed_pair(EmbedPairRequest {
            first: request(pinned("hf-inference")),
            second,
        })
        .await;
    assert!(pair.first_error.is_none() && pair.second_error.is_none());
    let (a, b) = (pair.first.unwrap(), pair.second.unwrap());
    check_matches_double(&a);
    assert_eq!(b.record.model, SECOND_MODEL);
    assert_eq!(b.dim as usize, SECOND_DIM);
    let va = FIVE.iter().map(|s| vector_of(MODEL, s)).collect::<Vec<_>>();
    let vb = FIVE
        .iter()
        .map(|s| vector_of(SECOND_MODEL, s))
        .collect::<Vec<_>>();
    assert_eq!(b.record.vectors, vb);

    // Both went out, each to its model's route.
    let posts = f
        .double
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST")
        .map(|r| r.path)
        .collect::<Vec<_>>();
    assert_eq!(posts.len(), 2);
    assert!(posts.contains(&format!(
        "/router/hf-inference/models/{SECOND_MODEL}/pipeline/feature-extraction"
    )));

    // The comparison, from the vectors alone.
    let c = pair.comparison.expect("both answered");
    let pairs = (0..5)
        .flat_map(|i| (i + 1..5).map(move |j| (i, j)))
        .collect::<Vec<_>>();
    let sa = pairs
        .iter()
        .map(|&(i, j)| cosine(&va[i], &va[j]))
        .collect::<Vec<_>>();
    let sb = pairs
        .iter()
        .map(|&(i, j)| cosine(&vb[i], &vb[j]))
        .collect::<Vec<_>>();
    for i in 0..5 {
        for j in 0..5 {
            let d = cosine(&vb[i], &vb[j]) - cosine(&va[i], &va[j]);
            assert!((c.diff[i][j] - d).abs() < 1e-9, "diff[{i}][{j}]");
        }
    }
    assert!((c.spearman.unwrap() - spearman_by_hand(&sa, &sb)).abs() < 1e-9);
    // Every flip is a pair of pairs the two models order the other way, and all are counted.
    let at = |p: (u32, u32)| {
        pairs
            .iter()
            .position(|&q| q == (p.0 as usize, p.1 as usize))
            .unwrap()
    };
    let mut discordant = 0;
    for p in 0..pairs.len() {
        for q in p + 1..pairs.len() {
            if (sa[p] - sa[q]) * (sb[p] - sb[q]) < 0.0 {
                discordant += 1;
            }
        }
    }
    assert!(discordant > 0, "the second model must disagree somewhere");
    assert_eq!(c.flips_total, discordant);
    for fl in &c.flips {
        let (p, q) = (at(fl.above), at(fl.below));
        assert!(sa[p] > sa[q] && sb[p] < sb[q], "{fl:?}");
    }
    // The pairs with flips come first.
    let first_calm = c
        .pairs
        .iter()
        .position(|p| p.flips == 0)
        .unwrap_or(c.pairs.len());
    assert!(c.pairs[first_calm..].iter().all(|p| p.flips == 0));
    assert!(c.pairs[0].flips > 0);

    // Each is a run of its own, kept; the two kept runs compare the same way again.
    let kept = f.services.embeddings_list(10).await.unwrap();
    assert_eq!(kept.len(), 2);
    let again = f
        .services
        .embedding_compare(EmbedCompareArgs {
            first: a.record.id.clone(),
            second: b.record.id.clone(),
        })
        .await
        .unwrap();
    assert_eq!(again, c);
    let h = f.services.history.wait().await.unwrap();
    let rows = h.calls(&CallQuery::default()).unwrap().rows;
    assert_eq!(
        rows.iter()
            .filter(|r| r.kind == CallKind::Embeddings)
            .count(),
        2
    );
    drop(h);

    // Runs of other sentences are not compared.
    let mut other = request(pinned("hf-inference"));
    other.sentences.pop();
    let third = f.services.embed(other).await.unwrap();
    let err = f
        .services
        .embedding_compare(EmbedCompareArgs {
            first: a.record.id,
            second: third.record.id,
        })
        .await
        .unwrap_err();
    assert_eq!(err.code, ErrorCode::InvalidRequest);
}
