//! The playground on the real app: pick a model and a provider, stream an answer from the test
//! double's recorded streams, stop, errors, hostile output, "Get code", bill to an organisation.

use std::time::Duration;

use hf_double::{tokens, Fault, HfDouble, RecordedRequest, Scope, Target};

use crate::harness::{rig, within_time_limit, App, SERIAL};

pub(crate) const MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";
pub(crate) const LAST_ANSWER: &str = "article[data-testid=turn-assistant]:last-of-type";

fn chat_requests(double: &HfDouble) -> Vec<RecordedRequest> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect()
}

/// Signs in with `token` and opens the playground.
pub(crate) async fn sign_in(app: &App, token: &str) {
    app.type_into("[data-testid=token-input]", &format!("{token}\u{E007}"))
        .await;
    app.wait_for("[data-testid=account-name]").await;
    app.click("[data-testid=nav-playground]").await;
    app.wait_for("[data-testid=model-picker]").await;
}

pub(crate) async fn choose(app: &App, model: &str, provider: Option<&str>) {
    app.click("[data-testid=model-picker]").await;
    app.type_into(
        "[data-testid=model-search]",
        model.split('/').nth(1).unwrap(),
    )
    .await;
    app.click(&format!(
        "[data-testid=model-option][data-model-id=\"{model}\"]"
    ))
    .await;
    app.wait_for_text(
        "[data-testid=model-picker]",
        model.split('/').nth(1).unwrap(),
    )
    .await;
    if let Some(p) = provider {
        app.click("[data-testid=provider-picker]").await;
        app.click(&format!(
            "[data-testid=provider-option][data-provider=\"{p}\"]"
        ))
        .await;
        app.wait_for_text("[data-testid=provider-picker]", p).await;
    }
}

pub(crate) async fn send(app: &App, text: &str) {
    app.type_into("[data-testid=composer]", &format!("{text}\u{E007}"))
        .await;
}

/// Waits until the last answer has ended with `status` (complete, stopped, error).
pub(crate) async fn wait_answer(app: &App, status: &str) {
    app.wait_for(&format!("{LAST_ANSWER}[data-status={status}]"))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_with_a_pinned_provider_stop_hostile_output_code_and_billing() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;

        // The model list came from the router, without credentials.
        let models_call = double
            .wait_for_request(|r| r.path == "/router/v1/models", Duration::from_secs(20))
            .await
            .expect("catalog downloaded");
        assert_eq!(models_call.header("authorization"), None);

        choose(&app, MODEL, Some("together")).await;
        app.type_into("[data-testid=seed]", "42").await;
        send(&app, "What is deep learning?").await;
        wait_answer(&app, "complete").await;

        // Under the answer: provider, tokens, cost.
        app.wait_for_text("[data-testid=stat-provider]", "together")
            .await;
        let tokens_text = app.text("[data-testid=stat-tokens]").await;
        assert!(
            tokens_text.contains(" in · ") && !tokens_text.contains("estimated"),
            "{tokens_text}"
        );
        let cost = app.text("[data-testid=stat-cost]").await;
        assert!(cost.starts_with('$'), "{cost}");
        assert!(app
            .text("[data-testid=request-id]")
            .await
            .starts_with("Request "));
        let answer = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        assert!(answer.len() > 20, "{answer}");

        // What the router received: the suffix, the parameters, the HF token.
        let reqs = chat_requests(&double);
        assert_eq!(reqs.len(), 1);
        let sent = &reqs[0];
        assert_eq!(sent.target, Target::Router);
        assert_eq!(sent.credential(), Some(tokens::PRO_TOKEN));
        let body = sent.json().unwrap();
        assert_eq!(body["model"], format!("{MODEL}:together"));
        assert_eq!(body["seed"], 42);
        assert_eq!(body["temperature"], 0.7);
        assert_eq!(body["max_tokens"], 1024);
        assert_eq!(body["stream_options"]["include_usage"], true);
        assert_eq!(body["messages"][0]["content"], "What is deep learning?");
        assert_eq!(sent.header("x-hf-bill-to"), None);

        desktop.screenshot("playground-1280x800-light");
        app.click("[data-testid=theme-dark]").await;
        app.wait_for("html[data-theme=dark]").await;
        app.settle().await;
        desktop.screenshot("playground-1280x800-dark");
        app.click("[data-testid=theme-light]").await;

        // Stop mid-stream: the partial answer stays, marked stopped, and the connection closes.
        double.push_fault(Fault::slow_stream(250).scope(Scope::Chat).once());
        send(&app, "Tell me more").await;
        app.wait_for("[data-testid=stop]").await;
        app.wait_for_text(&format!("{LAST_ANSWER} [data-testid=answer]"), " ")
            .await;
        app.click("[data-testid=stop]").await;
        wait_answer(&app, "stopped").await;
        app.wait_for(&format!("{LAST_ANSWER} [data-testid=stopped]"))
            .await;
        let partial = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        assert!(!partial.trim().is_empty());
        let outcome = double
            .wait_for_stream_outcome(|o| o.client_disconnected, Duration::from_secs(10))
            .await
            .expect("the double saw the connection closed");
        assert!(!outcome.completed);
        // The follow-up carried the conversation so far.
        let follow = chat_requests(&double).last().unwrap().json().unwrap();
        assert_eq!(follow["messages"].as_array().unwrap().len(), 3);

        // A hostile answer shows as text and runs nothing.
        app.click("[data-testid=new-chat]").await;
        double.push_fault(
            Fault::answer(
                "<img src=x onerror=\"window.__pwned=1\"><script>window.__pwned=2</script>\
                 [link](javascript:window.__pwned=3) **bold**",
            )
            .scope(Scope::Chat)
            .once(),
        );
        send(&app, "Say something dangerous").await;
        wait_answer(&app, "complete").await;
        let shown = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        assert!(shown.contains("<img src=x onerror="), "{shown}");
        assert!(shown.contains("<script>"), "{shown}");
        let counts = app
            .js(
                "const a = document.querySelector('article:last-of-type [data-testid=answer]');\
             return [a.querySelectorAll('img,script,iframe').length,\
                     a.querySelectorAll('[onerror],a[href^=javascript]').length,\
                     a.querySelectorAll('strong').length,\
                     window.__pwned === undefined];",
            )
            .await;
        assert_eq!(counts, serde_json::json!([0, 0, 1, true]));
        desktop.screenshot("playground-hostile-answer");

        // A reasoning model: the think section is apart from the answer.
        double.push_fault(
            Fault::answer("<think>The user wants 2+2. That is 4.</think>\n\nIt is **4**.")
                .scope(Scope::Chat)
                .once(),
        );
        send(&app, "2+2?").await;
        wait_answer(&app, "complete").await;
        app.wait_for_text(&format!("{LAST_ANSWER} [data-testid=answer]"), "It is 4")
            .await;
        let answer = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        assert!(!answer.contains("2+2"), "{answer}");
        app.click(&format!("{LAST_ANSWER} [data-testid=thinking] summary"))
            .await;
        app.wait_for_text(
            &format!("{LAST_ANSWER} [data-testid=thinking]"),
            "That is 4",
        )
        .await;

        // Get code: the exact request, the token left as $HF_TOKEN.
        app.click("[data-testid=get-code]").await;
        let curl = app
            .wait_for_text("[data-testid=code-snippet]", "$HF_TOKEN")
            .await;
        assert!(curl.contains(&format!("{MODEL}:together")), "{curl}");
        assert!(curl.contains("\"seed\": 42"), "{curl}");
        assert!(!curl.contains(tokens::PRO_TOKEN));
        app.click("[data-testid=code-tab-python_openai]").await;
        let py = app
            .wait_for_text("[data-testid=code-snippet]", "os.environ[\"HF_TOKEN\"]")
            .await;
        assert!(py.contains("from openai import OpenAI"), "{py}");
        desktop.screenshot("playground-get-code");
        app.client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{E00C}")
            .await
            .unwrap();
        assert!(!app.exists("[data-testid=code-dialog]").await);

        // Bill to an organisation: the header goes with routed calls, the choice is visible.
        let select = app.wait_for("[data-testid=bill-to]").await;
        select
            .select_by_value("acme-research")
            .await
            .expect("acme-research is offered");
        app.wait_for_text("[data-testid=billing-target]", "Billed to acme-research")
            .await;
        send(&app, "Bill this one to the team").await;
        wait_answer(&app, "complete").await;
        let billed = chat_requests(&double).last().unwrap().clone();
        assert_eq!(billed.header("x-hf-bill-to"), Some("acme-research"));
        assert!(
            desktop.files_containing(tokens::PRO_TOKEN).is_empty(),
            "the token is in no file"
        );
        app.quit().await;

        // After a restart the model, provider and organisation are still chosen.
        let app = driver.launch().await;
        app.wait_for_text("[data-testid=model-picker]", "Llama-3.3-70B-Instruct")
            .await;
        app.wait_for_text("[data-testid=provider-picker]", "together")
            .await;
        app.wait_for_text("[data-testid=billing-target]", "acme-research")
            .await;
        app.quit().await;
    })
    .await;
}

/// Sends one message with `fault` queued and returns the error box's text.
async fn error_shown(app: &App, double: &HfDouble, fault: Fault, code: &str) -> String {
    double.clear_faults();
    double.push_fault(fault.scope(Scope::Chat));
    app.click("[data-testid=new-chat]").await;
    send(app, "Hello?").await;
    wait_answer(app, "error").await;
    let sel = format!("{LAST_ANSWER} [data-testid=error][data-code={code}]");
    let text = app.text(&sel).await;
    double.clear_faults();
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_failure_gets_its_own_message_and_keeps_what_came() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::FREE_TOKEN).await;
        choose(&app, MODEL, Some("together")).await;

        let cases: Vec<(Fault, &str, &str)> = vec![
            (
                Fault::unauthorized().once(),
                "unauthorized",
                "didn’t accept this token",
            ),
            (Fault::forbidden().once(), "forbidden", "lacks a permission"),
            (
                Fault::credits_depleted().once(),
                "payment_required",
                "monthly included credits are used up",
            ),
            (Fault::unprocessable().once(), "invalid_request", "must be"),
            (
                Fault::error_event(3, r#"{"error":"Model is overloaded"}"#).once(),
                "provider_error",
                "stopped with an error",
            ),
            (Fault::cut_stream(3).once(), "stream_interrupted", "cut off"),
            (
                Fault::malformed_event(3).once(),
                "bad_response",
                "Unexpected answer",
            ),
            (Fault::hang().once(), "timeout", "No answer in time"),
        ];
        for (fault, code, words) in cases {
            let text = error_shown(&app, &double, fault, code).await;
            assert!(text.contains(words), "{code}: {text}");
            // The request id is there to quote, when the server gave one.
            if code != "timeout" {
                assert!(
                    app.text(&format!("{LAST_ANSWER} [data-testid=request-id]"))
                        .await
                        .starts_with("Request "),
                    "{code}"
                );
            }
            // A broken stream keeps what arrived.
            if matches!(
                code,
                "provider_error" | "stream_interrupted" | "bad_response"
            ) {
                let kept = app
                    .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
                    .await;
                assert!(!kept.trim().is_empty(), "{code}: partial answer kept");
            }
        }
        desktop.screenshot("playground-error-interrupted");

        // The model isn't served by the pinned provider: the live ones are offered.
        let text = error_shown(
            &app,
            &double,
            Fault::model_not_supported().once(),
            "model_unavailable",
        )
        .await;
        assert!(text.contains("isn’t served here"), "{text}");
        app.wait_for_text(&format!("{LAST_ANSWER} [data-testid=suggestions]"), "Use ")
            .await;
        desktop.screenshot("playground-error-model-unavailable");
        // One click pins a suggested provider and answers.
        app.click(&format!("{LAST_ANSWER} [data-testid=suggestions] button"))
            .await;
        wait_answer(&app, "complete").await;

        // 429: a visible countdown, then an automatic retry that succeeds.
        double.push_fault(Fault::rate_limited(2).scope(Scope::Chat).once());
        app.click("[data-testid=new-chat]").await;
        send(&app, "Again").await;
        app.wait_for_text(
            &format!("{LAST_ANSWER} [data-testid=retrying]"),
            "retrying in",
        )
        .await;
        desktop.screenshot("playground-retrying");
        wait_answer(&app, "complete").await;

        // Retry from an error: the failed answer is asked again.
        let _ = error_shown(&app, &double, Fault::forbidden().once(), "forbidden").await;
        app.click(&format!("{LAST_ANSWER} [data-testid=regenerate]"))
            .await;
        wait_answer(&app, "complete").await;

        // 5xx that does not go away: retried with backoff (1 + 2 + 4 s), then explained.
        let text = error_shown(
            &app,
            &double,
            Fault::server_error(503).times(4),
            "server_error",
        )
        .await;
        assert!(text.contains("having trouble"), "{text}");

        // No network at all: the double goes away.
        double.shutdown();
        app.click("[data-testid=new-chat]").await;
        send(&app, "Anyone there?").await;
        wait_answer(&app, "error").await;
        app.wait_for_text(
            &format!("{LAST_ANSWER} [data-testid=error][data-code=network]"),
            "No connection",
        )
        .await;
        app.quit().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_fast_answer_streams_while_typing_stays_responsive() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, _desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::FREE_TOKEN).await;
        choose(&app, MODEL, Some("together")).await;
        double.push_fault(Fault::long_stream(5000, 200).scope(Scope::Chat).once());
        send(&app, "Write a lot").await;
        app.wait_for("[data-testid=stop]").await;
        // Type while it streams: every key lands.
        let composer = app.wait_for("[data-testid=composer]").await;
        composer.send_keys("still responsive").await.unwrap();
        wait_answer(&app, "complete").await;
        let value = composer.prop("value").await.unwrap().unwrap_or_default();
        assert_eq!(value, "still responsive");
        let words = app.js("return document.querySelector('article:last-of-type [data-testid=answer]').textContent.split(/\\s+/).filter(Boolean).length",
        )
        .await;
        assert_eq!(words, 5000);
        app.quit().await;
    })
    .await;
}
