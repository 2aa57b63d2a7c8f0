//! The background reconciliation of billed costs: once at start-up (for the last 30 days'
//! conversations) and again after calls finish. Hugging Face settles a session's cost minutes
//! after the call, so after a call it keeps asking, at the service's own pace (at most once a
//! minute, longer after a 429), for [`SETTLE_WINDOW`], then sleeps until the next call. It runs on
//! Tauri's async runtime, never blocks start-up or the window, and when offline or signed out it
//! logs one line and waits for the next nudge.

use std::sync::Arc;
use std::time::Duration;

use tauri::{AppHandle, Manager, Runtime};
use tokio::sync::Notify;
use tokio::time::{sleep, timeout, Instant};

use switchboard_core::error::ErrorCode;
use switchboard_core::service::Services;

/// How long after start-up the first reconciliation waits (the window comes first).
const START_DELAY: Duration = Duration::from_secs(5);
/// Calls finishing within this time count as one burst.
const DEBOUNCE: Duration = Duration::from_secs(10);
/// How long after the last call costs are still expected to settle.
const SETTLE_WINDOW: Duration = Duration::from_secs(15 * 60);

/// In a build with the test hooks ([`crate::HOOKS`]), milliseconds that replace both the least
/// time between two questions and the debounce, so an end-to-end test sees a cost settle in
/// seconds rather than minutes. Read by no other build.
pub const ENV_E2E_PACE_MS: &str = "SWITCHBOARD_E2E_RECONCILE_MS";

/// The test hooks' pace, if set (always `None` without them).
fn e2e_pace(read: impl Fn(&str) -> Option<String>) -> Option<Duration> {
    if !crate::HOOKS {
        return None;
    }
    read(ENV_E2E_PACE_MS)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map(Duration::from_millis)
}

/// Wakes the background reconciliation: managed as app state.
#[derive(Debug, Default, Clone)]
pub struct Reconciler {
    nudge: Arc<Notify>,
}

impl Reconciler {
    /// A call finished: reconcile soon (debounced).
    pub fn call_finished(&self) {
        self.nudge.notify_one();
    }
}

/// Starts the loop on Tauri's async runtime and returns at once.
pub fn start<R: Runtime>(app: &AppHandle<R>) {
    let reconciler = Reconciler::default();
    app.manage(reconciler.clone());
    let pace = e2e_pace(|k| std::env::var(k).ok());
    if let Some(p) = pace {
        app.state::<Services>().usage.set_min_interval(p);
    }
    let debounce = pace.unwrap_or(DEBOUNCE);
    let app = app.clone();
    tauri::async_runtime::spawn(async move {
        sleep(START_DELAY).await;
        run(&app, &reconciler, debounce).await;
    });
}

async fn run<R: Runtime>(app: &AppHandle<R>, r: &Reconciler, debounce: Duration) {
    // Until then, keep asking (the service throttles); then wait for the next call.
    let mut settle_until = Instant::now() + SETTLE_WINDOW;
    loop {
        let pace = app.state::<Services>().usage.min_interval();
        let keep_on = once(app).await && Instant::now() < settle_until;
        let nudged = if keep_on {
            timeout(pace, r.nudge.notified()).await.is_ok()
        } else {
            r.nudge.notified().await;
            true
        };
        if nudged {
            // Let a burst of calls finish before asking.
            sleep(debounce).await;
            settle_until = Instant::now() + SETTLE_WINDOW;
        }
    }
}

/// One reconciliation; false when there is no point in going on until the next call (offline,
/// signed out, no billing access).
async fn once<R: Runtime>(app: &AppHandle<R>) -> bool {
    match app.state::<Services>().reconcile_sessions().await {
        Ok(report) => {
            if report.updated > 0 {
                log::info!("billed costs: {} conversation(s) updated", report.updated);
            }
            true
        }
        Err(e) => {
            log::info!("billed costs: not now ({:?})", e.code);
            !matches!(
                e.code,
                ErrorCode::Network
                    | ErrorCode::Timeout
                    | ErrorCode::NotSignedIn
                    | ErrorCode::Unauthorized
                    | ErrorCode::BillingForbidden
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_build_with_the_test_hooks_reads_the_e2e_pace() {
        let read = |k: &str| (k == ENV_E2E_PACE_MS).then(|| "1500".to_string());
        let expected = crate::HOOKS.then(|| Duration::from_millis(1500));
        assert_eq!(e2e_pace(read), expected);
        assert_eq!(e2e_pace(|_| Some("soon".into())), None);
        assert_eq!(e2e_pace(|_| None), None);
    }
}
