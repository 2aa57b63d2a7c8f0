//! Billing on the real app: calls appear in the ledger with the right costs, the credits meter
//! moves, a 402 turns it to "used up" with the right message, the estimator's numbers match a
//! hand calculation, and the CSV export holds the rows. Hugging Face's own figures: a
//! conversation's cost turns from estimated to billed when the double settles it (in the open
//! conversation, the ledger, the per-provider table and the CSV), the last figures stay with their
//! age when Hugging Face fails, a per-provider 402 names the provider, $0 included is shown as
//! reported, and a token without billing read gets the labelled estimate and how to allow it.

use hf_double::{tokens, Fault, Scope};

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::{choose, send, sign_in, wait_answer, LAST_ANSWER, MODEL};

/// The dollars in a text like "$0.000081".
fn usd(text: &str) -> f64 {
    let t = text.trim();
    let start = t.find('$').unwrap_or_else(|| panic!("no amount in {t:?}")) + 1;
    let num: String = t[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit() || *c == '.')
        .collect();
    num.parse().unwrap_or_else(|_| panic!("no amount in {t:?}"))
}

/// "26 in · 20 out" → (26, 20).
fn tokens_of(text: &str) -> (u64, u64) {
    let nums: Vec<u64> = text
        .split(|c: char| !c.is_ascii_digit() && c != ',')
        .filter_map(|w| w.replace(',', "").parse().ok())
        .collect();
    (nums[0], nums[1])
}

fn close(shown: f64, expected: f64) -> bool {
    // Amounts are shown with two significant digits.
    (shown - expected).abs() <= expected * 0.06 + 1e-9
}

async fn open_billing(app: &App) {
    app.click("[data-testid=nav-billing]").await;
    app.wait_for("[data-testid=credits-meter]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_costs_meter_402_estimator_and_csv() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let dialog = tempfile::tempdir().unwrap();
        let csv = dialog.path().join("calls.csv");
        let csv_env = csv.to_string_lossy().to_string();
        let (double, desktop, driver) =
            rig_with(1280, 800, true, &[("SWITCHBOARD_E2E_DIALOG_FILE", &csv_env)]).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::FREE_TOKEN).await;

        // Before any call: Hugging Face reports $0.10 included, all left; Switchboard's
        // estimate counts from that figure (not the plan table), and says so.
        open_billing(&app).await;
        app.wait_for_text("[data-testid=hf-usage-source]", "from Hugging Face")
            .await;
        assert_eq!(app.text("[data-testid=hf-included]").await.trim(), "$0.10");
        assert_eq!(app.text("[data-testid=hf-left]").await.trim(), "$0.10");
        let before = usd(&app.text("[data-testid=credits-remaining]").await);
        assert!(close(before, 0.10), "{before}");
        app.wait_for_text("[data-testid=credits-meter]", "Free plan, from Hugging Face")
            .await;

        // Two calls through Together at its catalog price.
        app.click("[data-testid=nav-playground]").await;
        choose(&app, MODEL, Some("together")).await;
        // Together's price for this model in the double's catalog, USD per 1M tokens in / out.
        let price = (0.88, 0.88);
        let mut expected = Vec::new();
        for text in ["First question", "Second question"] {
            send(&app, text).await;
            wait_answer(&app, "complete").await;
            let (tin, tout) =
                tokens_of(&app.text(&format!("{LAST_ANSWER} [data-testid=stat-tokens]")).await);
            let cost = (tin as f64 * price.0 + tout as f64 * price.1) / 1e6;
            let shown = usd(&app.text(&format!("{LAST_ANSWER} [data-testid=stat-cost]")).await);
            assert!(close(shown, cost), "{shown} vs {cost}");
            expected.push(cost);
        }
        app.wait_for("[data-testid=credits-compact]").await;

        // The ledger has both, newest first, with their costs; the meter moved.
        open_billing(&app).await;
        app.wait_for_text("[data-testid=calls-total]", "2 calls").await;
        let rows = app
            .client
            .execute(
                "return [...document.querySelectorAll('[data-testid=call-row] [data-testid=call-cost]')].map(e => e.innerText)",
                vec![],
            )
            .await
            .unwrap();
        let costs: Vec<f64> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|v| usd(v.as_str().unwrap()))
            .collect();
        assert_eq!(costs.len(), 2);
        assert!(close(costs[0], expected[1]) && close(costs[1], expected[0]), "{costs:?} vs {expected:?}");
        let spent = usd(&app.text("[data-testid=credits-spent]").await);
        assert!(close(spent, expected[0] + expected[1]), "{spent}");
        let after = usd(&app.text("[data-testid=credits-remaining]").await);
        assert!(after < before && close(after, 0.10 - spent), "{after}");
        // Hugging Face's figures moved by what the double billed (2 × $0.0018), not by the
        // app's estimate, and what is left is not rounded up to $0.10.
        app.wait_for_text("[data-testid=hf-used]", "$0.0036").await;
        assert_eq!(app.text("[data-testid=hf-left]").await.trim(), "$0.0964");
        assert_eq!(app.text("[data-testid=hf-requests]").await.trim(), "2");
        let hf_left = 0.0964;

        // The estimator: 1,000 tokens in, 500 out on Together.
        app.click("[data-testid=estimator] [data-testid=model-picker]").await;
        app.type_into("[data-testid=model-search]", "Llama-3.3-70B").await;
        app.click(&format!("[data-testid=model-option][data-model-id=\"{MODEL}\"]"))
            .await;
        app.type_into("[data-testid=est-in]", "1000").await;
        app.type_into("[data-testid=est-out]", "500").await;
        let row = "[data-testid=estimator-row][data-provider=together]";
        let one = (1000.0 * 0.88 + 500.0 * 0.88) / 1e6; // $0.00132
        app.wait_for_text(&format!("{row} [data-testid=est-cost]"), "$0.0013")
            .await;
        let cells = app
            .client
            .execute(
                &format!("return [...document.querySelectorAll('{row} td')].map(e => e.innerText.trim())"),
                vec![],
            )
            .await
            .unwrap();
        let cells: Vec<String> = cells
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect();
        // Whole calls, grouped as the app shows them ("1,515").
        let n = |budget: f64| {
            let digits = ((budget / one).floor() as u64).to_string();
            let mut out = String::new();
            for (i, c) in digits.chars().enumerate() {
                if i > 0 && (digits.len() - i).is_multiple_of(3) {
                    out.push(',');
                }
                out.push(c);
            }
            out
        };
        // The what-if columns are top-ups of $1 and $10 (not a plan's credits).
        assert!(cells.contains(&n(1.0)), "$1 buys {} calls: {cells:?}", n(1.0));
        assert!(cells.contains(&n(10.0)), "$10 buys {} calls: {cells:?}", n(10.0));
        // The estimator counts from what Hugging Face says is left of the included credits (it
        // used to count from the app's estimate, `after`), and says so.
        let basis = app.text("[data-testid=est-basis]").await;
        assert!(basis.contains("included credits left") && basis.contains("Hugging Face"), "{basis}");
        assert!(cells.contains(&n(hf_left)), "the remaining credits buy {}: {cells:?}", n(hf_left));
        desktop.screenshot("billing-light");
        app.click("[data-testid=theme-dark]").await;
        app.wait_for("html[data-theme=dark]").await;
        app.settle().await;
        desktop.screenshot("billing-dark");
        app.click("[data-testid=theme-light]").await;

        // CSV export of the table.
        app.click("[data-testid=calls-export]").await;
        app.wait_for_text("[data-testid=billing-status]", "Saved to").await;
        let text = std::fs::read_to_string(&csv).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("time_utc,"));
        assert!(lines[1..].iter().all(|l| l.contains("together") && l.contains(MODEL)));

        // A 402: the meter says "used up", with the free plan's options.
        app.click("[data-testid=nav-playground]").await;
        double.push_fault(Fault::credits_depleted().scope(Scope::Chat).once());
        send(&app, "One more").await;
        wait_answer(&app, "error").await;
        app.wait_for_text(
            &format!("{LAST_ANSWER} [data-testid=error][data-code=payment_required]"),
            "$0.10",
        )
        .await;
        open_billing(&app).await;
        let used_up = app.text("[data-testid=credits-used-up]").await;
        assert!(used_up.contains("PRO"), "{used_up}");
        assert!(used_up.to_lowercase().contains("own key"), "{used_up}");
        assert_eq!(usd(&app.text("[data-testid=credits-remaining]").await), 0.0);
        desktop.screenshot("billing-used-up");
        app.quit().await;
    })
    .await;
}

/// The value of `column` in each data line of a CSV whose cells hold no commas.
fn csv_column(text: &str, column: &str) -> Vec<String> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let i = header
        .iter()
        .position(|h| *h == column)
        .unwrap_or_else(|| panic!("no column {column} in {header:?}"));
    lines
        .map(|l| l.split(',').nth(i).unwrap_or("").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_conversations_cost_turns_from_estimated_to_billed_offline_keeps_the_last_figures() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let dialog = tempfile::tempdir().unwrap();
        let csv = dialog.path().join("calls.csv");
        let csv_env = csv.to_string_lossy().to_string();
        // The background reconciliation asks every second (not every minute) in this build.
        let (double, desktop, driver) = rig_with(
            1280,
            800,
            true,
            &[
                ("SWITCHBOARD_E2E_DIALOG_FILE", &csv_env),
                ("SWITCHBOARD_E2E_RECONCILE_MS", "1000"),
            ],
        )
        .await;
        // Hugging Face settles a call's cost a while after it.
        double.set_settle_delay(std::time::Duration::from_secs(4));
        let app = driver.launch().await;
        sign_in(&app, tokens::FREE_TOKEN).await;
        open_billing(&app).await;
        app.wait_for_text("[data-testid=hf-usage-source]", "from Hugging Face")
            .await;
        app.wait_for("[data-testid=accuracy-empty]").await;

        // Two routed calls: each cost says it is the app's estimate, the conversation's bill
        // is pending.
        app.click("[data-testid=nav-playground]").await;
        choose(&app, MODEL, Some("together")).await;
        for text in ["First question", "Second question"] {
            send(&app, text).await;
            wait_answer(&app, "complete").await;
            let kind = app
                .text(&format!("{LAST_ANSWER} [data-testid=stat-cost-kind]"))
                .await;
            assert_eq!(kind.trim(), "estimated from tokens × price");
        }
        app.wait_for_text("[data-testid=conversation-billed]", "pending")
            .await;
        let estimate = app.text("[data-testid=conversation-estimate]").await;
        assert!(estimate.contains("estimated from tokens × price"), "{estimate}");
        desktop.screenshot("conversation-pending-light");

        // The double settles both calls: the label turns to what Hugging Face billed, in the
        // open conversation, without a reload.
        app.wait_for("[data-testid=conversation-bill][data-state=billed]")
            .await;
        let billed = app.text("[data-testid=conversation-billed]").await;
        assert!(
            billed.starts_with("$0.0036 billed by Hugging Face for 2 requests"),
            "{billed}"
        );
        desktop.screenshot("conversation-billed-light");
        app.click("[data-testid=theme-dark]").await;
        app.wait_for("html[data-theme=dark]").await;
        app.settle().await;
        desktop.screenshot("conversation-billed-dark");
        app.click("[data-testid=theme-light]").await;

        // The ledger shows both figures on each call, the estimate per provider beside the bill.
        open_billing(&app).await;
        app.wait_for_text("[data-testid=calls-total]", "2 calls").await;
        app.wait_for_text("[data-testid=call-conv-billed]", "$0.0036").await;
        let kinds = app
            .client
            .execute(
                "return [...document.querySelectorAll('[data-testid=call-row]')].map(r => [r.querySelector('[data-testid=call-cost-kind]').innerText, (r.querySelector('[data-testid=call-conv-billed]') || {}).innerText])",
                vec![],
            )
            .await
            .unwrap();
        assert_eq!(
            kinds,
            serde_json::json!([["est.", "$0.0036"], ["est.", "$0.0036"]])
        );
        let row = "[data-testid=accuracy-row][data-provider=together]";
        app.wait_for_text(&format!("{row} [data-testid=accuracy-billed]"), "$0.0036")
            .await;
        assert!(app
            .text(&format!("{row} [data-testid=accuracy-difference]"))
            .await
            .starts_with('+'));
        app.client
            .execute(
                "document.querySelector('[data-testid=spend]').scrollIntoView()",
                vec![],
            )
            .await
            .unwrap();
        app.settle().await;
        desktop.screenshot("billing-billed-light");
        app.click("[data-testid=theme-dark]").await;
        app.wait_for("html[data-theme=dark]").await;
        app.settle().await;
        // The estimate-and-bill table and the ledger below it.
        app.client
            .execute(
                "document.querySelector('[data-testid=accuracy]').scrollIntoView()",
                vec![],
            )
            .await
            .unwrap();
        app.settle().await;
        desktop.screenshot("billing-billed-dark");
        app.click("[data-testid=theme-light]").await;

        // The CSV: the estimate, its source, who bills, and the conversation's bill.
        app.click("[data-testid=calls-export]").await;
        app.wait_for_text("[data-testid=billing-status]", "Saved to").await;
        let text = std::fs::read_to_string(&csv).unwrap();
        assert!(csv_column(&text, "cost_usd").iter().all(|c| usd(&format!("${c}")) > 0.0), "{text}");
        assert_eq!(csv_column(&text, "cost_source"), ["estimated_tokens_x_price"; 2]);
        assert_eq!(csv_column(&text, "billed_by"), ["hugging_face"; 2]);
        assert_eq!(csv_column(&text, "conversation_billed_usd"), ["0.00360000"; 2]);
        assert_eq!(csv_column(&text, "conversation_billed_requests"), ["2"; 2]);

        // Offline (Hugging Face's billing fails): the last figures stay, with their age.
        app.wait_for_text("[data-testid=hf-used]", "$0.0036").await;
        double.push_fault(Fault::server_error(502).scope(Scope::Billing));
        app.click("[data-testid=hf-usage-refresh]").await;
        app.wait_for("[data-testid=hf-usage-stale]").await;
        let source = app.text("[data-testid=hf-usage-source]").await;
        assert!(
            source.starts_with("from Hugging Face, just now (last known figures)")
                || source.contains("min ago (last known figures)"),
            "{source}"
        );
        assert_eq!(app.text("[data-testid=hf-used]").await.trim(), "$0.0036");
        double.clear_faults();

        // A per-provider 402 names the provider and quotes the account's own figures.
        app.click("[data-testid=nav-playground]").await;
        double.push_fault(
            Fault::status(
                402,
                r#"{"error":"You have reached the free monthly usage limit for together. Add pre-paid credits to your account to continue using together."}"#,
            )
            .scope(Scope::Chat)
            .once(),
        );
        send(&app, "One more").await;
        wait_answer(&app, "error").await;
        let card = app
            .wait_for_text(
                &format!("{LAST_ANSWER} [data-testid=error][data-code=payment_required]"),
                "together refused",
            )
            .await;
        assert!(card.contains("Hugging Face reports $0.10 of included credits"), "{card}");
        assert!(card.contains("own together key"), "{card}");
        app.quit().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn zero_included_credits_are_shown_as_reported_and_a_token_without_billing_read_gets_the_estimate(
) {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (_double, desktop, driver) = rig_with(1280, 800, true, &[]).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::FREE_ZERO_TOKEN).await;

        // $0 included is a normal state, the server's figure, not the plan table's $0.10.
        open_billing(&app).await;
        app.wait_for_text("[data-testid=hf-usage-source]", "from Hugging Face")
            .await;
        assert_eq!(app.text("[data-testid=hf-included]").await.trim(), "$0.00");
        assert!(!app.exists("[data-testid=hf-left]").await);
        // The estimate below counts from $0 too, not from the plan table's $0.10.
        app.wait_for_text(
            "[data-testid=credits-meter]",
            "Free plan, from Hugging Face",
        )
        .await;
        assert_eq!(usd(&app.text("[data-testid=credits-remaining]").await), 0.0);
        app.click("[data-testid=nav-account]").await;
        app.wait_for_text("[data-testid=account-included-source]", "from Hugging Face")
            .await;
        assert_eq!(
            app.text("[data-testid=account-included]").await.trim(),
            "$0.00"
        );
        desktop.screenshot("account-light");
        app.click("[data-testid=theme-dark]").await;
        app.wait_for("html[data-theme=dark]").await;
        app.settle().await;
        desktop.screenshot("account-dark");
        app.click("[data-testid=theme-light]").await;

        // A token that may not read billing: the estimate, labelled, and how to allow it.
        app.click("[data-testid=replace-token]").await;
        app.type_into(
            "[data-testid=token-input]",
            &format!("{}\u{E007}", tokens::NO_BILLING_TOKEN),
        )
        .await;
        app.wait_for("[data-testid=replace-token]").await;
        // It may call Inference Providers: only billing is out of reach.
        app.wait_for_text("[data-testid=account-name]", "Alan Turing")
            .await;
        app.wait_for("[data-testid=inference-ok]").await;
        open_billing(&app).await;
        let why = app
            .wait_for_text("[data-testid=hf-usage-forbidden]", "Billing: read")
            .await;
        assert!(
            why.contains("Switchboard’s estimates") && why.contains("read token"),
            "{why}"
        );
        app.wait_for("[data-testid=hf-usage-token-link]").await;
        assert!(!app.exists("[data-testid=hf-usage]").await);
        // The estimate falls back to the plan table, labelled with its date.
        app.wait_for_text("[data-testid=credits-meter]", "plan table of 2025-08-22")
            .await;
        app.click("[data-testid=nav-account]").await;
        let source = app
            .wait_for_text(
                "[data-testid=account-included-source]",
                "plan table of 2025-08-22",
            )
            .await;
        assert!(source.contains("Hugging Face has not reported"), "{source}");
        app.wait_for_text("[data-testid=account-billing-forbidden]", "Billing: read")
            .await;
        desktop.screenshot("account-no-billing-read");
        app.quit().await;
    })
    .await;
}
