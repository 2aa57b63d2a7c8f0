//! Speech on the real app: a short WAV the test writes itself (a RIFF header and PCM samples),
//! chosen in the (test-answered) file dialog and transcribed by fal through the router, with its
//! segment and times, and compared with HF Inference's word by word; the transcript exported as
//! text; a text-to-speech result from Replicate
//! played (the media element reports it playing) and saved; both shown again after a restart,
//! and brought back into a fresh data folder by a full backup. Screenshots light and dark.

use base64::Engine as _;
use hf_double::{speech::tts_wav, tokens, Target};

use crate::harness::{rig_with, within_time_limit, App, SERIAL};
use crate::playground::sign_in;

const TRANSCRIPT: &str = "A man said to the universe, Sir, I exist.";
const SPOKEN: &str = "Hello from Switchboard";

/// One second of a 330 Hz tone, 16 kHz mono 16-bit PCM, as a WAV file.
fn test_wav() -> Vec<u8> {
    let rate = 16_000u32;
    let samples: Vec<i16> = (0..rate)
        .map(|i| {
            ((f64::from(i) / f64::from(rate) * 330.0 * std::f64::consts::TAU).sin() * 7000.0) as i16
        })
        .collect();
    let data_len = (samples.len() * 2) as u32;
    let mut b = Vec::new();
    b.extend_from_slice(b"RIFF");
    b.extend_from_slice(&(36 + data_len).to_le_bytes());
    b.extend_from_slice(b"WAVE");
    b.extend_from_slice(b"fmt ");
    b.extend_from_slice(&16u32.to_le_bytes()); // chunk size
    b.extend_from_slice(&1u16.to_le_bytes()); // PCM
    b.extend_from_slice(&1u16.to_le_bytes()); // mono
    b.extend_from_slice(&rate.to_le_bytes());
    b.extend_from_slice(&(rate * 2).to_le_bytes()); // bytes per second
    b.extend_from_slice(&2u16.to_le_bytes()); // block align
    b.extend_from_slice(&16u16.to_le_bytes()); // bits per sample
    b.extend_from_slice(b"data");
    b.extend_from_slice(&data_len.to_le_bytes());
    for s in samples {
        b.extend_from_slice(&s.to_le_bytes());
    }
    b
}

async fn open_speech(app: &App) {
    app.click("[data-testid=task-speech]").await;
    app.wait_for("[data-testid=speech-mode-stt]").await;
}

async fn check_transcript(app: &App) {
    app.wait_for_text("[data-testid=speech-transcript]", TRANSCRIPT)
        .await;
    app.wait_for_text("[data-testid=speech-segment]", "0:00.0 → 0:04.1")
        .await;
}

async fn check_spoken(app: &App) {
    app.click("[data-testid=speech-mode-tts]").await;
    app.wait_for_text("[data-testid=speech-spoken]", SPOKEN)
        .await;
    app.wait_for("[data-testid=speech-audio]").await;
}

/// Clicks Play and waits for the media element to say it plays.
async fn check_plays(app: &App) {
    app.click("[data-testid=speech-play]").await;
    app.wait_js("the audio element did not start playing",
        "const a = document.querySelector('[data-testid=speech-audio]'); return !!a && !a.paused && a.currentTime > 0 && !a.error;",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wav_becomes_a_transcript_and_text_becomes_speech_played_saved_and_kept() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let dir = tempfile::tempdir().unwrap();
        // The dialogs answer this one path: first the WAV to transcribe, then the files saved.
        let file = dir.path().join("hello.wav");
        let wav = test_wav();
        std::fs::write(&file, &wav).unwrap();
        let file_s = file.display().to_string();
        let env = [
            ("SWITCHBOARD_E2E_DIALOG_FILE", file_s.as_str()),
            ("SWITCHBOARD_IMAGE_POLL_MS", "50"),
        ];
        let (double, desktop, driver) = rig_with(1280, 860, true, &env).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        open_speech(&app).await;
        app.wait_for_text("[data-testid=speech-route]", "Through Hugging Face")
            .await;

        // A dropped file is checked by its content, not its name; a real WAV dropped is kept.
        let dropped = |name: &str, bytes: &[u8]| {
            format!(
                "const bin = atob({b64}); const a = new Uint8Array(bin.length); for (let i = 0; i < bin.length; i++) a[i] = bin.charCodeAt(i);\
                 const dt = new DataTransfer(); dt.items.add(new File([a], {name}, {{type: 'audio/wav'}}));\
                 document.querySelector('[data-testid=speech-drop]').dispatchEvent(new DragEvent('drop', {{dataTransfer: dt, bubbles: true, cancelable: true}}));",
                b64 = serde_json::to_string(&base64::engine::general_purpose::STANDARD.encode(bytes)).unwrap(),
                name = serde_json::to_string(name).unwrap(),
            )
        };
        app.js(&dropped("fake.wav", b"<html>not a recording</html>")).await;
        app.wait_for_text("[data-testid=speech-file-error]", "not an audio file")
            .await;
        assert!(!app.exists("[data-testid=speech-audio-chosen]").await);
        app.js(&dropped("dropped.wav", &wav)).await;
        app.wait_for_text("[data-testid=speech-audio-chosen]", "dropped.wav")
            .await;
        app.wait_for("[data-testid=speech-audio-preview]").await;
        app.click("[data-testid=speech-audio-remove]").await;

        // Speech to text: the WAV chosen in the dialog, sent to fal's queue through the router.
        app.click("[data-testid=speech-pick]").await;
        app.wait_for_text("[data-testid=speech-audio-chosen]", "hello.wav")
            .await;
        app.wait_for_text("[data-testid=speech-audio-chosen]", "audio/wav")
            .await;
        // Compare: the same audio to HF Inference and fal at once, their words side by side.
        app.click("[data-testid=speech-compare-run]:not([disabled])")
            .await;
        app.wait_for_text(
            "[data-testid=speech-compare-verdict]",
            "agree word for word",
        )
        .await;
        app.wait_for_text("[data-testid=speech-compare-side][data-provider=fal-ai]", TRANSCRIPT)
            .await;
        app.wait_for_text(
            "[data-testid=speech-compare-side][data-provider=hf-inference]",
            "a man said to the universe sir i exist",
        )
        .await;
        app.settle().await;
        desktop.screenshot("speech-compare-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("speech-compare-dark");
        app.click("[data-testid=theme-light]").await;

        double.clear_requests();
        app.click("[data-testid=speech-run]:not([disabled])").await;
        check_transcript(&app).await;
        assert!(!app.exists("[data-testid=speech-compare]").await);
        app.wait_for_text("[data-testid=speech-cost]", "cost unknown")
            .await;
        let posts = double
            .requests()
            .into_iter()
            .filter(|r| r.method == "POST" && r.target == Target::Router)
            .collect::<Vec<_>>();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].path, "/router/fal-ai/fal-ai/whisper");
        assert_eq!(posts[0].credential(), Some(tokens::PRO_TOKEN));
        let sent = posts[0].json().unwrap()["audio_url"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(
            sent,
            format!(
                "data:audio/wav;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(&wav)
            ),
            "the very bytes of the WAV"
        );
        app.settle().await;
        desktop.screenshot("speech-stt-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("speech-stt-dark");
        app.click("[data-testid=theme-light]").await;

        // Export the transcript as text, with its times.
        app.click("[data-testid=speech-export-txt]").await;
        app.wait_for_text("[data-testid=speech-saved]", "Saved to")
            .await;
        assert_eq!(
            std::fs::read_to_string(&file).unwrap(),
            format!("[0:00.0 → 0:04.1] {TRANSCRIPT}\n")
        );

        // Text to speech with Replicate: polled, downloaded, played, saved.
        app.click("[data-testid=speech-mode-tts]").await;
        app.type_into("[data-testid=speech-text]", SPOKEN).await;
        app.click("[data-testid=speech-run]:not([disabled])").await;
        app.wait_for_text("[data-testid=speech-spoken]", SPOKEN)
            .await;
        app.wait_for("[data-testid=speech-audio]").await;
        check_plays(&app).await;
        app.click("[data-testid=speech-save]").await;
        app.wait_for_text("[data-testid=speech-saved]", "Saved to")
            .await;
        assert_eq!(
            std::fs::read(&file).unwrap(),
            tts_wav(),
            "the audio made, as made"
        );
        let post = double
            .requests()
            .into_iter()
            .find(|r| r.method == "POST" && r.path.ends_with("/replicate/v1/predictions"))
            .expect("the prediction");
        assert_eq!(post.json().unwrap()["input"]["text"], SPOKEN);
        app.settle().await;
        desktop.screenshot("speech-tts-light");
        app.click("[data-testid=theme-dark]").await;
        app.settle().await;
        desktop.screenshot("speech-tts-dark");
        app.click("[data-testid=theme-light]").await;

        // A full backup from the history's footer (the dialog answers the same path).
        app.click("[data-testid=task-chat]").await;
        app.click("[data-testid=history-export-all]").await;
        app.wait_for_text("[data-testid=history-status]", "Saved to")
            .await;
        let backup = std::fs::read_to_string(&file).unwrap();
        assert!(backup.contains(TRANSCRIPT) && backup.contains(SPOKEN));
        app.quit().await;

        // Restart: both are kept and shown again without asking anyone.
        double.clear_requests();
        let app = driver.launch().await;
        app.click("[data-testid=nav-playground]").await;
        open_speech(&app).await;
        check_transcript(&app).await;
        // The kept runs are found by their words.
        app.type_into("[data-testid=speech-filter]", "nothing like this").await;
        assert!(!app.exists("[data-testid=speech-kept-item]").await);
        app.type_into("[data-testid=speech-filter]", "universe whisper").await;
        app.wait_for_text("[data-testid=speech-kept-item]", "hello.wav").await;
        check_spoken(&app).await;
        check_plays(&app).await;
        assert!(double.requests().iter().all(|r| r.method != "POST"));
        app.quit().await;
        drop(driver);
        drop(desktop);
        drop(double);

        // Another computer: a fresh data folder; the import brings both back, with the audio.
        let (_double2, desktop2, driver2) = rig_with(1280, 860, true, &env).await;
        let app = driver2.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        app.click("[data-testid=history-import]").await;
        app.wait_for_text("[data-testid=history-status]", "4 speech runs")
            .await;
        open_speech(&app).await;
        check_transcript(&app).await;
        check_spoken(&app).await;
        check_plays(&app).await;
        let media = desktop2.data_dir().join("media");
        assert_eq!(std::fs::read_dir(&media).unwrap().count(), 2);
        // Deleting the speech run deletes its audio; the transcript's stays.
        app.click("[data-testid=speech-delete]").await;
        app.wait_js("the deleted run is still shown",
            "return !document.querySelector('[data-testid=speech-spoken]');",
        )
        .await;
        assert_eq!(std::fs::read_dir(&media).unwrap().count(), 1);
        app.quit().await;
    })
    .await;
}
