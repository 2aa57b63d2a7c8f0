//! A running answer belongs to the app, not to the screen that started it: the user starts a
//! long answer (in the playground, then in a compare round), looks at Billing and Providers
//! while it streams, and comes back. The answer went on the whole time, is shown whole, is in
//! the history, and the ledger has exactly one row for each answer.

use std::path::Path;

use hf_double::{tokens, Fault, HfDouble, Scope};

use crate::harness::{rig, within_time_limit, App, SERIAL};
use crate::playground::{choose, send, sign_in, wait_answer, LAST_ANSWER, MODEL};

/// Pieces of the double's long answer, and their delay: about 6 s of streaming.
const PIECES: usize = 150;
const DELAY_US: u64 = 40_000;

fn long_answer() -> String {
    (0..PIECES).map(hf_double::sse::filler_piece).collect()
}

/// Glances at the other screens while something streams, and comes back.
async fn look_elsewhere(app: &App) {
    app.click("[data-testid=nav-billing]").await;
    app.wait_for("[data-testid=credits-meter]").await;
    app.click("[data-testid=nav-providers]").await;
    app.wait_for("[data-testid=providers-enabled-count]").await;
}

/// No answer's connection was dropped by the app, and every one ran to its end.
fn streams_ran_to_the_end(double: &HfDouble, expected: usize) {
    let outcomes = double.stream_outcomes();
    assert_eq!(outcomes.len(), expected, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|o| o.completed && !o.client_disconnected),
        "an answer was stopped: {outcomes:?}"
    );
}

/// (content, status) of the saved answers, oldest first, and the ledger's (kind, status) rows.
type Saved = (Vec<(String, String)>, Vec<(String, String)>);

fn saved(data_dir: &Path) -> Saved {
    let db = rusqlite::Connection::open_with_flags(
        data_dir.join("history.sqlite3"),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )
    .unwrap();
    let answers = db
        .prepare("SELECT content, status FROM messages WHERE role = 'assistant' ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let calls = db
        .prepare("SELECT kind, status FROM calls ORDER BY id")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    (answers, calls)
}

fn pane(i: usize) -> String {
    format!("[data-testid=compare-pane][data-index=\"{i}\"]")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn answers_keep_streaming_while_the_user_looks_at_other_screens() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        choose(&app, MODEL, None).await;
        let expected = long_answer();

        // The playground: a long answer, then Billing and Providers while it streams.
        double.push_fault(
            Fault::long_stream(PIECES, DELAY_US)
                .scope(Scope::Chat)
                .once(),
        );
        send(&app, "Tell me a long story").await;
        app.wait_for(&format!("{LAST_ANSWER}[data-status=streaming]"))
            .await;
        look_elsewhere(&app).await;
        app.click("[data-testid=nav-playground]").await;
        // Back: the same conversation, the answer live or already done, then whole.
        wait_answer(&app, "complete").await;
        let shown = app
            .text(&format!("{LAST_ANSWER} [data-testid=answer]"))
            .await;
        assert_eq!(shown.trim(), expected.trim());
        streams_ran_to_the_end(&double, 1);
        let (answers, calls) = saved(&desktop.data_dir());
        assert_eq!(answers, vec![(expected.clone(), "complete".to_string())]);
        assert_eq!(calls, vec![("chat".to_string(), "complete".to_string())]);

        // A compare round of two panes, left for the same screens while it streams.
        app.click("[data-testid=nav-compare]").await;
        app.click("[data-testid=preset-all-providers]:not([disabled])")
            .await;
        app.wait_for(&pane(1)).await;
        while app.exists(&pane(2)).await {
            app.click(&format!("{} [data-testid=pane-remove]", pane(2)))
                .await;
        }
        double.push_fault(
            Fault::long_stream(PIECES, DELAY_US)
                .scope(Scope::Chat)
                .times(2),
        );
        app.type_into("[data-testid=compare-composer]", "Both of you, please")
            .await;
        app.click("[data-testid=compare-send]").await;
        app.wait_for(&format!("{}[data-status=streaming]", pane(0)))
            .await;
        desktop.screenshot("background-compare-streaming");
        look_elsewhere(&app).await;
        app.click("[data-testid=nav-compare]").await;
        for i in 0..2 {
            app.wait_for(&format!("{}[data-status=complete]", pane(i)))
                .await;
            let shown = app.text(&format!("{} [data-testid=answer]", pane(i))).await;
            assert_eq!(shown.trim(), expected.trim(), "pane {i}");
        }
        streams_ran_to_the_end(&double, 3);
        let (answers, calls) = saved(&desktop.data_dir());
        assert_eq!(answers.len(), 3, "{answers:?}");
        assert!(answers
            .iter()
            .all(|(text, status)| *text == expected && status == "complete"));
        assert_eq!(
            calls,
            vec![
                ("chat".to_string(), "complete".to_string()),
                ("compare".to_string(), "complete".to_string()),
                ("compare".to_string(), "complete".to_string()),
            ]
        );
        app.quit().await;
    })
    .await;
}
