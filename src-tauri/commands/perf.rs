//! Start-up measurement for `make bench` (benches/app.rs): the page reports its first paint
//! once, and with `SWITCHBOARD_REPORT_FIRST_PAINT=1` the app prints how long after its start
//! that was. Otherwise the report is ignored, and always in a build without the `e2e-hooks`
//! feature ([`crate::HOOKS`]): there the command stays (the page always sends its report) but
//! does nothing, and no start-up phase is noted.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Instant;

/// Set to `1` to print `SWITCHBOARD_FIRST_PAINT <ms since start> navigation_ms=<ms> <phases>` on
/// stdout.
pub const ENV_REPORT_FIRST_PAINT: &str = "SWITCHBOARD_REPORT_FIRST_PAINT";

static STARTED: OnceLock<Instant> = OnceLock::new();
static REPORTED: AtomicBool = AtomicBool::new(false);
/// Named moments of the start-up, in ms since [`mark_start`].
static MARKS: Mutex<Vec<(&'static str, f64)>> = Mutex::new(Vec::new());

/// Notes that the start-up reached `name` (reported with the first paint).
pub fn mark(name: &'static str) {
    if !crate::HOOKS {
        return;
    }
    if let Some(t) = STARTED.get() {
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        if let Ok(mut marks) = MARKS.lock() {
            marks.push((name, ms));
        }
    }
}

/// Notes when the app started; called first thing in [`crate::run`].
pub fn mark_start() {
    STARTED.get_or_init(Instant::now);
}

/// The page has painted for the first time, `ms_since_navigation_start` after its navigation
/// began (`performance.now()`); `phases` says when the page's parts arrived and ran.
#[derive(Debug, serde::Deserialize, ts_rs::TS)]
#[serde(rename_all = "camelCase")]
#[ts(export)]
pub struct FirstPaintArgs {
    /// `performance.now()` at the first paint.
    pub ms_since_navigation_start: f64,
    /// When the page's parts arrived and ran, as `name=ms` words.
    pub phases: Option<String>,
}

#[tauri::command]
pub fn report_first_paint(args: FirstPaintArgs) {
    let FirstPaintArgs {
        ms_since_navigation_start,
        phases,
    } = args;
    if !reports(|| std::env::var_os(ENV_REPORT_FIRST_PAINT))
        || REPORTED.swap(true, Ordering::Relaxed)
    {
        return;
    }
    let ms = STARTED
        .get()
        .map_or(f64::NAN, |t| t.elapsed().as_secs_f64() * 1000.0);
    // The page's own words, kept to what a figure list can hold.
    let phases: String = phases
        .unwrap_or_default()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '=' | '_' | ' ' | '?'))
        .take(200)
        .collect();
    let marks: String = MARKS
        .lock()
        .map(|m| m.iter().map(|(n, t)| format!(" {n}={t:.0}")).collect())
        .unwrap_or_default();
    println!(
        "SWITCHBOARD_FIRST_PAINT {ms:.1} navigation_ms={ms_since_navigation_start:.1} {phases}{marks}"
    );
}

/// Whether the first paint is printed: in a build with the hooks, when `read` (the value of
/// [`ENV_REPORT_FIRST_PAINT`]) gives `1`; never otherwise, without even reading it.
fn reports(read: impl FnOnce() -> Option<std::ffi::OsString>) -> bool {
    crate::HOOKS && read().is_some_and(|v| v == "1")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each build checks its own side: `cargo test` without the feature, `make test` with it.
    #[test]
    fn only_a_build_with_the_hooks_prints_the_first_paint() {
        assert!(!reports(|| None));
        assert!(!reports(|| Some("0".into())));
        assert_eq!(reports(|| Some("1".into())), cfg!(feature = "e2e-hooks"));
    }
}
