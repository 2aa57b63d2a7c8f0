//! Provider settings on the real app: an own key for one provider (calls go straight to it, the
//! router sees nothing), back to routed (the opposite), a custom endpoint whose models answer,
//! a disabled provider not offered, and no key in any file.

use hf_double::{tokens, HfDouble, RecordedRequest, Target};

use crate::harness::{rig, within_time_limit, App, SERIAL};
use crate::playground::{choose, send, sign_in, wait_answer, LAST_ANSWER, MODEL};

fn chats(double: &HfDouble) -> Vec<RecordedRequest> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/chat/completions"))
        .collect()
}

fn row(provider: &str) -> String {
    format!("[data-testid=provider-row][data-provider=\"{provider}\"]")
}

async fn open_providers(app: &App) {
    app.click("[data-testid=nav-providers]").await;
    app.wait_for(&row("together")).await;
}

async fn open_playground(app: &App) {
    app.click("[data-testid=nav-playground]").await;
    app.wait_for("[data-testid=composer]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn own_key_then_routed_then_a_custom_endpoint() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;

        // Together with my own key: pasted with stray whitespace, kept in the keyring.
        open_providers(&app).await;
        app.click(&format!(
            "{} [data-testid=provider-mode-own_key]",
            row("together")
        ))
        .await;
        app.type_into(
            &format!("{} [data-testid=provider-key-input]", row("together")),
            &format!("  {}\n", tokens::PROVIDER_KEY),
        )
        .await;
        app.click(&format!(
            "{} [data-testid=provider-key-save]",
            row("together")
        ))
        .await;
        app.wait_for_text(
            &format!("{} [data-testid=provider-key-status]", row("together")),
            "1234",
        )
        .await;
        app.click(&format!(
            "{} [data-testid=provider-key-test]",
            row("together")
        ))
        .await;
        app.wait_for_text(
            &format!("{} [data-testid=provider-result]", row("together")),
            "The key works",
        )
        .await;
        // Cerebras switched off: not offered in the playground.
        // The switch is a styled checkbox: click its label, as a user does.
        app.click(&format!(
            "{} label:has([data-testid=provider-enabled])",
            row("cerebras")
        ))
        .await;
        desktop.screenshot("providers-light");
        app.click("[data-testid=theme-dark]").await;
        app.wait_for("html[data-theme=dark]").await;
        app.settle().await;
        desktop.screenshot("providers-dark");
        app.click("[data-testid=theme-light]").await;

        open_playground(&app).await;
        choose(&app, MODEL, Some("together")).await;
        app.click("[data-testid=provider-picker]").await;
        app.wait_for("[data-testid=provider-option][data-provider=\"novita\"]")
            .await;
        assert!(
            !app.exists("[data-testid=provider-option][data-provider=\"cerebras\"]")
                .await,
            "a disabled provider is not offered"
        );
        app.client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{E00C}")
            .await
            .unwrap();
        app.wait_for_text("[data-testid=billing-target]", "Billed by Together AI")
            .await;
        double.clear_requests();
        send(&app, "Through my own key").await;
        wait_answer(&app, "complete").await;
        app.wait_for_text(
            &format!("{LAST_ANSWER} [data-testid=stat-billing]"),
            "billed by Together AI",
        )
        .await;
        let sent = chats(&double);
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].target,
            Target::Direct {
                provider: "together".into()
            }
        );
        assert_eq!(sent[0].credential(), Some(tokens::PROVIDER_KEY));
        let mapped = double
            .catalog()
            .get(MODEL)
            .unwrap()
            .provider("together")
            .unwrap()
            .provider_id
            .clone();
        assert_eq!(sent[0].json().unwrap()["model"], mapped.as_str());
        assert!(double
            .requests()
            .iter()
            .all(|r| r.target != Target::Router || r.path == "/router/v1/models"));
        assert!(double
            .requests()
            .iter()
            .all(|r| r.credential() != Some(tokens::PRO_TOKEN)));

        // Back to routed: the router gets the HF token, the provider nothing.
        open_providers(&app).await;
        app.click(&format!(
            "{} [data-testid=provider-mode-routed]",
            row("together")
        ))
        .await;
        open_playground(&app).await;
        app.wait_for_text("[data-testid=billing-target]", "HF credits")
            .await;
        double.clear_requests();
        send(&app, "Through Hugging Face again").await;
        wait_answer(&app, "complete").await;
        let sent = chats(&double);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].target, Target::Router);
        assert_eq!(sent[0].credential(), Some(tokens::PRO_TOKEN));
        assert!(double
            .requests()
            .iter()
            .all(|r| r.credential() != Some(tokens::PROVIDER_KEY)));

        // A custom endpoint (the double's Together endpoint stands in for a local server).
        open_providers(&app).await;
        app.type_into("[data-testid=endpoint-name]", "Lab gateway")
            .await;
        app.type_into(
            "[data-testid=endpoint-url]",
            &format!("{}/direct/together/v1", double.url()),
        )
        .await;
        app.type_into("[data-testid=endpoint-key]", tokens::PROVIDER_KEY)
            .await;
        app.click("[data-testid=endpoint-add]").await;
        app.wait_for_text("[data-testid=endpoint-row]", "Lab gateway")
            .await;
        app.wait_for_text("[data-testid=endpoint-row]", "models")
            .await;
        desktop.screenshot("providers-endpoint");
        open_playground(&app).await;
        app.click("[data-testid=model-picker]").await;
        app.type_into(
            "[data-testid=model-search]",
            mapped.split('/').nth(1).unwrap(),
        )
        .await;
        app.click(&format!(
            "[data-testid=model-option][data-model-id=\"{mapped}\"]"
        ))
        .await;
        app.click("[data-testid=provider-picker]").await;
        app.wait_for_text(
            "[data-testid=provider-option][data-provider^=\"endpoint:\"]",
            "Lab gateway",
        )
        .await;
        app.click("[data-testid=provider-option][data-provider^=\"endpoint:\"]")
            .await;
        double.clear_requests();
        send(&app, "Hello, lab").await;
        wait_answer(&app, "complete").await;
        let sent = chats(&double);
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0].path, "/direct/together/v1/chat/completions");
        assert_eq!(sent[0].credential(), Some(tokens::PROVIDER_KEY));
        assert_eq!(sent[0].json().unwrap()["model"], mapped.as_str());

        // A plain-http endpoint on a public host is refused, and the choice to send without
        // encryption is offered. (The test stops there: once added, an endpoint is tested at
        // once, and no test may send anything off this machine.)
        open_providers(&app).await;
        app.type_into("[data-testid=endpoint-name]", "Far gateway")
            .await;
        app.type_into("[data-testid=endpoint-url]", "http://203.0.113.9:8000/v1")
            .await;
        app.click("[data-testid=endpoint-add]").await;
        app.wait_for("[data-testid=error][data-code=insecure_endpoint]")
            .await;
        app.wait_for("[data-testid=endpoint-plain-http]").await;
        assert!(
            !app.exists("[data-testid=endpoint-row]:last-child").await
                || !app
                    .text("[data-testid=endpoint-row]:last-child")
                    .await
                    .contains("Far gateway"),
            "a refused endpoint was added"
        );
        desktop.screenshot("providers-endpoint-plain-http");

        // No key or token in any file: data folder, logs, web view storage.
        assert!(desktop.files_containing(tokens::PROVIDER_KEY).is_empty());
        assert!(desktop.files_containing(tokens::PRO_TOKEN).is_empty());
        app.quit().await;
    })
    .await;
}
