//! Pictures in chat on the real app: a picture chosen in the file dialog and one dropped on the
//! prompt are shown as thumbnails (one removed before sending); the one kept reaches the request
//! as an OpenAI image content part, is shown in the conversation, and is there again after a
//! restart when the conversation is reopened from the history.

use base64::Engine as _;
use hf_double::tokens;

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::{choose, send, sign_in, wait_answer};

const VISION: &str = "Qwen/Qwen2.5-VL-72B-Instruct";

/// Waits until the conversation shows a picture that has loaded and has pixels.
async fn wait_picture_shown(app: &App) {
    let script = "const i = document.querySelector('[data-testid=turn-user] [data-testid=message-picture]'); return !!i && i.complete && i.naturalWidth > 0;";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while app.js(script).await != serde_json::json!(true) {
        assert!(
            std::time::Instant::now() < deadline,
            "no picture in the conversation"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_attached_to_a_message_reaches_the_request_and_stays_after_a_restart() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let dialog = tempfile::tempdir().unwrap();
        let chosen = dialog.path().join("cat.png");
        let picture = hf_double::png::avatar("a grey cat", 96);
        std::fs::write(&chosen, &picture).unwrap();
        let chosen_env = chosen.to_string_lossy().to_string();
        let (double, desktop, driver) = rig_with(
            1280,
            800,
            true,
            &[("SWITCHBOARD_E2E_DIALOG_FILE", chosen_env.as_str())],
        )
        .await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;

        // A text-only model offers no attaching.
        choose(&app, crate::playground::MODEL, Some("together")).await;
        assert_eq!(
            app.js("return !!document.querySelector('[data-testid=attach]');").await,
            serde_json::json!(false)
        );

        // A model that takes image input: chosen in the file dialog, and dropped on the prompt.
        choose(&app, VISION, Some("together")).await;
        app.click("[data-testid=attach]").await;
        app.wait_count("[data-testid=attachment]", 1).await;
        let other = hf_double::png::avatar("a red blanket", 64);
        let drop = format!(
            "const bin = atob({b64}); const a = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);\
             const dt = new DataTransfer(); dt.items.add(new File([a], 'dropped.png', {{type: 'image/png'}}));\
             document.querySelector('[data-testid=composer]').dispatchEvent(new DragEvent('drop', {{dataTransfer: dt, bubbles: true, cancelable: true}}));",
            b64 = serde_json::to_string(&base64::engine::general_purpose::STANDARD.encode(&other)).unwrap()
        );
        app.js(&drop).await;
        app.wait_count("[data-testid=attachment]", 2).await;
        app.settle().await;
        desktop.screenshot("chat-attachments-light");
        // The dropped one removed before sending.
        app.js("document.querySelectorAll('[data-testid=attachment-remove]')[1].click();",
        )
        .await;
        app.wait_count("[data-testid=attachment]", 1).await;

        double.clear_requests();
        send(&app, "What animal is in this picture?").await;
        wait_answer(&app, "complete").await;
        app.wait_count("[data-testid=attachment]", 0).await;
        wait_picture_shown(&app).await;

        // The request carried the chosen picture, and only it, as an image content part.
        let sent = double
            .requests()
            .into_iter()
            .find(|r| r.path.ends_with("/chat/completions"))
            .expect("a chat request");
        let body = sent.json().unwrap();
        let parts = body["messages"][0]["content"].as_array().unwrap().clone();
        assert_eq!(parts.len(), 2, "{parts:?}");
        assert_eq!(
            parts[0],
            serde_json::json!({"type": "text", "text": "What animal is in this picture?"})
        );
        assert_eq!(parts[1]["type"], "image_url");
        let url = parts[1]["image_url"]["url"].as_str().unwrap();
        let b64 = url.strip_prefix("data:image/png;base64,").unwrap();
        assert_eq!(
            base64::engine::general_purpose::STANDARD.decode(b64).unwrap(),
            picture,
            "the chosen file's bytes"
        );
        app.settle().await;
        desktop.screenshot("chat-picture-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("chat-picture-dark");
        app.click("[data-testid=theme-light]").await;
        app.quit().await;

        // After a restart, reopened from the history: the picture is shown with its message.
        let app = driver.launch().await;
        app.wait_for_text("[data-testid=history-item]", "What animal is in this picture?")
            .await;
        app.click("[data-testid=history-item]").await;
        wait_answer(&app, "complete").await;
        wait_picture_shown(&app).await;
        app.quit().await;
    })
    .await;
}
