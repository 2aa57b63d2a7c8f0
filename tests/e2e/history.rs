//! The offline history on the real app: saved as it happens, kept across restarts and crashes,
//! searchable, exportable and importable, and usable with no network.

use std::time::Duration;

use hf_double::{tokens, Fault, Scope};

use switchboard_testkit::procs::{kill_9, pid_of};

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::{choose, send, sign_in, wait_answer, LAST_ANSWER, MODEL};

const RARE_WORD: &str = "zanzibarian";

/// Opens the newest conversation, once the sidebar lists it with `title`.
async fn open_first_conversation(app: &App, title: &str) {
    app.wait_for_text("[data-testid=history-item]", title).await;
    app.click("[data-testid=history-item]").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_survives_restart_and_kill_is_searchable_and_exports_exactly() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let dialog = tempfile::tempdir().unwrap();
        let file = dialog.path().join("export.json");
        let file_env = file.to_string_lossy().to_string();
        let (double, desktop, driver) = rig_with(
            1280,
            800,
            true,
            &[("SWITCHBOARD_E2E_DIALOG_FILE", &file_env)],
        )
        .await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        choose(&app, MODEL, Some("together")).await;

        // 1. A conversation whose answer hides a rare word in its middle.
        let long = format!(
            "{}The {RARE_WORD} archipelago is made up. {}",
            "Islands are interesting. ".repeat(40),
            "Seas are wide. ".repeat(40)
        );
        double.push_fault(Fault::answer(long.clone()).scope(Scope::Chat).once());
        send(&app, "Tell me about islands").await;
        wait_answer(&app, "complete").await;
        app.wait_for_text("[data-testid=history-item]", "Tell me about islands")
            .await;

        // 2. A second one, killed mid-stream.
        app.click("[data-testid=new-chat]").await;
        double.push_fault(Fault::slow_stream(300).scope(Scope::Chat).once());
        send(&app, "Stream slowly please").await;
        app.wait_for_text(&format!("{LAST_ANSWER} [data-testid=answer]"), " ")
            .await;
        // Let at least one half-second save happen after text arrived.
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let shown = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        let pid = pid_of(&app).await;
        kill_9(pid);
        drop(app);

        // Restart: both conversations are there; the killed answer is partial, marked
        // interrupted, and can be continued.
        let app = driver.launch().await;
        app.wait_for_text("[data-testid=history-item]", "Stream slowly please")
            .await;
        app.click("[data-testid=history-item]").await;
        wait_answer(&app, "interrupted").await;
        app.wait_for(&format!("{LAST_ANSWER} [data-testid=interrupted]"))
            .await;
        let saved = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        assert!(!saved.trim().is_empty(), "the partial answer was saved");
        assert!(
            shown.trim().starts_with(saved.trim()) || saved.trim().starts_with(shown.trim()),
            "saved {saved:?} vs shown {shown:?}"
        );
        send(&app, "Please go on").await;
        wait_answer(&app, "complete").await;
        let body = double
            .requests()
            .into_iter()
            .rfind(|r| r.path.ends_with("/chat/completions"))
            .unwrap()
            .json()
            .unwrap();
        let sent: Vec<&str> = body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap())
            .collect();
        assert_eq!(sent.len(), 3, "{sent:?}");
        assert_eq!(sent[0], "Stream slowly please");
        assert_eq!(sent[2], "Please go on");
        desktop.screenshot("history-after-kill");

        // 3. Search finds the rare word in the middle of the old answer.
        app.type_into("[data-testid=history-search]", "zanzib")
            .await;
        let hit = app
            .wait_for_text("[data-testid=search-result]", "archipelago")
            .await;
        assert!(hit.contains("Tell me about islands"), "{hit}");
        let marked = app.text("[data-testid=search-result] mark").await;
        assert_eq!(marked.to_lowercase(), RARE_WORD);
        desktop.screenshot("history-search");
        app.click("[data-testid=search-result]").await;
        app.wait_for_text(&format!("{LAST_ANSWER} [data-testid=answer]"), RARE_WORD)
            .await;

        // 4. Export this conversation as JSON (the dialog answers `file`). Escape leaves search.
        app.wait_for("[data-testid=history-search]")
            .await
            .send_keys("\u{E00C}")
            .await
            .unwrap();
        app.click("[data-testid=history-item][aria-current] [data-testid=history-menu]")
            .await;
        app.click("[data-testid=history-export-json]").await;
        app.wait_for_text("[data-testid=history-status]", "Saved to")
            .await;
        let exported = std::fs::read_to_string(&file).unwrap();
        assert!(exported.contains(RARE_WORD));
        assert!(!exported.contains(tokens::PRO_TOKEN));
        app.quit().await;

        // 5. No network: the double goes away; the history is fully usable.
        drop(driver);
        drop(desktop);
        drop(double);
        let (double2, desktop2, driver2) = rig_with(
            1280,
            800,
            true,
            &[("SWITCHBOARD_E2E_DIALOG_FILE", &file_env)],
        )
        .await;
        let app = driver2.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        // A fresh data folder: import the export, then everything works offline.
        app.click("[data-testid=history-import]").await;
        app.wait_for_text("[data-testid=history-status]", "Imported 1")
            .await;
        app.wait_for_text("[data-testid=history-item]", "Tell me about islands")
            .await;
        std::fs::remove_file(&file).unwrap();
        app.quit().await;
        drop(driver2);
        drop(double2);

        let offline = hf_double::HfDouble::start(&hf_double::default_fixtures_dir())
            .await
            .unwrap();
        let data = desktop2.data_dir();
        let driver3 = crate::harness::Driver::start_with(
            &desktop2,
            &offline,
            &[("SWITCHBOARD_E2E_DIALOG_FILE", &file_env)],
        );
        drop(offline); // Nothing answers at those addresses any more.
        let app = driver3.launch().await;
        open_first_conversation(&app, "Tell me about islands").await;
        app.wait_for_text(&format!("{LAST_ANSWER} [data-testid=answer]"), RARE_WORD)
            .await;
        app.type_into("[data-testid=history-search]", "archipel")
            .await;
        app.wait_for_text("[data-testid=search-result]", "archipelago")
            .await;
        desktop2.screenshot("history-offline");
        // Re-export: the same conversation, exactly.
        app.wait_for("[data-testid=history-search]")
            .await
            .send_keys("\u{E00C}")
            .await
            .unwrap();
        app.click("[data-testid=history-item] [data-testid=history-menu]")
            .await;
        app.click("[data-testid=history-export-json]").await;
        app.wait_for_text("[data-testid=history-status]", "Saved to")
            .await;
        let again = std::fs::read_to_string(&file).unwrap();
        let conv = |s: &str| {
            serde_json::from_str::<serde_json::Value>(s).unwrap()["conversations"].clone()
        };
        assert_eq!(conv(&again), conv(&exported), "the round trip is exact");
        assert!(data.join("history.sqlite3").exists());
        app.quit().await;
    })
    .await;
}
