//! Links in answers: a click asks first, showing the host the link really leads to, and opens
//! the system browser only on "Open" (through Rust, http(s) only); nothing ever takes the app's
//! window away from the app.

use hf_double::{tokens, Fault, Scope};

use crate::harness::{rig, wait_until, within_time_limit, SERIAL, UI_TIMEOUT};
use crate::playground::{choose, send, sign_in, wait_answer, LAST_ANSWER, MODEL};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_asks_before_opening_and_the_window_never_leaves_the_app() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        choose(&app, MODEL, None).await;
        let home = app.client.current_url().await.unwrap();

        double.push_fault(
            Fault::answer("See [the Hugging Face docs](https://docs.example.org/guide?x=1).")
                .scope(Scope::Chat)
                .once(),
        );
        send(&app, "Where are the docs?").await;
        wait_answer(&app, "complete").await;

        // A click asks first, naming the real host; Cancel leaves everything as it was.
        app.click(&format!("{LAST_ANSWER} [data-testid=answer] a"))
            .await;
        app.wait_for_text("[data-testid=link-host]", "docs.example.org")
            .await;
        desktop.screenshot("link-confirm");
        app.click("[data-testid=link-cancel]").await;
        let deadline = std::time::Instant::now() + UI_TIMEOUT;
        while app.exists("[data-testid=link-confirm]").await {
            assert!(
                std::time::Instant::now() < deadline,
                "the confirmation stayed open"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        assert_eq!(app.client.current_url().await.unwrap(), home);

        // Whatever asks the window to go elsewhere, it stays on the app.
        app.client
            .execute("window.location.href = 'https://example.com/';", vec![])
            .await
            .unwrap();
        let log = desktop.data_dir().join("logs").join("switchboard.log");
        wait_until("the navigation to be blocked", UI_TIMEOUT, || {
            std::fs::read_to_string(&log).is_ok_and(|l| {
                l.contains("blocked the window from leaving the app for https://example.com")
            })
        });
        assert_eq!(app.client.current_url().await.unwrap(), home);
        app.click("[data-testid=nav-account]").await;
        app.wait_for("[data-testid=account-name]").await;
        app.quit().await;
    })
    .await;
}
