//! Compare on the real app: one prompt to three panes (one slow, one failing) completes
//! independently with the right figures; the "all live providers" preset fills the panes from the
//! catalog; the session reopens from the history after a restart.

use hf_double::{tokens, Fault, Scope};

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::{choose, sign_in, MODEL};

fn pane(i: usize) -> String {
    format!("[data-testid=compare-pane][data-index=\"{i}\"]")
}

async fn wait_pane(app: &App, i: usize, status: &str) {
    app.wait_for(&format!("{}[data-status={status}]", pane(i)))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_panes_stream_independently_and_the_session_reopens() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        // Billed costs are asked for every second, not every minute, so the session's bill
        // covers both answers however the panes' ends fall.
        let (double, desktop, driver) =
            rig_with(1280, 800, true, &[("SWITCHBOARD_E2E_RECONCILE_MS", "1000")]).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        choose(&app, MODEL, None).await;

        // The preset fills one pane per live provider, fastest first (from the catalog).
        app.click("[data-testid=nav-compare]").await;
        app.click("[data-testid=preset-all-providers]:not([disabled])")
            .await;
        let live: Vec<String> = {
            let mut offers: Vec<_> = double
                .catalog()
                .get(MODEL)
                .unwrap()
                .providers
                .iter()
                .filter(|p| p.status == "live")
                .map(|p| p.provider.clone())
                .collect();
            offers.sort();
            offers
        };
        app.wait_for(&pane(3)).await;
        let count = app
            .client
            .execute(
                "return document.querySelectorAll('[data-testid=compare-pane]').length",
                vec![],
            )
            .await
            .unwrap()
            .as_u64()
            .unwrap() as usize;
        // As many panes as fit (4 at this width), each a different live provider.
        assert_eq!(count, live.len().min(4), "{live:?}");
        let mut shown = Vec::new();
        for i in 0..count {
            let label = app
                .text(&format!("{} [data-testid=provider-picker]", pane(i)))
                .await;
            shown.push(label.trim().trim_end_matches('▾').trim().to_string());
        }
        let mut distinct = shown.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), count, "{shown:?}");
        assert!(
            shown.iter().all(|p| live.contains(p)),
            "{shown:?} vs {live:?}"
        );

        // Keep three panes.
        while app.exists(&pane(3)).await {
            app.click(&format!("{} [data-testid=pane-remove]", pane(3)))
                .await;
        }
        let providers: Vec<String> = shown[..3].to_vec();

        // Pane 0 streams slowly, pane 1 fails, pane 2 answers normally.
        double.push_fault(
            Fault::slow_stream(300)
                .scope(Scope::Chat)
                .for_provider(providers[0].clone())
                .once(),
        );
        double.push_fault(
            Fault::unprocessable()
                .scope(Scope::Chat)
                .for_provider(providers[1].clone())
                .once(),
        );
        app.type_into("[data-testid=compare-composer]", "Compare this please")
            .await;
        let estimate = app.text("[data-testid=compare-estimate]").await;
        assert!(
            estimate.contains('$'),
            "estimated cost shown before sending: {estimate}"
        );
        app.click("[data-testid=compare-send]").await;

        wait_pane(&app, 2, "complete").await;
        wait_pane(&app, 1, "error").await;
        // The slow pane is still going while the others are done.
        assert!(
            app.exists(&format!("{}[data-status=streaming]", pane(0)))
                .await,
            "the slow pane did not hold the others back"
        );
        app.wait_for_text(
            &format!("{} [data-testid=error]", pane(1)),
            "The request was rejected",
        )
        .await;
        desktop.screenshot("compare-streaming");
        wait_pane(&app, 0, "complete").await;

        // Figures under each completed pane, and the summary.
        for i in [0, 2] {
            let provider = app
                .text(&format!("{} [data-testid=pane-stat-provider]", pane(i)))
                .await;
            assert!(
                provider.contains(&providers[i]),
                "{provider} vs {}",
                providers[i]
            );
            let cost = app
                .text(&format!("{} [data-testid=pane-stat-cost]", pane(i)))
                .await;
            assert!(cost.contains('$'), "{cost}");
        }
        app.wait_for_text("[data-testid=compare-summary]", "Fastest first token")
            .await;
        // The session's estimate beside what Hugging Face billed for all its panes together
        // (each pane has its own session id): the two answers, not the refused one.
        app.wait_for_text(
            "[data-testid=conversation-bill]",
            "estimated from tokens × price",
        )
        .await;
        app.wait_for("[data-testid=conversation-bill][data-state=billed]")
            .await;
        let billed = app.text("[data-testid=conversation-billed]").await;
        assert!(
            billed.starts_with("$0.0036 billed by Hugging Face for 2 requests"),
            "{billed}"
        );
        desktop.screenshot("compare-done");

        // Each pane's call is its own request: three to the router, each pinned.
        let bodies: Vec<serde_json::Value> = double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .filter_map(|r| r.json())
            .collect();
        let mut models: Vec<String> = bodies
            .iter()
            .map(|b| b["model"].as_str().unwrap().to_string())
            .collect();
        models.sort();
        let mut expected: Vec<String> = providers.iter().map(|p| format!("{MODEL}:{p}")).collect();
        expected.sort();
        assert_eq!(models, expected);
        app.quit().await;

        // After a restart the session is in the history and reopens as a comparison.
        let app = driver.launch().await;
        app.click("[data-testid=nav-playground]").await;
        app.wait_for_text("[data-testid=history-item]", "Compare this please")
            .await;
        app.click("[data-testid=history-item]").await;
        app.wait_for(&pane(2)).await;
        for i in [0, 2] {
            app.wait_for_text(&format!("{} [data-testid=answer]", pane(i)), " ")
                .await;
        }
        desktop.screenshot("compare-reopened");
        app.quit().await;
    })
    .await;
}
