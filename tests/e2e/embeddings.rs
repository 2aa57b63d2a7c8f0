//! Embeddings on the real app: five sentences through the router to HF Inference, the heat map's
//! values equal to the cosine of the vectors the double returned, "most similar to…", a CSV
//! export through the (test-answered) save dialog, and the run shown again after a restart.

use hf_double::{embeddings::vector, tokens, Target};

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::sign_in;

const FIVE: [&str; 5] = [
    "The cat sits on the mat.",
    "A cat is sitting on a mat.",
    "Stock markets fell sharply today.",
    "The weather is sunny and warm.",
    "Markets fell as stocks dropped.",
];

fn cosine(a: &[f32], b: &[f32]) -> f64 {
    let dot: f64 = a.iter().zip(b).map(|(x, y)| *x as f64 * *y as f64).sum();
    let n = |v: &[f32]| v.iter().map(|x| (*x as f64).powi(2)).sum::<f64>().sqrt();
    dot / (n(a) * n(b))
}

/// Every cell of the shown heat map holds the cosine of the double's vectors, value and text.
async fn check_heat_map(app: &App) {
    app.wait_for("[data-testid=cell-4-4]").await;
    let cells = app.js("return [...document.querySelectorAll('[data-testid^=cell-]')].map(c => [c.dataset.testid, Number(c.dataset.value), c.textContent.trim(), c.title]);",
    )
    .await;
    let cells = cells.as_array().unwrap();
    assert_eq!(cells.len(), 25);
    let vectors = FIVE.iter().map(|s| vector(s)).collect::<Vec<_>>();
    for c in cells {
        let id = c[0].as_str().unwrap();
        let mut ij = id
            .trim_start_matches("cell-")
            .split('-')
            .map(|x| x.parse::<usize>().unwrap());
        let (i, j) = (ij.next().unwrap(), ij.next().unwrap());
        let expected = cosine(&vectors[i], &vectors[j]);
        let shown = c[1].as_f64().unwrap();
        assert!(
            (shown - expected).abs() < 1e-9,
            "{id}: {shown} vs {expected}"
        );
        assert_eq!(
            c[2].as_str().unwrap(),
            format!("{expected:.3}"),
            "{id} text"
        );
        // Hover names the two sentences.
        assert!(c[3].as_str().unwrap().contains(FIVE[i]), "{id} title");
    }
}

async fn open_embeddings(app: &App) {
    app.click("[data-testid=task-embeddings]").await;
    app.wait_for("[data-testid=embed-sentences]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_sentences_give_the_doubles_similarities_and_come_back_after_a_restart() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let export = std::env::temp_dir().join(format!("sb-e2e-embeddings-{}.csv", std::process::id()));
        let _ = std::fs::remove_file(&export);
        let export_s = export.display().to_string();
        let (double, desktop, driver) =
            rig_with(1280, 860, true, &[("SWITCHBOARD_E2E_DIALOG_FILE", export_s.as_str())]).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        open_embeddings(&app).await;
        app.wait_for_text("[data-testid=embed-route]", "Through Hugging Face").await;
        desktop.screenshot("embeddings-empty-light");

        let text = FIVE.join("\n");
        let script = format!(
            "const t = document.querySelector('[data-testid=embed-sentences]'); t.value = {v}; t.dispatchEvent(new Event('input', {{bubbles: true}})); return t.value;",
            v = serde_json::to_string(&text).unwrap()
        );
        assert_eq!(app.js(&script).await, serde_json::json!(text));
        double.clear_requests();
        app.click("[data-testid=embed-run]:not([disabled])").await;
        check_heat_map(&app).await;

        // Sent once, through the router to HF Inference, with the user's token.
        let sent = double
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.target == Target::Router)
            .collect::<Vec<_>>();
        assert_eq!(sent.len(), 1);
        assert!(sent[0].path.contains("/hf-inference/models/") && sent[0].path.ends_with("/pipeline/feature-extraction"));
        assert_eq!(sent[0].credential(), Some(tokens::PRO_TOKEN));
        assert_eq!(sent[0].json().unwrap()["inputs"], serde_json::json!(FIVE));

        // The figures: 768 numbers per vector, the cost unknown (never $0).
        app.wait_for_text("[data-testid=embed-dim]", "768").await;
        app.wait_for_text("[data-testid=embed-cost]", "cost unknown").await;
        // Most similar to the first sentence: the other cat sentence.
        let first = app.wait_for("[data-testid=nearest-list] li").await;
        let t = first.text().await.unwrap();
        assert!(t.contains(FIVE[1]), "{t}");
        desktop.screenshot("embeddings-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("embeddings-dark");
        app.click("[data-testid=theme-light]").await;

        // Export as CSV: the matrix with the sentences, written where the dialog said.
        app.click("[data-testid=embed-export-csv]").await;
        app.wait_for_text("[role=status]", "Saved to").await;
        let csv = std::fs::read_to_string(&export).expect("CSV written");
        assert!(csv.starts_with("\"sentence\",\"norm\",\"The cat sits on the mat.\""), "{csv}");
        assert_eq!(csv.lines().count(), 6);
        let _ = std::fs::remove_file(&export);
        app.quit().await;

        // Restart: the run is kept and shown again, without asking anyone.
        double.clear_requests();
        let app = driver.launch().await;
        app.click("[data-testid=nav-playground]").await;
        open_embeddings(&app).await;
        check_heat_map(&app).await;
        app.wait_for_text("[data-testid=embed-kept]", "5 sentences").await;
        assert!(double
            .requests()
            .iter()
            .all(|r| !r.path.contains("feature-extraction")));
        app.quit().await;
    })
    .await;
}

/// The `[testid, value, text]` of every element whose test id starts with `prefix-`.
async fn cells(app: &App, prefix: &str) -> Vec<(usize, usize, f64, String)> {
    let script = format!(
        "return [...document.querySelectorAll('[data-testid^={prefix}-]')].map(c => [c.dataset.testid, Number(c.dataset.value), c.textContent.trim()]);"
    );
    app.js(&script)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            let id = c[0].as_str().unwrap();
            let mut ij = id
                .trim_start_matches(&format!("{prefix}-"))
                .split('-')
                .map(|x| x.parse::<usize>().unwrap());
            (
                ij.next().unwrap(),
                ij.next().unwrap(),
                c[1].as_f64().unwrap(),
                c[2].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_models_side_by_side_show_the_differences_of_the_doubles_vectors() {
    use hf_double::embeddings::{vector_of, SECOND_MODEL};
    const MODEL: &str = "sentence-transformers/all-MiniLM-L6-v2";
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig_with(1280, 860, true, &[]).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        open_embeddings(&app).await;
        app.click("[data-testid=embed-compare-toggle]").await;
        app.wait_for("[data-testid=embed-model-2]").await;
        let script = format!(
            "const t = document.querySelector('[data-testid=embed-sentences]'); t.value = {v}; t.dispatchEvent(new Event('input', {{bubbles: true}}));
             const m = document.querySelector('[data-testid=embed-model-2]'); m.value = {m}; m.dispatchEvent(new Event('input', {{bubbles: true}})); m.dispatchEvent(new Event('change', {{bubbles: true}}));
             return [t.value, m.value];",
            v = serde_json::to_string(&FIVE.join("\n")).unwrap(),
            m = serde_json::to_string(SECOND_MODEL).unwrap(),
        );
        app.js(&script).await;
        app.wait_for_text("[data-testid=embed-route-2]", "Through Hugging Face").await;
        double.clear_requests();
        app.click("[data-testid=embed-run]:not([disabled])").await;
        app.wait_for("[data-testid=diff-4-4]").await;

        // Both models asked, once each, through the router.
        let posts = double
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.path.contains("feature-extraction"))
            .map(|r| r.path)
            .collect::<Vec<_>>();
        assert_eq!(posts.len(), 2, "{posts:?}");
        for m in [MODEL, SECOND_MODEL] {
            assert!(posts.iter().any(|p| p.contains(&format!("/models/{m}/"))), "{m}: {posts:?}");
        }

        // Each heat map holds its model's cosines; each difference cell is B − A from the vectors.
        let va = FIVE.iter().map(|s| vector_of(MODEL, s)).collect::<Vec<_>>();
        let vb = FIVE.iter().map(|s| vector_of(SECOND_MODEL, s)).collect::<Vec<_>>();
        for (prefix, v) in [("cella", &va), ("cellb", &vb)] {
            let shown = cells(&app, prefix).await;
            assert_eq!(shown.len(), 25, "{prefix}");
            for (i, j, value, text) in shown {
                let expected = cosine(&v[i], &v[j]);
                assert!((value - expected).abs() < 1e-9, "{prefix}-{i}-{j}");
                assert_eq!(text, format!("{expected:.3}"), "{prefix}-{i}-{j} text");
            }
        }
        let diffs = cells(&app, "diff").await;
        assert_eq!(diffs.len(), 25);
        let mut differ = 0;
        for (i, j, value, text) in diffs {
            let expected = cosine(&vb[i], &vb[j]) - cosine(&va[i], &va[j]);
            assert!((value - expected).abs() < 1e-9, "diff-{i}-{j}: {value} vs {expected}");
            let s = format!("{expected:.3}");
            let s = if s == "-0.000" { "0.000".to_string() } else if expected > 0.0 && s != "0.000" { format!("+{s}") } else { s };
            assert_eq!(text, s, "diff-{i}-{j} text");
            if expected.abs() > 0.01 {
                differ += 1;
            }
        }
        assert!(differ > 0, "the two models should disagree somewhere");
        // Where the order is swapped, said in words, and the swapped pairs listed first.
        app.wait_for_text("[data-testid=embed-flips]", "the other way").await;
        let first = app.wait_for("[data-testid=embed-pairs] tbody tr").await;
        assert!(first.attr("class").await.unwrap().unwrap_or_default().contains("flipped"));
        app.wait_for_text("[data-testid=embed-spearman]", "Spearman").await;

        // Both themes: the maps, then scrolled to where they disagree.
        for theme in ["light", "dark"] {
            app.click(&format!("[data-testid=theme-{theme}]")).await;
            app.js("document.querySelector('[data-testid=embed-compare]').scrollIntoView({block: 'start'}); return 0;").await;
            app.settle().await;
            desktop.screenshot(&format!("embeddings-compare-{theme}"));
            app.js("document.querySelector('[data-testid=embed-disagree]').scrollIntoView({block: 'start'}); return 0;").await;
            app.settle().await;
            desktop.screenshot(&format!("embeddings-compare-disagree-{theme}"));
        }
        app.click("[data-testid=theme-light]").await;

        // Both runs are kept, each as a run of its own.
        app.wait_for_text("[data-testid=embed-kept]", SECOND_MODEL).await;
        app.wait_for_text("[data-testid=embed-kept]", MODEL).await;
        let before = cells(&app, "diff").await;

        // One kept run shown alone, then compared again with the other (the same sentences),
        // without asking anyone.
        double.clear_requests();
        app.click("[data-testid=embed-kept] li:nth-child(2) button.link").await;
        app.wait_for("[data-testid=cell-4-4]").await;
        assert!(cells(&app, "diff").await.is_empty());
        app.click("[data-testid=embed-kept] li:nth-child(1) button.vs").await;
        app.wait_for("[data-testid=diff-4-4]").await;
        assert_eq!(cells(&app, "diff").await, before);
        assert!(double
            .requests()
            .iter()
            .all(|r| !r.path.contains("feature-extraction")));
        app.quit().await;
    })
    .await;
}
