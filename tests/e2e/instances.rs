//! One instance per data folder: a second launch on the same data folder shows the running
//! window and exits, without opening a window of its own or touching the data folder (two
//! instances would mark each other's live answers "interrupted" and overwrite the settings).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use hf_double::tokens;

use crate::harness::{app_binary, rig, wait_until, within_time_limit, SERIAL, UI_TIMEOUT};
use crate::playground::sign_in;

/// Every file of the data folder but the logs, with its size and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut files = BTreeMap::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for entry in std::fs::read_dir(&d).unwrap().flatten() {
            let path = entry.path();
            let meta = entry.metadata().unwrap();
            if meta.is_dir() {
                if path.file_name().is_some_and(|n| n != "logs") {
                    todo.push(path);
                }
            } else {
                files.insert(path, (meta.len(), meta.modified().unwrap()));
            }
        }
    }
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_launch_on_the_same_data_folder_shows_the_running_window_and_exits() {
    let _serial = SERIAL.lock().await;
    within_time_limit(async {
        let (double, desktop, driver) = rig(1280, 800, true).await;
        let app = driver.launch().await;
        sign_in(&app, tokens::PRO_TOKEN).await;
        let data = desktop.data_dir();
        // Once the running instance has written what signing in writes (settings, catalog),
        // the data folder stays as it is.
        app.wait_for("[data-testid=model-picker]:not([disabled])")
            .await;
        let mut before = snapshot(&data);
        wait_until("the data folder to settle", UI_TIMEOUT, || {
            std::thread::sleep(Duration::from_millis(300));
            let now = snapshot(&data);
            std::mem::replace(&mut before, now) == before
        });
        assert!(
            before.keys().any(|p| p.ends_with("settings.json")),
            "{before:?}"
        );

        // The second launch: the same app, environment and data folder.
        let mut cmd = Command::new(app_binary());
        desktop.env(&mut cmd);
        cmd.env("SWITCHBOARD_HUB_URL", double.hub_url())
            .env("SWITCHBOARD_ROUTER_URL", double.router_url())
            .env(
                "SWITCHBOARD_PROVIDER_BASE_URL",
                double.provider_base_template(),
            )
            .env("SWITCHBOARD_DATA_DIR", &data)
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut second = cmd.spawn().expect("start a second instance");
        let started = Instant::now();
        let status = loop {
            if let Some(status) = second.try_wait().unwrap() {
                break Some(status);
            }
            if started.elapsed() > UI_TIMEOUT {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let Some(status) = status else {
            let _ = second.kill();
            let _ = second.wait();
            panic!("the second instance kept running (it opened a window of its own)");
        };
        assert!(status.success(), "the second instance failed: {status}");

        // The running instance was asked to show its window, and is still the one window.
        let log = data.join("logs").join("switchboard.log");
        wait_until(
            "the running instance to hear of the launch",
            UI_TIMEOUT,
            || {
                std::fs::read_to_string(&log)
                    .is_ok_and(|l| l.contains("a second launch: showing this window instead"))
            },
        );
        // Nothing in the data folder was touched by the second launch. Compared before the
        // running window is used again: opening Account asks Hugging Face for the usage, and
        // the running instance caches the answer in settings.json (a write of its own, which
        // once failed this check when it came after the click).
        assert_eq!(snapshot(&data), before);
        assert_eq!(app.client.windows().await.unwrap().len(), 1);
        app.click("[data-testid=nav-account]").await;
        app.wait_for("[data-testid=account-name]").await;
        app.quit().await;
    })
    .await;
}
