//! Start-up measurement for `make bench` (benches/app.rs): the page reports its first paint
//! once, and with `SWITCHBOARD_REPORT_FIRST_PAINT=1` the app prints how long after its start
//! that was. Otherwise the report is ignored.

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
    if std::env::var(ENV_REPORT_FIRST_PAINT).as_deref() != Ok("1")
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
