//! Signing in with an HF token: what a user sees, and where the token goes (and does not).

use hf_double::{tokens, HfDouble, Target};

use crate::harness::{rig, within_time_limit, Desktop, SERIAL};

fn whoami_calls(double: &HfDouble) -> Vec<String> {
    double
        .requests()
        .into_iter()
        .filter(|r| r.path == "/api/whoami-v2")
        .map(|r| r.header("authorization").unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_survives_a_restart_then_sign_out_forgets_the_token() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;

        // First run: the welcome screen.
        let app = driver.launch().await;
        app.wait_for_text("#welcome-title", "Welcome to Switchboard")
            .await;
        desktop.screenshot("welcome-1280x800-light");

        // Paste a token with the stray spaces a copy often brings, and press Enter (the
        // WebDriver Enter key) to sign in from the keyboard.
        app.type_into(
            "[data-testid=token-input]",
            &format!("  {} \u{E007}", tokens::FREE_TOKEN),
        )
        .await;
        app.wait_for_text("[data-testid=account-name]", "Ada Lovelace")
            .await;
        assert_eq!(app.text("[data-testid=account-plan]").await, "FREE");
        assert_eq!(
            app.text("[data-testid=token-last4]").await,
            &tokens::FREE_TOKEN[tokens::FREE_TOKEN.len() - 4..]
        );
        app.wait_for_text("[data-testid=token-storage]", "Saved in the system keyring")
            .await;
        app.wait_for("[data-testid=inference-ok]").await;
        desktop.screenshot("account-1280x800-light");
        app.click("[data-testid=theme-dark]").await;
        desktop.screenshot("account-1280x800-dark");

        // The token went to the Hub's whoami, as a bearer token, once.
        assert_eq!(
            whoami_calls(&double),
            [format!("Bearer {}", tokens::FREE_TOKEN)]
        );

        // Restart: still signed in, from the keyring and the cached account (no new whoami call).
        app.quit().await;
        let app = driver.launch().await;
        // A signed-in start opens the playground; the account is one click away.
        app.wait_for("[data-testid=composer]").await;
        app.click("[data-testid=nav-account]").await;
        app.wait_for_text("[data-testid=account-name]", "Ada Lovelace")
            .await;
        assert_eq!(
            whoami_calls(&double).len(),
            1,
            "whoami must not be called at every start"
        );
        // The theme choice was kept too.
        let html_theme = app
            .client
            .execute("return document.documentElement.dataset.theme", vec![])
            .await
            .unwrap();
        assert_eq!(html_theme, "dark");

        // Sign out: back to the welcome screen, and after a restart too (the keyring forgot it).
        app.click("[data-testid=sign-out]").await;
        app.click("[data-testid=confirm-sign-out]").await;
        app.wait_for("[data-testid=token-input]").await;
        app.quit().await;
        let app = driver.launch().await;
        app.wait_for_text("#welcome-title", "Welcome to Switchboard")
            .await;
        app.quit().await;
        drop(driver);

        // No trace of the token anywhere on disk: data folder, logs, web view storage, caches.
        let data_files = Desktop::count_files(&desktop.data_dir());
        assert!(
            data_files >= 2,
            "expected settings and logs in the data folder, found {data_files} files"
        );
        let log = std::fs::read_to_string(desktop.data_dir().join("logs/switchboard.log"))
            .expect("the app writes a log in the data folder");
        assert!(log.contains("signed in as ada"), "log: {log}");
        let leaks = desktop.files_containing(tokens::FREE_TOKEN);
        assert!(leaks.is_empty(), "token found in {leaks:?}");
        // …while the (encrypted) keyring did hold something.
        assert!(desktop.home().join(".local/share/keyrings").exists());
        // Signing in spends nothing: the router was only asked for its (public) model list,
        // without the token.
        for r in double
            .requests()
            .iter()
            .filter(|r| r.target == Target::Router)
        {
            assert_eq!(
                r.path, "/router/v1/models",
                "signing in must not call a model"
            );
            assert_eq!(
                r.header("authorization"),
                None,
                "the model list needs no token"
            );
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tokens_get_their_own_message_and_keep_the_saved_one() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(900, 600, true).await;
        let app = driver.launch().await;

        // Empty, then not a token at all: refused before any network call.
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text("[data-testid=error]", "Paste your token first")
            .await;
        app.type_into("[data-testid=token-input]", "sk-this-is-not-hf")
            .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text("[data-testid=error]", "That isn’t a Hugging Face token")
            .await;
        assert!(whoami_calls(&double).is_empty());

        // A revoked token (401).
        app.type_into(
            "[data-testid=token-input]",
            "hf_revokedTokenZZZZZZZZZZZZZZZZZZ",
        )
        .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text(
            "[data-testid=error]",
            "Hugging Face didn’t accept this token",
        )
        .await;
        desktop.screenshot("welcome-401-900x600-light");

        // Sign in properly, as a PRO user with organisations.
        app.type_into("[data-testid=token-input]", tokens::PRO_TOKEN)
            .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text("[data-testid=account-name]", "Grace Hopper")
            .await;
        assert_eq!(app.text("[data-testid=account-plan]").await, "PRO");
        app.wait_for_text("[data-testid=orgs]", "Acme Research")
            .await;
        desktop.screenshot("account-900x600-light");

        // Replacing it with a revoked token fails and keeps the PRO token.
        app.click("[data-testid=replace-token]").await;
        app.type_into(
            "[data-testid=token-input]",
            "hf_revokedTokenZZZZZZZZZZZZZZZZZZ",
        )
        .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text(
            "[data-testid=error]",
            "Hugging Face didn’t accept this token",
        )
        .await;
        let last4 = &tokens::PRO_TOKEN[tokens::PRO_TOKEN.len() - 4..];
        assert_eq!(app.text("[data-testid=token-last4]").await, last4);

        // A Hub answering an HTML error page.
        double.push_fault(
            hf_double::Fault::html_page(502)
                .scope(hf_double::Scope::Whoami)
                .once(),
        );
        app.type_into("[data-testid=token-input]", tokens::FREE_TOKEN)
            .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text("[data-testid=error]", "Unexpected answer")
            .await;
        app.quit().await;

        // After a restart the PRO token is the one in the keyring.
        let app = driver.launch().await;
        app.click("[data-testid=nav-account]").await;
        app.wait_for_text("[data-testid=account-name]", "Grace Hopper")
            .await;
        assert_eq!(app.text("[data-testid=token-last4]").await, last4);
        app.quit().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_without_the_inference_permission_is_flagged() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (_double, _desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        app.type_into("[data-testid=token-input]", tokens::NO_INFERENCE_TOKEN)
            .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text(
            "[data-testid=inference-warning]",
            "can’t call Inference Providers",
        )
        .await;
        app.quit().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_keyring_the_token_is_kept_for_the_session_only() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (_double, desktop, driver) = rig(1280, 800, false).await;
        let app = driver.launch().await;

        app.wait_for_text("[data-testid=keyring-missing]", "keyring isn’t available")
            .await;
        desktop.screenshot("welcome-no-keyring");
        // Without ticking "this session only", signing in explains the problem and saves nothing.
        app.type_into("[data-testid=token-input]", tokens::FREE_TOKEN)
            .await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text("[data-testid=error]", "keyring isn’t available")
            .await;
        app.click("[data-testid=session-only] input").await;
        app.click("[data-testid=sign-in]").await;
        app.wait_for_text("[data-testid=account-name]", "Ada Lovelace")
            .await;
        app.wait_for_text("[data-testid=token-storage]", "this session only")
            .await;
        app.quit().await;

        // Next start: signed out, and the token was never written anywhere.
        let app = driver.launch().await;
        app.wait_for_text("#welcome-title", "Welcome to Switchboard")
            .await;
        app.quit().await;
        drop(driver);
        assert!(desktop.files_containing(tokens::FREE_TOKEN).is_empty());
    })
    .await;
}
