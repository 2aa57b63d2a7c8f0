//! A provider the router never lists (OpenAI), on the user's own key: once its key is saved and
//! tested, its own models can be picked, "Get code" shows the real route with the provider's key
//! as a placeholder, "Bill to" says why it does not apply, and the answer comes from OpenAI.

use hf_double::{tokens, Target};

use crate::harness::{rig, within_time_limit, SERIAL};
use crate::playground::{send, sign_in, wait_answer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_openai_key_makes_its_models_pickable_and_get_code_shows_the_real_route() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, _desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;

        // Providers → OpenAI: own key only; save and test the key.
        let row = "[data-testid=provider-row][data-provider=\"openai\"]";
        app.click("[data-testid=nav-providers]").await;
        app.type_into(
            &format!("{row} [data-testid=provider-key-input]"),
            tokens::PROVIDER_KEY,
        )
        .await;
        app.click(&format!("{row} [data-testid=provider-key-save]"))
            .await;
        app.wait_for_text(&format!("{row} [data-testid=provider-key-status]"), "1234")
            .await;
        app.click(&format!(
            "{row} [data-testid=provider-key-test]:not([disabled])"
        ))
        .await;
        app.wait_for_text(
            &format!("{row} [data-testid=provider-result]"),
            "The key works",
        )
        .await;

        // The playground offers OpenAI's own models, served by OpenAI.
        let model = hf_double::DIRECT_ONLY_MODELS[1];
        app.click("[data-testid=nav-playground]").await;
        app.click("[data-testid=model-picker]").await;
        app.type_into("[data-testid=model-search]", model).await;
        app.click(&format!(
            "[data-testid=model-option][data-model-id=\"{model}\"]"
        ))
        .await;
        app.wait_for_text("[data-testid=model-picker]", model).await;
        app.click("[data-testid=provider-picker]").await;
        app.click("[data-testid=provider-option][data-provider=\"openai\"]")
            .await;
        app.wait_for_text("[data-testid=provider-picker]", "openai")
            .await;
        app.wait_for_text("[data-testid=billing-target]", "Billed by OpenAI")
            .await;

        // "Bill to" has nothing to do here, and says so.
        let select = app.wait_for("[data-testid=bill-to]").await;
        assert!(
            select.attr("disabled").await.unwrap().is_some(),
            "Bill to is disabled"
        );
        app.wait_for_text("[data-testid=bill-to-reason]", "OpenAI bills your own key")
            .await;

        // Get code: OpenAI's own URL, the provider's key as a placeholder, no HF token.
        app.type_into("[data-testid=composer]", "Hello OpenAI")
            .await;
        app.click("[data-testid=get-code]").await;
        let curl = app
            .wait_for_text("[data-testid=code-snippet]", "$PROVIDER_API_KEY")
            .await;
        assert!(curl.contains(&double.provider_base("openai")), "{curl}");
        assert!(!curl.contains("HF_TOKEN"), "{curl}");
        assert!(!curl.contains(tokens::PROVIDER_KEY));
        app.wait_for_text("[data-testid=code-key-hint]", "PROVIDER_API_KEY")
            .await;
        app.client
            .active_element()
            .await
            .unwrap()
            .send_keys("\u{E00C}")
            .await
            .unwrap();

        // Sent: straight to OpenAI, with its own model id and the user's key.
        double.clear_requests();
        send(&app, "Hello OpenAI").await;
        wait_answer(&app, "complete").await;
        let sent = double
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("/chat/completions"))
            .collect::<Vec<_>>();
        assert_eq!(sent.len(), 1);
        assert_eq!(
            sent[0].target,
            Target::Direct {
                provider: "openai".into()
            }
        );
        assert_eq!(sent[0].json().unwrap()["model"], model);
        // Billed by OpenAI: no Hugging Face session, and the conversation says who bills it.
        assert_eq!(sent[0].header("x-hf-session-id"), None);
        app.wait_for_text(
            "[data-testid=conversation-billed]",
            "billed by the provider, not by Hugging Face",
        )
        .await;
        app.quit().await;
    })
    .await;
}
