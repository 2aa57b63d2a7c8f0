//! A token Hugging Face stops accepting: the chat's 401 offers Account → Replace token right
//! there, the account shows it needs a new token until one works, and a new token clears it.

use hf_double::{tokens, Fault};

use crate::harness::{rig, within_time_limit, SERIAL};
use crate::playground::{choose, send, sign_in, wait_answer, LAST_ANSWER, MODEL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_token_leads_to_replace_token_and_shows_until_a_new_one_works() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        choose(&app, MODEL, None).await;
        assert!(!app.exists("[data-testid=token-rejected-badge]").await);

        // Hugging Face rejects the token on a chat.
        double.push_fault(Fault::unauthorized().once());
        send(&app, "Hello?").await;
        wait_answer(&app, "error").await;
        let notice = app
            .wait_for_text(
                &format!("{LAST_ANSWER} [data-testid=error]"),
                "Replace it with a new one in Account",
            )
            .await;
        assert!(!notice.contains("paste it here"), "{notice}");
        app.wait_for("[data-testid=token-rejected-badge]").await;
        desktop.screenshot("token-rejected-chat");

        // "Replace token" opens Account with the token form, which says why.
        app.click(&format!("{LAST_ANSWER} [data-testid=error-replace-token]"))
            .await;
        app.wait_for_text(
            "[data-testid=token-rejected]",
            "no longer accepts this token",
        )
        .await;
        app.type_into(
            "[data-testid=token-input]",
            &format!("{}\u{E007}", tokens::PRO_TOKEN),
        )
        .await;

        // A token that works: the account no longer asks for one.
        app.wait_for("[data-testid=replace-token]").await;
        let deadline = std::time::Instant::now() + crate::harness::UI_TIMEOUT;
        while app.exists("[data-testid=token-rejected]").await
            || app.exists("[data-testid=token-rejected-badge]").await
        {
            assert!(
                std::time::Instant::now() < deadline,
                "still shown as rejected"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        app.quit().await;
    })
    .await;
}
