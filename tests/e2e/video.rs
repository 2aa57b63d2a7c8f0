//! Video on the real app: a text-to-video job on Novita through the router, with its progress,
//! the time left as the provider estimates it and the elapsed time, the video played in the
//! app; an image-to-video job on fal from a picture chosen in the (test-answered) dialog, the
//! app killed with SIGKILL while fal's queue holds it, and the restarted app resumes the job
//! (no second request) and shows the video; two providers compared side by side; Save as…; a
//! full backup brought into a fresh data folder. Screenshots light and dark.

use base64::Engine as _;
use hf_double::{tokens, video, Fault, Target};
use switchboard_testkit::procs::{kill_9, pid_of};

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::sign_in;

/// A 1×1 PNG, the start picture of image-to-video.
const START_PNG: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==";
const T2V_PROMPT: &str = "A paper boat drifting down a rainy street";
const I2V_PROMPT: &str = "The lighthouse beam sweeps across the bay";
const CARD: &str = "[data-testid=video-card]";

/// Sets the prompt as typing would (an `input` event).
async fn prompt(app: &App, text: &str) {
    let script = format!(
        "const t = document.querySelector('[data-testid=video-prompt]'); t.value = {p}; t.dispatchEvent(new Event('input', {{bubbles: true}})); return t.value;",
        p = serde_json::to_string(text).unwrap()
    );
    assert_eq!(app.js(&script).await, text);
}

async fn open_video(app: &App) {
    app.click("[data-testid=task-video]").await;
    app.wait_for(&format!(
        "[data-testid=video-model] option[value=\"{}\"]",
        video::T2V_MODEL
    ))
    .await;
}

/// The card of `prompt` has ended complete, its video plays in the app, and its file on disk
/// is the double's video. Returns the file's name.
async fn plays(app: &App, data_dir: &std::path::Path, scope: &str, prompt: &str) -> String {
    let card = format!("{scope} {CARD}[data-status=complete]");
    app.wait_for_text(&card, prompt).await;
    let player = format!("{card} [data-testid=video-player]");
    let el = app.wait_for(&player).await;
    let file = el
        .attr("data-file")
        .await
        .unwrap()
        .or(app.wait_for(&card).await.attr("data-file").await.unwrap())
        .unwrap_or_default();
    assert_eq!(
        std::fs::read(data_dir.join("images").join(&file)).unwrap(),
        video::SAMPLE_WEBM,
        "the video kept is the one the provider made ({file})"
    );
    // The player has the video (a data: URL, no remote origin) and plays it.
    app.wait_js("the video element has no source",
        &format!("const v = document.querySelector('{player}'); return !!v && (v.currentSrc || v.src).startsWith('data:video/webm;base64,');"),
    )
    .await;
    app.js(&format!("const v = document.querySelector('{player}'); v.muted = true; v.play().catch(() => {{}}); return true;"),
    )
    .await;
    app.wait_js("the video element did not start playing",
        &format!("const v = document.querySelector('{player}'); return !v.paused && v.currentTime > 0 && !v.error && v.videoWidth === 160;"),
    )
    .await;
    assert_eq!(
        app.js(&format!("return document.querySelector('{player}').loop;"))
            .await,
        serde_json::json!(true),
        "the video loops"
    );
    file
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_video_is_made_played_survives_a_kill_mid_job_and_a_backup() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let dir = tempfile::tempdir().unwrap();
        // The dialogs answer this one path: the start picture first, then the files saved.
        let file = dir.path().join("start.png");
        std::fs::write(
            &file,
            base64::engine::general_purpose::STANDARD
                .decode(START_PNG)
                .unwrap(),
        )
        .unwrap();
        let file_s = file.display().to_string();
        let env = [
            ("SWITCHBOARD_E2E_DIALOG_FILE", file_s.as_str()),
            ("SWITCHBOARD_IMAGE_POLL_MS", "300"),
        ];
        let (double, desktop, driver) = rig_with(1280, 860, true, &env).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        open_video(&app).await;
        app.wait_for_text("[data-testid=video-route]", "Through Hugging Face")
            .await;

        // Text to video on Novita: its queue, its estimate of the time left, then the video.
        app.select("video-model", video::T2V_MODEL).await;
        app.select("video-provider", "novita").await;
        prompt(&app, T2V_PROMPT).await;
        app.click("[data-testid=video-generate]:not([disabled])")
            .await;
        app.wait_for_text("[data-testid=video-progress]", "elapsed")
            .await;
        app.wait_for_text("[data-testid=video-eta]", "provider")
            .await;
        let data = desktop.data_dir();
        plays(&app, &data, ".create .right", T2V_PROMPT).await;
        let post = double
            .requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.target == Target::Router)
            .expect("the task");
        assert_eq!(
            post.path,
            format!("/router/novita/v3/async/{}", video::NOVITA_T2V)
        );
        assert_eq!(post.credential(), Some(tokens::PRO_TOKEN));
        assert_eq!(post.json().unwrap()["prompt"], T2V_PROMPT);
        app.settle().await;
        desktop.screenshot("video-create-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("video-create-dark");
        app.click("[data-testid=theme-light]").await;

        // Compare: the same prompt on Together and WaveSpeed side by side, each its own job.
        app.click("[data-testid=video-compare]").await;
        app.select("video-pane-model-0", video::T2V_MODEL).await;
        app.select("video-pane-provider-0", "together").await;
        app.select("video-pane-model-1", video::T2V_MODEL).await;
        app.select("video-pane-provider-1", "wavespeed").await;
        app.click("[data-testid=video-compare-run]:not([disabled])")
            .await;
        for i in 0..2 {
            plays(
                &app,
                &data,
                &format!("[data-testid=video-pane-{i}]"),
                T2V_PROMPT,
            )
            .await;
        }
        app.wait_for_text(
            "[data-testid=video-pane-0] [data-testid=video-cost]",
            "Together AI reports $0.35 (the provider's figure)",
        )
        .await;
        app.settle().await;
        desktop.screenshot("video-compare-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("video-compare-dark");
        app.click("[data-testid=theme-light]").await;
        app.click("[data-testid=video-create]").await;

        // Image to video on fal, from a picture chosen in the dialog; fal's queue holds it.
        app.click("[data-testid=video-mode-i2v]").await;
        app.select("video-model", video::I2V_MODEL).await;
        app.select("video-provider", "fal-ai").await;
        app.click("[data-testid=video-source-pick]").await;
        app.wait_for("[data-testid=video-source]").await;
        prompt(&app, I2V_PROMPT).await;
        double.push_fault(Fault::job_stall());
        double.clear_requests();
        app.click("[data-testid=video-generate]:not([disabled])")
            .await;
        app.wait_for_text("[data-testid=video-progress-status]", "IN_QUEUE")
            .await;
        app.settle().await;
        desktop.screenshot("video-progress-light");
        let sent = double
            .requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.target == Target::Router)
            .expect("the queued request");
        assert_eq!(
            sent.json().unwrap()["image_url"],
            format!("data:image/png;base64,{START_PNG}"),
            "the very picture chosen"
        );

        // SIGKILL while the provider holds the job.
        let pid = pid_of(&app).await;
        kill_9(pid);
        drop(app);
        let posts = |d: &hf_double::HfDouble| {
            d.requests()
                .iter()
                .filter(|r| r.method == "POST" && r.path.contains(video::FAL_I2V))
                .count()
        };
        let posts_before = posts(&double);
        assert_eq!(posts_before, 1);
        double.clear_faults();

        // Restart: the job is polled again and the video arrives, without sending it again.
        let app = driver.launch().await;
        app.click("[data-testid=nav-playground]").await;
        open_video(&app).await;
        app.click("[data-testid=video-gallery]").await;
        let grid = "[data-testid=video-gallery-grid]";
        plays(&app, &data, grid, I2V_PROMPT).await;
        assert_eq!(posts(&double), posts_before, "resumed, not sent again");
        // The four videos are in the gallery; a search finds one by its words.
        app.wait_for_text(grid, T2V_PROMPT).await;
        app.type_into("[data-testid=video-gallery-search]", "lighthouse beam")
            .await;
        app.wait_js(
            "the search still lists both",
            &format!("return document.querySelectorAll('{grid} {CARD}').length === 1;"),
        )
        .await;
        app.settle().await;
        desktop.screenshot("video-gallery-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("video-gallery-dark");
        app.click("[data-testid=theme-light]").await;

        // Save as…: the file written is the video, as made.
        app.click(&format!("{grid} {CARD} [data-testid=video-save]"))
            .await;
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::fs::read(&file).unwrap_or_default() != video::SAMPLE_WEBM {
            assert!(
                std::time::Instant::now() < deadline,
                "Save as wrote another file"
            );
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }

        // A full backup from the history's footer (the dialog answers the same path).
        app.click("[data-testid=task-chat]").await;
        app.click("[data-testid=history-export-all]").await;
        app.wait_for_text("[data-testid=history-status]", "Saved to")
            .await;
        let backup = std::fs::read_to_string(&file).unwrap();
        assert!(backup.contains(T2V_PROMPT) && backup.contains(I2V_PROMPT));
        app.quit().await;
        drop(driver);
        drop(desktop);
        drop(double);

        // Another computer: a fresh data folder; the import brings both videos back.
        let (_double2, desktop2, driver2) = rig_with(1280, 860, true, &env).await;
        let app = driver2.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        app.click("[data-testid=history-import]").await;
        app.wait_for_text("[data-testid=history-status]", "and 4 videos")
            .await;
        open_video(&app).await;
        app.click("[data-testid=video-gallery]").await;
        plays(
            &app,
            &desktop2.data_dir(),
            "[data-testid=video-gallery-grid]",
            I2V_PROMPT,
        )
        .await;
        app.wait_for_text("[data-testid=video-gallery-grid]", T2V_PROMPT)
            .await;
        app.quit().await;
    })
    .await;
}
