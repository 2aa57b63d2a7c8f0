//! Crash loop on the real app: twenty times, the app is killed with SIGKILL at a random moment
//! while an answer streams and settings are being written, then started again. Every message
//! the window showed as sent is in the history, no setting is lost, and the database passes
//! SQLite's integrity check.

use std::collections::BTreeSet;
use std::time::Duration;

use hf_double::{tokens, Fault, Scope};
use serde_json::{json, Value};
use switchboard_testkit::procs::{kill_9, pid_of};

use crate::harness::{rig, within_time_limit, App, SERIAL};
use crate::playground::{choose, send, sign_in, MODEL};

const KILLS: usize = 20;

/// A small deterministic generator (xorshift64*): the moments vary, a failure can be replayed.
struct Moments(u64);

impl Moments {
    fn next_ms(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % below
    }
}

/// Calls a command from the page and waits for its answer (`null` if it failed).
async fn invoke(app: &App, cmd: &str, args: Value) -> Value {
    app.client
        .execute_async(
            "const [cmd, args, done] = arguments;\
             window.__TAURI_INTERNALS__.invoke(cmd, args).then(done, e => done(null));",
            vec![json!(cmd), args],
        )
        .await
        .unwrap()
}

/// Calls a command from the page without waiting for it.
async fn invoke_later(app: &App, cmd: &str, args: Value) {
    app.client
        .execute(
            "window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).catch(() => {});",
            vec![json!(cmd), args],
        )
        .await
        .unwrap();
}

/// `n` settings writes in a row, not waited for.
async fn burst(app: &App, n: u32) {
    app.client
        .execute(
            "for (let i = 0; i < arguments[0]; i++) \
               window.__TAURI_INTERNALS__.invoke('set_theme', { args: ['light', 'dark'][i % 2] }).catch(() => {});",
            vec![json!(n)],
        )
        .await
        .unwrap();
}

/// The user messages the window shows.
async fn shown_user_messages(app: &App) -> Vec<String> {
    let v = app
        .client
        .execute(
            "return [...document.querySelectorAll('[data-testid=user-text]')].map(e => e.textContent.trim());",
            vec![],
        )
        .await
        .unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap().to_string())
        .collect()
}

/// The settings that must survive: a custom endpoint, a budget, the signed-in account.
async fn check_settings(app: &App, round: usize) {
    let providers = invoke(
        app,
        "providers_get",
        json!({ "args": { "withKeys": false } }),
    )
    .await;
    let names: Vec<&str> = providers["endpoints"]
        .as_array()
        .unwrap_or_else(|| panic!("round {round}: no provider settings: {providers}"))
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Crash test gateway"],
        "round {round}: endpoints lost"
    );
    let credits = invoke(app, "credits_get", Value::Null).await;
    assert_eq!(
        credits["monthlyBudget"].as_f64(),
        Some(7.0),
        "round {round}: budget lost: {credits}"
    );
    let status = invoke(app, "auth_status", Value::Null).await;
    assert_eq!(status["signedIn"], json!(true), "round {round}: signed out");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_kills_lose_no_message_and_no_setting() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let mut app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        choose(&app, MODEL, Some("together")).await;
        let added = invoke(
            &app,
            "endpoint_add",
            json!({ "args": { "name": "Crash test gateway", "baseUrl": "http://127.0.0.1:9", "key": null } }),
        )
        .await;
        assert!(added.is_object(), "endpoint added: {added}");
        let credits = invoke(&app, "credits_get", Value::Null).await;
        let mut credits = credits.as_object().unwrap().clone();
        credits.insert("monthlyBudget".into(), json!(7.0));
        assert!(invoke(&app, "credits_set", json!({ "args": credits })).await.is_object());

        let seed = 0x5eed_cafe_u64;
        eprintln!("crash loop moments from seed {seed:#x}");
        let mut moments = Moments(seed);
        let mut sent: BTreeSet<String> = BTreeSet::new();
        for round in 0..KILLS {
            // Slow answers, so every kill lands while one streams.
            double.push_fault(Fault::slow_stream(100).scope(Scope::Chat).times(1));
            let text = format!("Crash round {round}, please answer slowly");
            send(&app, &text).await;
            app.wait_for_text("[data-testid=user-text]", &text).await;
            // Settings written while it streams: the theme, over and over, and the playground.
            let theme = ["light", "dark", "system"][round % 3];
            invoke_later(&app, "set_theme", json!({ "args": theme })).await;
            tokio::time::sleep(Duration::from_millis(moments.next_ms(1200))).await;
            // A burst of writes, so the kill is likely to land in the middle of one.
            burst(&app, 40).await;
            tokio::time::sleep(Duration::from_millis(moments.next_ms(40))).await;
            sent.extend(shown_user_messages(&app).await);
            let pid = pid_of(&app).await;
            kill_9(pid);
            drop(app);

            app = driver.launch().await;
            app.wait_for("[data-testid=model-picker]").await;
            check_settings(&app, round).await;
            let theme = invoke(&app, "get_settings", Value::Null).await;
            assert!(
                ["light", "dark", "system"].contains(&theme["theme"].as_str().unwrap_or("")),
                "round {round}: theme {theme}"
            );
            // A new conversation for the next round.
            app.click("[data-testid=new-chat]").await;
        }

        // Every message the window showed as sent is in the history.
        let db = rusqlite::Connection::open(desktop.data_dir().join("history.sqlite3")).unwrap();
        let saved: BTreeSet<String> = db
            .prepare("SELECT content FROM messages WHERE role = 'user'")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        let missing: Vec<&String> = sent.difference(&saved).collect();
        assert!(missing.is_empty(), "shown as sent but not saved: {missing:?}");
        assert!(sent.len() >= KILLS, "{sent:?}");
        let check: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(check, "ok");
        // No answer is left marked as streaming: each was recovered as interrupted.
        let streaming: i64 = db
            .query_row(
                "SELECT count(*) FROM messages WHERE status = 'streaming'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(streaming, 0, "answers still marked streaming after a restart");
        desktop.screenshot("crash-loop-after");
        app.quit().await;
    })
    .await;
}
