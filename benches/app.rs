//! The release app as users get it, measured under Xvfb against its references: start-up,
//! memory, smoothness, sizes (issues 8 and 19).
//!
//! `make bench-app` builds the release binary (with the `e2e-hooks` feature, for the first-paint
//! report) and its `.deb` first, unpacks the `.deb` and runs this (`cargo bench --bench app`) on
//! the binary it installs. Every process is started here (Xvfb, a private D-Bus, an unlocked
//! gnome-keyring, tauri-driver, the app) and stopped by its PID, with the end-to-end tests'
//! harness and process helpers (`switchboard_testkit::{desktop, procs}`); the app's endpoints
//! point at the HF test double on loopback.
//!
//! - Sizes: the release binary (`$SWITCHBOARD_BENCH_BIN`, which `make bench-app` sets to the one
//!   the `.deb` installs; else the one `cargo bench` built) and the `.deb` (`$SWITCHBOARD_DEB`,
//!   else the newest under `release/bundle/deb/`), checking that it holds that binary.
//! - Start-up: the binary launched directly with `SWITCHBOARD_REPORT_FIRST_PAINT=1` (read only by
//!   a build with the `e2e-hooks` feature); the page reports the paint of its first screen (the
//!   playground, or the welcome screen on a first launch; not the "Starting…" shell before
//!   either: `ui/src/lib/first-paint.ts`, in a task after that frame's paint) and the app prints
//!   `SWITCHBOARD_FIRST_PAINT <ms since run()>`.
//!   Measured from spawn to that line: a first launch (empty data folder), then the bare
//!   WebKitGTK page ([`bare_webkit`]) and the app signed in with 10,000 and with 100,000 saved
//!   conversations launched in turn, round after round (medians after a warm-up round); the
//!   target is a ratio to the bare page (issue 19).
//! - Memory, idle 3 s after the first paint: the app, the bare page and the app's own page in
//!   Chromium (the Electron-class reference, `chromium/mod.rs`) launched in turn, once with both
//!   engines' defaults and once without GPU compositing. PSS (`/proc/PID/smaps_rollup`) and the
//!   footprint (`procs::footprint_mb`: shared files once) of each process and all its
//!   descendants, found by parent links; also after a 5,000-token answer streamed through the UI.
//! - Smoothness: six compare panes (and, for reference, the playground's one answer) streaming
//!   long answers from the double at full speed while keys are typed into the composer over
//!   WebDriver: `requestAnimationFrame` intervals and the keystrokes that landed.
//!
//! `SWITCHBOARD_BENCH_ONLY=startup` (or `smoothness`) measures the sizes and that part only
//! (written to `bench/app-startup.json` or `bench/app-smoothness.json`), for trying a change in
//! minutes. `SWITCHBOARD_BENCH_CHUNK_US` sets the double's pause between chunks in the
//! smoothness measure (default 1,000 µs; 0: full speed).
//!
//! Prints a table and writes `$CARGO_TARGET_DIR/bench/app.json` (the previous run's kept beside
//! it, and the change printed). A missed target is reported, never a failure. Run by
//! `cargo test --benches` (no `--bench` argument) it only reports sizes.

mod chromium;
mod common;

use common::{cpu_model, file_len, print_missed, target_dir, verdict, write_report, CacheInfo};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime};

use chromium::PageServer;
use hf_double::{tokens, Fault, HfDouble, Scope};
use serde::Serialize;
use switchboard_core::history::{schema, History};
use switchboard_testkit::desktop::{App, Desktop, Driver};
use switchboard_testkit::procs::{alive, by_mapping, kill, memory, pid_of, tree, Memory};
use switchboard_testkit::sample;

/// The binary to measure: `$SWITCHBOARD_BENCH_BIN` (`make bench-app`: the release build, as the
/// `.deb` installs it), else the one `cargo bench` built for this bench (the release profile,
/// but with the dev-dependencies' features unified in).
fn app_bin() -> String {
    std::env::var("SWITCHBOARD_BENCH_BIN")
        .ok()
        .filter(|p| !p.is_empty())
        .unwrap_or_else(|| env!("CARGO_BIN_EXE_switchboard").to_string())
}
const MODEL: &str = "meta-llama/Llama-3.3-70B-Instruct";
/// Timed launches of each kind (after one warm-up launch).
const RUNS: usize = 7;
const IDLE_AFTER_PAINT: Duration = Duration::from_secs(3);
const ANSWER_TOKENS: usize = 5_000;
/// Tokens of each compare pane's answer in the smoothness measure.
const SMOOTH_TOKENS: usize = 5_000;
/// The double's pause between chunks in the smoothness measure, µs
/// (`SWITCHBOARD_BENCH_CHUNK_US`; 0 is full speed). At 1 ms a pane streams 1,000 tokens a
/// second, faster than any provider, for 5 s: enough frames to have a p99. At full speed the
/// double sent each answer in under a second and the page drew 49 frames in all.
const SMOOTH_CHUNK_US: u64 = 1_000;

fn smooth_chunk_us() -> u64 {
    std::env::var("SWITCHBOARD_BENCH_CHUNK_US")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(SMOOTH_CHUNK_US)
}
const SMOOTH_PANES: usize = 6;
const FRAME_P95_TARGET_MS: f64 = 16.7;
const FRAME_P99_TARGET_MS: f64 = 33.0;
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(60);

// The history of benches/history.rs (same cache file and sidecar).
const CONVERSATIONS: usize = 10_000;
const MESSAGES_PER_CONVERSATION: usize = 20;
const SEED: u64 = 5;

/// Rounds of the memory comparison (each launches the app, the bare page and Chromium).
const MEMORY_RUNS: usize = 5;
/// Start-up signed in / the bare WebKitGTK page's (issue 19).
const START_RATIO_TARGET: f64 = 1.2;
/// Idle memory / the app's page in Chromium, in both modes.
const MEMORY_RATIO_TARGET: f64 = 0.5;
/// Idle memory − the bare WebKitGTK page's.
const ADDITION_TARGET_MB: f64 = 40.0;
const LARGE_CONVERSATIONS: usize = 100_000;
const BINARY_TARGET_MB: f64 = 15.0;
const DEB_TARGET_MB: f64 = 10.0;

fn mtime(path: &Path) -> Option<SystemTime> {
    std::fs::metadata(path).and_then(|m| m.modified()).ok()
}

fn mb(bytes: u64) -> f64 {
    bytes as f64 / 1_048_576.0
}

/// The `.deb` to report: `$SWITCHBOARD_DEB`, else the newest one `make bundle` made.
fn find_deb(target: &Path) -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SWITCHBOARD_DEB").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::fs::read_dir(target.join("release/bundle/deb"))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "deb"))
        .max_by_key(|p| mtime(p))
}

/// Copies the history at the size of issue 5 to `dest`: benches/history.rs's cached database
/// when it is current, else a new one (cached the same way).
fn prepare_history(dest: &Path, target: &Path) -> CacheInfo {
    let cache = target.join(format!("bench-history-v{}.sqlite3", schema::CURRENT));
    let info_path = cache.with_extension("json");
    let want = |stats, generation_s| CacheInfo {
        schema: schema::CURRENT,
        generator: sample::VERSION,
        conversations: CONVERSATIONS,
        messages_per_conversation: MESSAGES_PER_CONVERSATION,
        seed: SEED,
        stats,
        generation_s,
    };
    let cached: Option<CacheInfo> = std::fs::read(&info_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    if let Some(info) = cached {
        let mut wal = cache.clone().into_os_string();
        wal.push("-wal");
        if info == want(info.stats, info.generation_s)
            && file_len(Path::new(&wal)) == 0
            && std::fs::copy(&cache, dest).is_ok()
        {
            return info;
        }
    }
    eprintln!(
        "Generating {CONVERSATIONS} conversations x {MESSAGES_PER_CONVERSATION} messages (cached at {})…",
        cache.display()
    );
    let started = Instant::now();
    let history = History::open(dest).expect("open a new history");
    let stats = sample::generate(&history, CONVERSATIONS, MESSAGES_PER_CONVERSATION, SEED)
        .expect("generate the sample history");
    drop(history);
    let info = want(stats, started.elapsed().as_secs_f64());
    let mut tmp = cache.clone().into_os_string();
    tmp.push(".tmp");
    std::fs::copy(dest, &tmp).expect("copy the database to the cache");
    std::fs::rename(&tmp, &cache).expect("move the database into the cache");
    std::fs::write(&info_path, serde_json::to_vec_pretty(&info).unwrap())
        .expect("write the cache sidecar");
    info
}

/// A copy of the data folder `from` with benches/history.rs's cached 100,000-conversation
/// history in place of its own, when that cache exists and is current.
fn prepare_large(from: &Path, to: &Path, target: &Path) -> Option<CacheInfo> {
    let cache = target.join(format!(
        "bench-history-{LARGE_CONVERSATIONS}-v{}.sqlite3",
        schema::CURRENT
    ));
    let info: CacheInfo =
        serde_json::from_slice(&std::fs::read(cache.with_extension("json")).ok()?).ok()?;
    if info.schema != schema::CURRENT
        || info.generator != sample::VERSION
        || info.conversations != LARGE_CONVERSATIONS
    {
        return None;
    }
    std::fs::create_dir_all(to).ok()?;
    for e in std::fs::read_dir(from).ok()?.flatten() {
        let name = e.file_name();
        if name.to_string_lossy().starts_with("history.sqlite3") || !e.path().is_file() {
            continue;
        }
        std::fs::copy(e.path(), to.join(&name)).ok()?;
    }
    std::fs::copy(&cache, to.join("history.sqlite3")).ok()?;
    Some(info)
}

/// With this argument the bench is the reference instead: see [`bare_webkit`].
const BARE_WEBKIT_ARG: &str = "--bare-webkit-page";

/// The reference for start-up and memory: a GTK window holding a WebKitGTK view that shows a
/// two-line page: the engine and libraries the app is built on, without the app. Prints the
/// app's `SWITCHBOARD_FIRST_PAINT` line, with its own phases, after the paint of the page's first
/// frame (as the app's page does), then runs until stopped.
fn bare_webkit() {
    use gtk::prelude::*;
    use std::cell::RefCell;
    use std::rc::Rc;
    use webkit2gtk::{LoadEvent, WebViewExt};
    let started = Instant::now();
    let ms = move || started.elapsed().as_secs_f64() * 1000.0;
    let marks = Rc::new(RefCell::new(String::new()));
    let mark = {
        let marks = marks.clone();
        move |name: &str| marks.borrow_mut().push_str(&format!(" {name}={:.0}", ms()))
    };
    gtk::init().expect("GTK");
    mark("gtk_init");
    let window = gtk::Window::new(gtk::WindowType::Toplevel);
    window.set_default_size(1280, 800);
    let view = webkit2gtk::WebView::new();
    window.add(&view);
    mark("webview");
    {
        let mark = mark.clone();
        view.connect_load_changed(move |_, event| match event {
            LoadEvent::Started => mark("page_started"),
            LoadEvent::Finished => mark("page_loaded"),
            _ => {}
        });
    }
    // Like the app's page (ui/src/lib/first-paint.ts), report after the first paint: a task
    // queued in the first frame's callback runs after that frame's paint and sets the title.
    view.connect_title_notify(move |view| {
        if view.title().as_deref() == Some("painted") {
            let painted = ms();
            println!("SWITCHBOARD_FIRST_PAINT {painted:.1}{}", marks.borrow());
        }
    });
    view.load_html(
        "<!doctype html><html><body><h1>Hello</h1><p>A bare WebKitGTK page.</p>\
         <script>requestAnimationFrame(() => setTimeout(() => \
         { document.title = 'painted'; }));</script></body></html>",
        None,
    );
    window.connect_destroy(|_| gtk::main_quit());
    window.show_all();
    mark("shown");
    gtk::main();
}

/// The app launched directly; stopped (with its descendants) by PID when dropped.
struct Launched {
    child: Child,
    lines: mpsc::Receiver<String>,
}

/// WebKit's GPU compositing: the desktop's environment turns it off (there is no GPU under
/// Xvfb); the memory comparison also measures both engines with their defaults.
fn compositing(cmd: &mut Command, on: bool) {
    if on {
        cmd.env_remove("WEBKIT_DISABLE_COMPOSITING_MODE");
    } else {
        cmd.env("WEBKIT_DISABLE_COMPOSITING_MODE", "1");
    }
}

impl Launched {
    fn start(desktop: &Desktop, double: &HfDouble, data_dir: &Path) -> (Launched, Instant) {
        Launched::start_with(desktop, double, data_dir, false)
    }

    fn start_with(
        desktop: &Desktop,
        double: &HfDouble,
        data_dir: &Path,
        gpu: bool,
    ) -> (Launched, Instant) {
        let mut cmd = Command::new(app_bin());
        desktop.env(&mut cmd);
        compositing(&mut cmd, gpu);
        cmd.env("SWITCHBOARD_HUB_URL", double.hub_url())
            .env("SWITCHBOARD_ROUTER_URL", double.router_url())
            .env(
                "SWITCHBOARD_PROVIDER_BASE_URL",
                double.provider_base_template(),
            )
            .env("SWITCHBOARD_DATA_DIR", data_dir)
            .env("SWITCHBOARD_REPORT_FIRST_PAINT", "1");
        Launched::spawn(cmd)
    }

    /// The reference: this bench run as [`bare_webkit`], on the same desktop.
    fn bare_webkit(desktop: &Desktop, gpu: bool) -> (Launched, Instant) {
        let mut cmd = Command::new(std::env::current_exe().expect("the bench's own path"));
        desktop.env(&mut cmd);
        compositing(&mut cmd, gpu);
        cmd.arg(BARE_WEBKIT_ARG);
        Launched::spawn(cmd)
    }

    /// The Electron-class reference: the app's page in Chromium (app mode, a fresh profile),
    /// served by `server` with the IPC mock; its first paint comes through the server.
    fn chromium(desktop: &Desktop, server: &PageServer, gpu: bool) -> (Launched, Instant) {
        static PROFILES: AtomicUsize = AtomicUsize::new(0);
        let n = PROFILES.fetch_add(1, Ordering::Relaxed);
        let profile = desktop.dir.path().join(format!("chromium-profile-{n}"));
        let bin = chromium::chromium_bin().expect("chromium (scripts/deps.sh --bench)");
        let mut cmd = Command::new(bin);
        desktop.env(&mut cmd);
        cmd.args(chromium::chromium_args(&server.url(), &profile, gpu))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let lines = server.expect_paint();
        let started = Instant::now();
        let child = cmd.spawn().expect("start chromium");
        (Launched { child, lines }, started)
    }

    fn spawn(mut cmd: Command) -> (Launched, Instant) {
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let started = Instant::now();
        let mut child = cmd.spawn().expect("start the process to measure");
        let stdout = child.stdout.take().unwrap();
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        (Launched { child, lines }, started)
    }

    /// Waits for `SWITCHBOARD_FIRST_PAINT <ms> <phases>`: when it was read, the app's own figure
    /// and the phases.
    fn first_paint(&mut self) -> (Instant, f64, String) {
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    if let Some(rest) = line.strip_prefix("SWITCHBOARD_FIRST_PAINT ") {
                        let at = Instant::now();
                        let (figure, phases) = rest.split_once(' ').unwrap_or((rest, ""));
                        let ms = figure.parse().unwrap_or(f64::NAN);
                        return (at, ms, phases.trim().to_string());
                    }
                }
                Err(_) => {
                    let status = self.child.try_wait().ok().flatten();
                    panic!("the app reported no first paint (exit status: {status:?})");
                }
            }
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Launched {
    fn drop(&mut self) {
        let pids = tree(self.pid());
        kill("-TERM", self.pid());
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        // WebKit's processes end with the app; any left over are stopped by their PID.
        std::thread::sleep(Duration::from_millis(200));
        for pid in pids.into_iter().skip(1).filter(|p| alive(*p)) {
            kill("-KILL", pid);
        }
    }
}

// ------------------------------------------------------------------ figures

#[derive(Debug, Clone, Copy, Serialize)]
struct Stat {
    median: f64,
    min: f64,
    max: f64,
}

fn stat(samples: &[f64]) -> Stat {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    Stat {
        median: s[(s.len() - 1) / 2],
        min: s[0],
        max: s[s.len() - 1],
    }
}

#[derive(Debug, Clone, Serialize)]
struct StartUp {
    /// Spawn to the first-paint line, as seen by this bench.
    spawn_to_paint_ms: Stat,
    /// The app's own figure: from the start of `run()` to the page's report.
    app_reported_ms: Stat,
    /// Every counted run's spawn to first paint, in launch order: some launches wait about half
    /// a second before the page starts loading (seen in the app's launches, not the bare
    /// page's; the cause is not known), and a median of seven can fall among them.
    runs_ms: Vec<f64>,
    runs: usize,
    /// Where the time went in the median run (by the spawn figure): the report's phases, in ms
    /// since `run()` (Rust side) or since navigation start (page side).
    median_phases: String,
}

/// The app launched with a data folder (per run).
fn app_in<'a>(
    desktop: &'a Desktop,
    double: &'a HfDouble,
    data_dir: impl Fn(usize) -> PathBuf + 'a,
) -> impl Fn(usize) -> (Launched, Instant) + 'a {
    move |run| {
        let dir = data_dir(run);
        std::fs::create_dir_all(&dir).unwrap();
        Launched::start(desktop, double, &dir)
    }
}

fn start_ups(
    launch: impl Fn(usize) -> (Launched, Instant),
    mut after_paint: impl FnMut(&Launched),
) -> StartUp {
    let mut spawn_ms = Vec::new();
    let mut app_ms = Vec::new();
    let mut phases = Vec::new();
    // Run 0 warms the page cache and is not counted.
    for run in 0..=RUNS {
        let (mut app, started) = launch(run);
        let (at, reported, said) = app.first_paint();
        if run > 0 {
            spawn_ms.push((at - started).as_secs_f64() * 1000.0);
            app_ms.push(reported);
            phases.push(said);
            after_paint(&app);
        }
        drop(app);
    }
    let spawn_to_paint_ms = stat(&spawn_ms);
    let median_phases = spawn_ms
        .iter()
        .position(|&ms| ms == spawn_to_paint_ms.median)
        .map(|i| phases[i].clone())
        .unwrap_or_default();
    StartUp {
        spawn_to_paint_ms,
        app_reported_ms: stat(&app_ms),
        runs_ms: spawn_ms.iter().map(|ms| ms.round()).collect(),
        runs: RUNS,
        median_phases,
    }
}

type Launcher<'a> = Box<dyn Fn() -> (Launched, Instant) + 'a>;

/// Launches each kind in turn, round after round: one warm-up round, then `runs` counted ones,
/// so that every kind meets the same noise. `after(kind, launched)` runs after each counted
/// first paint. Returns each kind's start-up figures.
fn interleaved(
    kinds: &[Launcher],
    runs: usize,
    mut after: impl FnMut(usize, &Launched),
) -> Vec<StartUp> {
    let mut spawn_ms = vec![Vec::new(); kinds.len()];
    let mut app_ms = vec![Vec::new(); kinds.len()];
    let mut phases = vec![Vec::new(); kinds.len()];
    for run in 0..=runs {
        for (k, launch) in kinds.iter().enumerate() {
            let (mut app, started) = launch();
            let (at, reported, said) = app.first_paint();
            if run > 0 {
                spawn_ms[k].push((at - started).as_secs_f64() * 1000.0);
                app_ms[k].push(reported);
                phases[k].push(said);
                after(k, &app);
            }
            drop(app);
        }
    }
    (0..kinds.len())
        .map(|k| {
            let spawn_to_paint_ms = stat(&spawn_ms[k]);
            let median_phases = spawn_ms[k]
                .iter()
                .position(|&ms| ms == spawn_to_paint_ms.median)
                .map(|i| phases[k][i].clone())
                .unwrap_or_default();
            StartUp {
                spawn_to_paint_ms,
                app_reported_ms: stat(&app_ms[k]),
                runs_ms: spawn_ms[k].iter().map(|ms| ms.round()).collect(),
                runs,
                median_phases,
            }
        })
        .collect()
}

/// One mode of the memory comparison: the app, the bare WebKitGTK page and the app's page in
/// Chromium, each idle 3 s after its first paint, launched in turn.
#[derive(Debug, Clone, Serialize)]
struct MemoryMode {
    /// "defaults" or "no GPU compositing".
    mode: &'static str,
    app: Vec<Memory>,
    bare: Vec<Memory>,
    chromium: Vec<Memory>,
    app_pss_mb: Option<Stat>,
    bare_pss_mb: Option<Stat>,
    chromium_pss_mb: Option<Stat>,
    /// Median app / median Chromium.
    ratio_app_chromium: Option<f64>,
    /// Median app − median bare page.
    app_over_bare_mb: Option<f64>,
    /// The same by footprint (procs::footprint_mb: shared files once, whatever else runs).
    app_footprint_mb: Option<Stat>,
    bare_footprint_mb: Option<Stat>,
    chromium_footprint_mb: Option<Stat>,
    footprint_ratio_app_chromium: Option<f64>,
    footprint_app_over_bare_mb: Option<f64>,
    /// The process trees of the median runs.
    app_processes: String,
    chromium_processes: String,
    /// The largest mappings (MB of PSS) of each kind's first counted run.
    app_mappings: Vec<(String, f64)>,
    bare_mappings: Vec<(String, f64)>,
    chromium_mappings: Vec<(String, f64)>,
}

fn median_run(runs: &[Memory]) -> String {
    let Some(m) = median_of(runs, |m| m.pss_mb) else {
        return String::new();
    };
    runs.iter()
        .find(|r| r.pss_mb == m.median)
        .map(breakdown)
        .unwrap_or_default()
}

impl MemoryMode {
    fn new(
        mode: &'static str,
        [app, bare, chromium]: [Vec<Memory>; 3],
        [app_mappings, bare_mappings, chromium_mappings]: [Vec<(String, f64)>; 3],
    ) -> Self {
        let app_pss_mb = median_of(&app, |m| m.pss_mb);
        let bare_pss_mb = median_of(&bare, |m| m.pss_mb);
        let chromium_pss_mb = median_of(&chromium, |m| m.pss_mb);
        let app_footprint_mb = median_of(&app, |m| m.footprint_mb);
        let bare_footprint_mb = median_of(&bare, |m| m.footprint_mb);
        let chromium_footprint_mb = median_of(&chromium, |m| m.footprint_mb);
        MemoryMode {
            mode,
            footprint_ratio_app_chromium: app_footprint_mb
                .zip(chromium_footprint_mb)
                .map(|(a, c)| a.median / c.median),
            footprint_app_over_bare_mb: app_footprint_mb
                .zip(bare_footprint_mb)
                .map(|(a, b)| a.median - b.median),
            app_footprint_mb,
            bare_footprint_mb,
            chromium_footprint_mb,
            ratio_app_chromium: app_pss_mb
                .zip(chromium_pss_mb)
                .map(|(a, c)| a.median / c.median),
            app_over_bare_mb: app_pss_mb
                .zip(bare_pss_mb)
                .map(|(a, b)| a.median - b.median),
            app_processes: median_run(&app),
            chromium_processes: median_run(&chromium),
            app_pss_mb,
            bare_pss_mb,
            chromium_pss_mb,
            app,
            bare,
            chromium,
            app_mappings,
            bare_mappings,
            chromium_mappings,
        }
    }
}

/// Memory of the three, `runs` interleaved rounds after a warm-up; `gpu`: engines' defaults.
fn memory_mode(
    desktop: &Desktop,
    double: &HfDouble,
    server: Option<&PageServer>,
    gpu: bool,
    runs: usize,
) -> MemoryMode {
    let data = desktop.data_dir();
    let mut kinds: Vec<Launcher> = vec![
        Box::new(|| Launched::start_with(desktop, double, &data, gpu)),
        Box::new(move || Launched::bare_webkit(desktop, gpu)),
    ];
    if let Some(server) = server {
        kinds.push(Box::new(move || Launched::chromium(desktop, server, gpu)));
    }
    let mut got: [Vec<Memory>; 3] = Default::default();
    let mut mappings: [Vec<(String, f64)>; 3] = Default::default();
    interleaved(&kinds, runs, |k, launched| {
        std::thread::sleep(IDLE_AFTER_PAINT);
        got[k].push(memory(launched.pid()));
        if mappings[k].is_empty() {
            mappings[k] = by_mapping(launched.pid()).into_iter().take(15).collect();
        }
    });
    MemoryMode::new(
        if gpu {
            "defaults"
        } else {
            "no GPU compositing"
        },
        got,
        mappings,
    )
}

/// Commands the page may call a while after start-up; recorded too.
const LATER_COMMANDS: &[&str] = &["billing_usage", "history_facets", "credits_get", "app_info"];

/// Fills `server`'s answers from the real app: the app started over WebDriver, the page opened
/// once in Chromium with every command passed to the app, until it has painted and settled.
async fn record_answers(driver: &Driver, desktop: &Desktop, server: &PageServer) {
    let app = driver.launch_bin(&app_bin()).await;
    app.wait_for("[data-testid=composer]").await;
    let client = app.client.clone();
    let handle = tokio::runtime::Handle::current();
    server.record_from(Some(Box::new(move |cmd, args| {
        let client = client.clone();
        let (cmd, args) = (cmd.to_string(), args.clone());
        // The server's threads are not the runtime's: they may block on it.
        handle.block_on(async move {
            client
                .execute_async(
                    "const done = arguments[arguments.length - 1];\
                     const args = arguments[1] === null ? undefined : arguments[1];\
                     window.__TAURI_INTERNALS__.invoke(arguments[0], args)\
                       .then(v => done({ ok: v === undefined ? null : v }), e => done({ err: e }));",
                    vec![serde_json::json!(cmd), args],
                )
                .await
                .unwrap_or_else(|e| {
                    serde_json::json!({ "err": { "code": "internal", "message": e.to_string() } })
                })
        })
    })));
    let (mut page, _) = Launched::chromium(desktop, server, false);
    tokio::task::block_in_place(|| {
        page.first_paint();
        // Commands the page sends after its first paint (the history's facets, the meter…).
        std::thread::sleep(Duration::from_secs(3));
        // And those it may send later (the usage meter), without arguments, as the page does.
        for cmd in LATER_COMMANDS {
            server.record(cmd, &serde_json::Value::Null);
        }
    });
    server.record_from(None);
    drop(page);
    app.quit().await;
}

/// The assistant answers on screen: how many, the last one's status and its words.
async fn answers(app: &App) -> (u64, String, u64) {
    let v = app
        .client
        .execute(
            "const a = [...document.querySelectorAll('article[data-testid=turn-assistant]')];\
             const last = a[a.length - 1];\
             const text = last ? (last.querySelector('[data-testid=answer]') || last).textContent : '';\
             return [a.length, last ? last.dataset.status : '', text.split(/\\s+/).filter(Boolean).length];",
            vec![],
        )
        .await
        .unwrap();
    (
        v[0].as_u64().unwrap_or(0),
        v[1].as_str().unwrap_or("").to_string(),
        v[2].as_u64().unwrap_or(0),
    )
}

/// Signs in through the UI (the token goes to the desktop's keyring), then quits.
async fn sign_in(driver: &Driver) {
    let app = driver.launch_bin(&app_bin()).await;
    app.type_into(
        "[data-testid=token-input]",
        &format!("{}\u{E007}", tokens::FREE_TOKEN),
    )
    .await;
    app.wait_for("[data-testid=account-name]").await;
    app.quit().await;
}

/// Streams a long answer through the UI and measures the app's memory before and after.
async fn stream_answer(driver: &Driver, double: &HfDouble) -> (Memory, Memory, f64, u64) {
    let app = driver.launch_bin(&app_bin()).await;
    app.wait_for("[data-testid=composer]").await;
    let pid = pid_of(&app).await;
    app.click("[data-testid=model-picker]").await;
    app.type_into("[data-testid=model-search]", "Llama-3.3-70B-Instruct")
        .await;
    app.click(&format!(
        "[data-testid=model-option][data-model-id=\"{MODEL}\"]"
    ))
    .await;
    app.wait_for_text("[data-testid=model-picker]", "Llama-3.3-70B-Instruct")
        .await;
    app.settle().await;
    tokio::time::sleep(IDLE_AFTER_PAINT).await;
    let before = memory(pid);
    double.push_fault(
        Fault::long_stream(ANSWER_TOKENS, 0)
            .scope(Scope::Chat)
            .once(),
    );
    let (shown, _, _) = answers(&app).await;
    let sent = Instant::now();
    app.type_into("[data-testid=composer]", "Write a lot\u{E007}")
        .await;
    let deadline = sent + Duration::from_secs(120);
    let words = loop {
        let (n, status, words) = answers(&app).await;
        if n > shown && status != "streaming" && !status.is_empty() {
            assert_eq!(status, "complete", "the answer ended as {status}");
            break words;
        }
        assert!(Instant::now() < deadline, "the answer did not complete");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let stream_s = sent.elapsed().as_secs_f64();
    app.settle().await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let after = memory(pid);
    app.quit().await;
    (before, after, stream_s, words)
}

/// Streaming smoothness (issue 19): `panes` compare panes streaming long answers from the
/// double at full speed while keys are typed into the composer, one WebDriver call per key.
#[derive(Debug, Clone, Serialize)]
struct Smoothness {
    panes: usize,
    tokens_per_pane: usize,
    /// The double's pause between chunks, µs.
    chunk_us: u64,
    /// Intervals between `requestAnimationFrame` callbacks while the answers streamed.
    frames: usize,
    frame_p50_ms: f64,
    frame_p95_ms: f64,
    frame_p99_ms: f64,
    frame_max_ms: f64,
    keystrokes_typed: usize,
    keystrokes_landed: usize,
    stream_s: f64,
    /// Where the frames' script time went (the page's `__switchboardStats`), ms per frame:
    /// rendering Markdown, and a stream's whole update (the text applied and Svelte's DOM
    /// update, Markdown included). What a frame took beyond them is the engine's: style,
    /// layout, paint, and the IPC messages' own handling.
    markdown_ms_per_frame: f64,
    update_ms_per_frame: f64,
    markdown_ms_per_render: f64,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The status of each answer being measured: the compare panes', or with one pane the
/// playground's last answer.
async fn pane_statuses(app: &App, compare: bool) -> Vec<String> {
    let script = if compare {
        "return [...document.querySelectorAll('[data-testid=compare-pane]')].map(p => p.dataset.status || '');"
    } else {
        "return [...document.querySelectorAll('article[data-testid=turn-assistant]')].slice(-1).map(a => a.dataset.status || '');"
    };
    let v = app.client.execute(script, vec![]).await.unwrap();
    v.as_array()
        .map(|a| {
            a.iter()
                .map(|s| s.as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

/// `panes` answers streaming at once: compare panes, or with one the playground (compare keeps
/// at least two panes).
async fn smoothness(driver: &Driver, double: &HfDouble, panes: usize) -> Smoothness {
    let compare = panes > 1;
    let app = driver.launch_bin(&app_bin()).await;
    app.wait_for("[data-testid=composer]").await;
    // Six panes need a wide window (compare.ts: WIDE_WIDTH).
    app.client
        .set_window_size(1900, 1000)
        .await
        .expect("resize the window");
    app.click("[data-testid=model-picker]").await;
    app.type_into("[data-testid=model-search]", "Llama-3.3-70B-Instruct")
        .await;
    app.click(&format!(
        "[data-testid=model-option][data-model-id=\"{MODEL}\"]"
    ))
    .await;
    app.wait_for_text("[data-testid=model-picker]", "Llama-3.3-70B-Instruct")
        .await;
    if compare {
        app.click("[data-testid=nav-compare]").await;
        app.click("[data-testid=preset-all-providers]:not([disabled])")
            .await;
        app.wait_for("[data-testid=compare-pane]").await;
        loop {
            let n = pane_statuses(&app, true).await.len();
            if n == panes {
                break;
            }
            if n < panes {
                app.click("[data-testid=compare-add-pane]:not([disabled])")
                    .await;
            } else {
                app.click(&format!(
                    "[data-testid=compare-pane][data-index=\"{}\"] [data-testid=pane-remove]",
                    n - 1
                ))
                .await;
            }
            let deadline = Instant::now() + Duration::from_secs(10);
            while pane_statuses(&app, true).await.len() == n {
                assert!(Instant::now() < deadline, "the panes stay at {n}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
    let (composer_css, send_css) = if compare {
        (
            "[data-testid=compare-composer]",
            "[data-testid=compare-send]",
        )
    } else {
        ("[data-testid=composer]", "[data-testid=send]")
    };
    let answers_before = if compare { 0 } else { answers(&app).await.0 };
    app.settle().await;
    for _ in 0..panes {
        double.push_fault(
            Fault::long_stream(SMOOTH_TOKENS, smooth_chunk_us())
                .scope(Scope::Chat)
                .once(),
        );
    }
    app.type_into(composer_css, "Write a lot").await;
    let stats_before = render_stats(&app).await;
    // Frame times from here on.
    app.client
        .execute(
            "window.__frames = []; let last = performance.now();\
             const tick = (t) => { window.__frames.push(t - last); last = t;\
               if (!window.__framesStop) requestAnimationFrame(tick); };\
             requestAnimationFrame(tick);",
            vec![],
        )
        .await
        .unwrap();
    let sent = Instant::now();
    app.click(send_css).await;
    let composer = app.wait_for(composer_css).await;
    let mut typed = String::new();
    let letters = "the quick brown fox jumps over the lazy dog ";
    let deadline = sent + Duration::from_secs(300);
    loop {
        let statuses = pane_statuses(&app, compare).await;
        let started = compare || answers(&app).await.0 > answers_before;
        let streaming = !started
            || statuses
                .iter()
                .any(|s| s == "streaming" || s == "waiting" || s.is_empty());
        if !streaming && sent.elapsed() > Duration::from_millis(500) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the answers did not complete: {statuses:?}"
        );
        let c = letters.chars().nth(typed.len() % letters.len()).unwrap();
        composer
            .send_keys(&c.to_string())
            .await
            .expect("type into the composer");
        typed.push(c);
    }
    let stream_s = sent.elapsed().as_secs_f64();
    let stats_after = render_stats(&app).await;
    let v = app
        .client
        .execute(
            "window.__framesStop = true;\
             return [window.__frames, document.querySelector(arguments[0]).value];",
            vec![serde_json::json!(composer_css)],
        )
        .await
        .unwrap();
    let mut frames: Vec<f64> = v[0]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_f64()).collect())
        .unwrap_or_default();
    // The first interval starts when the recorder was installed, not at a frame.
    if !frames.is_empty() {
        frames.remove(0);
    }
    let value = v[1].as_str().unwrap_or("").to_string();
    let statuses = pane_statuses(&app, compare).await;
    assert!(
        statuses.iter().all(|s| s == "complete"),
        "the panes ended as {statuses:?}"
    );
    // Every keystroke landed when the box holds exactly what was typed after the prompt left it.
    let landed = typed
        .chars()
        .zip(value.chars())
        .take_while(|(a, b)| a == b)
        .count();
    let frame_count = frames.len().max(1) as f64;
    let stat =
        |k: &str| stats_after[k].as_f64().unwrap_or(0.0) - stats_before[k].as_f64().unwrap_or(0.0);
    frames.sort_by(f64::total_cmp);
    app.quit().await;
    Smoothness {
        markdown_ms_per_frame: stat("markdownMs") / frame_count,
        update_ms_per_frame: stat("applyMs") / frame_count,
        markdown_ms_per_render: stat("markdownMs") / stat("markdownCalls").max(1.0),
        panes,
        tokens_per_pane: SMOOTH_TOKENS,
        chunk_us: smooth_chunk_us(),
        frames: frames.len(),
        frame_p50_ms: percentile(&frames, 0.5),
        frame_p95_ms: percentile(&frames, 0.95),
        frame_p99_ms: percentile(&frames, 0.99),
        frame_max_ms: frames.last().copied().unwrap_or(f64::NAN),
        keystrokes_typed: typed.chars().count(),
        keystrokes_landed: if value.chars().count() == typed.chars().count() {
            landed
        } else {
            landed.min(value.chars().count())
        },
        stream_s,
    }
}

/// The page's running totals of script time (ui/src/lib/stats.ts).
async fn render_stats(app: &App) -> serde_json::Value {
    app.client
        .execute(
            "return JSON.parse(JSON.stringify(globalThis.__switchboardStats || {}));",
            vec![],
        )
        .await
        .unwrap_or_default()
}

fn ram_gb() -> f64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1_048_576.0)
}

fn row(name: &str, figure: String, target: &str, ok: Option<bool>) {
    println!(
        "| {:<46} | {:>16} | {:>10} | {:<7} |",
        name,
        figure,
        target,
        ok.map_or("", verdict)
    );
}

/// Whether the `.deb` holds exactly `bin` (its md5sums against the binary's).
fn deb_holds(deb: &Path, bin: &Path) -> Option<bool> {
    let sums = Command::new("dpkg-deb")
        .arg("-I")
        .arg(deb)
        .arg("md5sums")
        .output()
        .ok()?;
    let sums = String::from_utf8_lossy(&sums.stdout);
    let packaged = sums
        .lines()
        .find(|l| l.trim_end().ends_with("usr/bin/switchboard"))?
        .split_whitespace()
        .next()?
        .to_string();
    let ours = Command::new("md5sum").arg(bin).output().ok()?;
    let ours = String::from_utf8_lossy(&ours.stdout);
    Some(ours.split_whitespace().next() == Some(packaged.as_str()))
}

fn median_of(runs: &[Memory], f: fn(&Memory) -> f64) -> Option<Stat> {
    (!runs.is_empty()).then(|| stat(&runs.iter().map(f).collect::<Vec<_>>()))
}

/// "app 85 (20) + WebKitWebProces 134 (60) + …" (MB of PSS, of which anonymous), for the report.
fn breakdown(m: &Memory) -> String {
    m.processes
        .iter()
        .map(|p| {
            format!(
                "{} {:.0} ({:.0})",
                p.comm,
                p.pss_kb as f64 / 1024.0,
                p.anon_kb as f64 / 1024.0
            )
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn main() {
    if std::env::args().any(|a| a == BARE_WEBKIT_ARG) {
        return bare_webkit();
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let only = std::env::var("SWITCHBOARD_BENCH_ONLY").unwrap_or_default();
    let only_startup = only == "startup";
    let only_smoothness = only == "smoothness";
    let target = target_dir();
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = cpu_model();

    // Sizes.
    let bin = PathBuf::from(app_bin());
    let bin_bytes = file_len(&bin);
    let deb = find_deb(&target);
    let deb_bytes = deb.as_deref().map(file_len);
    let deb_matches = deb.as_deref().and_then(|d| deb_holds(d, &bin));
    let bin_ok = mb(bin_bytes) < BINARY_TARGET_MB;
    let deb_ok = deb_bytes.map(|b| mb(b) < DEB_TARGET_MB);

    let mut fresh = None;
    let mut fresh_idle = Vec::new();
    let mut start = Vec::new();
    let mut large_info = None;
    let mut modes = Vec::new();
    let mut idle_mappings = Vec::new();
    let mut streamed = None;
    let mut smooth = Vec::new();
    let mut history_info = None;
    let mut chromium_version = None;
    let mut unanswered = Vec::new();
    let mut page_commands = Vec::new();
    if full {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let double = HfDouble::start_blocking(&hf_double::default_fixtures_dir())
            .expect("start the HF test double");
        let desktop = Desktop::start(1280, 800, true);
        let runs = desktop.dir.path().join("runs");

        if !only_smoothness {
            eprintln!("Start-up: first launch, {RUNS} runs, memory 3 s after each first paint…");
            fresh = Some(start_ups(
                app_in(&desktop, &double, |i| runs.join(format!("first-{i}"))),
                |app| {
                    std::thread::sleep(IDLE_AFTER_PAINT);
                    fresh_idle.push(memory(app.pid()));
                },
            ));
        }

        // The main data folder (the one tauri-driver's app uses): 10,000 conversations, and
        // signed in through the UI.
        history_info = Some(prepare_history(
            &desktop.data_dir().join("history.sqlite3"),
            &target,
        ));
        let driver = Driver::start(&desktop, &double);
        eprintln!("Signing in through the UI…");
        rt.block_on(sign_in(&driver));
        // A second data folder, the same but with 100,000 conversations (benches/history.rs
        // caches that database; without it this part is left out).
        let large_dir = desktop.dir.path().join("large");
        if !only_smoothness {
            large_info = prepare_large(&desktop.data_dir(), &large_dir, &target);
        }

        let data = desktop.data_dir();
        if !only_smoothness {
            let mut kinds: Vec<Launcher> = vec![
                Box::new(|| Launched::bare_webkit(&desktop, false)),
                Box::new(|| Launched::start(&desktop, &double, &data)),
            ];
            if large_info.is_some() {
                kinds.push(Box::new(|| Launched::start(&desktop, &double, &large_dir)));
            }
            eprintln!(
                "Start-up: the bare page and the app signed in ({} kinds in turn), {RUNS} rounds…",
                kinds.len()
            );
            start = interleaved(&kinds, RUNS, |k, app| {
                if k == 1 && idle_mappings.is_empty() {
                    std::thread::sleep(IDLE_AFTER_PAINT);
                    idle_mappings = by_mapping(app.pid());
                }
            });
            drop(kinds);
            if large_info.is_some() {
                let _ = std::fs::remove_dir_all(&large_dir);
            }
        }

        // `SWITCHBOARD_BENCH_ONLY=startup`: the start-up figures alone (a few minutes instead
        // of the whole run), written to bench/app-startup.json.
        if only_startup {
            drop(driver);
            drop(desktop);
        } else {
            if !only_smoothness {
                // The Electron-class reference.
                let server = match chromium::chromium_bin() {
                    Some(bin) => {
                        chromium_version = Some(chromium::chromium_version(&bin));
                        let server = PageServer::start(
                            Path::new(env!("CARGO_MANIFEST_DIR")),
                            desktop.dir.path(),
                        );
                        eprintln!("Recording the app's answers for the page in Chromium…");
                        rt.block_on(record_answers(&driver, &desktop, &server));
                        Some(server)
                    }
                    None => {
                        eprintln!("No chromium: the Electron-class reference is left out (scripts/deps.sh --bench installs it).");
                        None
                    }
                };
                for gpu in [false, true] {
                    eprintln!(
                    "Memory, {}: the app, the bare page, Chromium in turn, {MEMORY_RUNS} rounds…",
                    if gpu {
                        "defaults"
                    } else {
                        "no GPU compositing"
                    }
                );
                    modes.push(memory_mode(
                        &desktop,
                        &double,
                        server.as_ref(),
                        gpu,
                        MEMORY_RUNS,
                    ));
                }
                if let Some(server) = &server {
                    unanswered = server.unanswered();
                    page_commands = server.called();
                }

                eprintln!("Memory: streaming a {ANSWER_TOKENS}-token answer through the UI…");
                streamed = Some(rt.block_on(stream_answer(&driver, &double)));
            }
            for panes in [1, SMOOTH_PANES] {
                eprintln!("Smoothness: {panes} answer(s) streaming while keys are typed…");
                // A failure here is reported, and the figures above are kept.
                match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    rt.block_on(smoothness(&driver, &double, panes))
                })) {
                    Ok(sm) => smooth.push(sm),
                    Err(_) => eprintln!("Smoothness with {panes} pane(s) failed (see above)."),
                }
            }
            drop(driver);
            drop(desktop);
        }
    }

    println!();
    println!(
        "App benchmark: the release binary under Xvfb (1280x800), endpoints on the HF test double"
    );
    println!("Binary: {}", bin.display());
    println!(
        "Machine: {cpu}, {nproc} CPU(s), {:.1} GB RAM, {} {}",
        ram_gb(),
        std::env::consts::OS,
        std::env::consts::ARCH
    );
    if let Some(v) = &chromium_version {
        println!("Electron-class reference: {v}, app mode, the app's page with its IPC mocked");
    }
    println!();
    println!(
        "| {:<46} | {:>16} | {:>10} | {:<7} |",
        "measure", "figure", "target", "verdict"
    );
    println!("|{:-<48}|{:->18}|{:->12}|{:-<9}|", "", "", "", "");
    let mut missed: Vec<String> = Vec::new();
    let ms = |s: &Stat| format!("{:.0} ms", s.median);
    let mbs = |s: &Stat| format!("{:.0} MB", s.median);
    let bare_start = start.first();
    if let Some(s) = &fresh {
        row(
            "start-up to first paint, first launch",
            ms(&s.spawn_to_paint_ms),
            "",
            None,
        );
    }
    let mut start_ratios = Vec::new();
    if let Some(b) = bare_start {
        for (k, s) in start.iter().enumerate().skip(1) {
            let name = if k == 1 {
                "start-up to first paint, signed in, 10k convs"
            } else {
                "start-up to first paint, signed in, 100k convs"
            };
            row(name, ms(&s.spawn_to_paint_ms), "", None);
            row(
                "  (app's own figure, from run())",
                ms(&s.app_reported_ms),
                "",
                None,
            );
            let ratio = s.spawn_to_paint_ms.median / b.spawn_to_paint_ms.median;
            let ok = ratio <= START_RATIO_TARGET;
            row(
                "  / the bare WebKitGTK page's (same rounds)",
                format!("{ratio:.2}x"),
                "<= 1.2x",
                Some(ok),
            );
            if !ok {
                missed.push(
                    if k == 1 {
                        "start-up 10k"
                    } else {
                        "start-up 100k"
                    }
                    .to_string(),
                );
            }
            start_ratios.push(ratio);
        }
        row(
            "  reference: a bare WebKitGTK page, to paint",
            ms(&b.spawn_to_paint_ms),
            "",
            None,
        );
    }
    if let Some(pss) = median_of(&fresh_idle, |m| m.pss_mb) {
        row(
            "memory idle, first launch: PSS app + WebKit",
            mbs(&pss),
            "",
            None,
        );
    }
    for m in &modes {
        let Some(app) = &m.app_pss_mb else { continue };
        let label = if m.mode == "defaults" {
            "defaults"
        } else {
            "no compositing"
        };
        row(
            &format!("memory idle, 10k convs, {}: PSS", m.mode),
            mbs(app),
            "",
            None,
        );
        if let Some(anon) = median_of(&m.app, |m| m.anon_mb) {
            row("  (of which anonymous)", mbs(&anon), "", None);
        }
        if let (Some(c), Some(r)) = (&m.chromium_pss_mb, m.ratio_app_chromium) {
            let ok = r <= MEMORY_RATIO_TARGET;
            row("  reference: its page in Chromium, PSS", mbs(c), "", None);
            row(
                "  app / Chromium, PSS",
                format!("{r:.2}x"),
                "<= 0.5x",
                Some(ok),
            );
            if !ok {
                missed.push(format!("memory vs Chromium, PSS ({label})"));
            }
        }
        if let (Some(b), Some(over)) = (&m.bare_pss_mb, m.app_over_bare_mb) {
            let ok = over <= ADDITION_TARGET_MB;
            row("  reference: a bare WebKitGTK page, PSS", mbs(b), "", None);
            row(
                "  app - bare page, PSS",
                format!("{over:.0} MB"),
                "<= 40 MB",
                Some(ok),
            );
            if !ok {
                missed.push(format!("addition over WebKitGTK, PSS ({label})"));
            }
        }
        if let (Some(a), Some(c), Some(b)) = (
            &m.app_footprint_mb,
            &m.chromium_footprint_mb,
            &m.bare_footprint_mb,
        ) {
            row("  footprint (shared files once): app", mbs(a), "", None);
            row(
                "  footprint: Chromium / bare page",
                format!("{:.0} / {:.0} MB", c.median, b.median),
                "",
                None,
            );
            if let (Some(r), Some(over)) =
                (m.footprint_ratio_app_chromium, m.footprint_app_over_bare_mb)
            {
                let ok = r <= MEMORY_RATIO_TARGET;
                row(
                    "  app / Chromium, footprint",
                    format!("{r:.2}x"),
                    "<= 0.5x",
                    Some(ok),
                );
                if !ok {
                    missed.push(format!("memory vs Chromium, footprint ({label})"));
                }
                let ok = over <= ADDITION_TARGET_MB;
                row(
                    "  app - bare page, footprint",
                    format!("{over:.0} MB"),
                    "<= 40 MB",
                    Some(ok),
                );
                if !ok {
                    missed.push(format!("addition over WebKitGTK, footprint ({label})"));
                }
            }
        }
    }
    if let Some((before, after, secs, words)) = &streamed {
        row(
            "memory before the answer (under WebDriver)",
            format!("{:.0} MB", before.pss_mb),
            "",
            None,
        );
        row(
            &format!("memory after a {ANSWER_TOKENS}-token answer: PSS"),
            format!("{:.0} MB", after.pss_mb),
            "",
            None,
        );
        row(
            &format!("  (streamed and rendered, {words} words, in)"),
            format!("{secs:.1} s"),
            "",
            None,
        );
    }
    for sm in &smooth {
        let name = format!(
            "{} pane(s) streaming {}k tokens each, typing:",
            sm.panes,
            sm.tokens_per_pane / 1000
        );
        row(&name, format!("{:.1} s", sm.stream_s), "", None);
        let p95_ok = sm.frame_p95_ms < FRAME_P95_TARGET_MS;
        let p99_ok = sm.frame_p99_ms < FRAME_P99_TARGET_MS;
        let keys_ok = sm.keystrokes_landed == sm.keystrokes_typed && sm.keystrokes_typed > 0;
        let gate = sm.panes == SMOOTH_PANES;
        row(
            &format!("  frame time p95 ({} frames)", sm.frames),
            format!("{:.1} ms", sm.frame_p95_ms),
            "< 16.7 ms",
            gate.then_some(p95_ok),
        );
        row(
            "  frame time p99",
            format!("{:.1} ms", sm.frame_p99_ms),
            "< 33 ms",
            gate.then_some(p99_ok),
        );
        row(
            "  (median / longest frame)",
            format!("{:.1} / {:.0} ms", sm.frame_p50_ms, sm.frame_max_ms),
            "",
            None,
        );
        row(
            "  script per frame: stream updates / of which Markdown",
            format!(
                "{:.1} / {:.1} ms",
                sm.update_ms_per_frame, sm.markdown_ms_per_frame
            ),
            "",
            None,
        );
        row(
            "  (one Markdown render of an answer)",
            format!("{:.2} ms", sm.markdown_ms_per_render),
            "",
            None,
        );
        row(
            "  keystrokes landed / typed",
            format!("{} / {}", sm.keystrokes_landed, sm.keystrokes_typed),
            "all",
            gate.then_some(keys_ok),
        );
        if gate && !p95_ok {
            missed.push("frame p95 in 6 panes".to_string());
        }
        if gate && !p99_ok {
            missed.push("frame p99 in 6 panes".to_string());
        }
        if gate && !keys_ok {
            missed.push("keystrokes in 6 panes".to_string());
        }
    }
    row(
        "release binary",
        format!("{:.1} MB", mb(bin_bytes)),
        "< 15 MB",
        Some(bin_ok),
    );
    if !bin_ok {
        missed.push("binary size".to_string());
    }
    match (deb_bytes, deb_ok) {
        (Some(b), Some(ok)) => {
            row(
                match deb_matches {
                    Some(true) => ".deb (holds this binary)",
                    Some(false) => ".deb (holds ANOTHER binary)",
                    None => ".deb",
                },
                format!("{:.1} MB", mb(b)),
                "< 10 MB",
                Some(ok),
            );
            if !ok {
                missed.push(".deb size".to_string());
            }
        }
        _ => row(
            ".deb (none: run `make bundle`)",
            "-".into(),
            "< 10 MB",
            None,
        ),
    }
    if full {
        println!("(start-up: median of {RUNS} rounds after a warm-up, each round launching every kind in turn; memory: PSS from /proc/PID/smaps_rollup of the process and its descendants, {MEMORY_RUNS} rounds)");
        if let Some(s) = &fresh {
            println!(
                "(start-up phases, first launch, median run: {})",
                s.median_phases
            );
        }
        for (k, s) in start.iter().enumerate() {
            let name = ["bare page", "signed in, 10k", "signed in, 100k"][k.min(2)];
            println!("(start-up phases, {name}, median run: {})", s.median_phases);
            println!("(start-up runs, {name}, ms: {:?})", s.runs_ms);
        }
        let top = |v: &[(String, f64)]| {
            v.iter()
                .take(8)
                .map(|(n, mb)| format!("{n} {mb:.1}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        for m in &modes {
            println!(
                "(idle, {}, MB of PSS (anonymous): app {} | Chromium {})",
                m.mode, m.app_processes, m.chromium_processes
            );
            println!(
                "(idle, {}, largest mappings, MB of PSS: app: {} | bare page: {} | Chromium: {})",
                m.mode,
                top(&m.app_mappings),
                top(&m.bare_mappings),
                top(&m.chromium_mappings)
            );
        }
        if let Some((_, after, _, _)) = &streamed {
            println!("(after the answer, MB of PSS: {})", breakdown(after));
        }
        if !idle_mappings.is_empty() {
            let top: Vec<String> = idle_mappings
                .iter()
                .take(10)
                .map(|(n, mb)| format!("{n} {mb:.1}"))
                .collect();
            println!(
                "(idle, 10k convs, largest mappings, MB of PSS: {})",
                top.join(", ")
            );
        }
        if !unanswered.is_empty() {
            println!(
                "(the page in Chromium asked for commands the app was not asked in the recording: {})",
                unanswered.join(", ")
            );
        }
    }
    let missed: Vec<&str> = missed.iter().map(String::as_str).collect();
    print_missed(&missed);

    if !full {
        return;
    }
    let report = serde_json::json!({
        "binary": { "path": bin, "bytes": bin_bytes },
        "deb": deb.as_ref().map(|d| serde_json::json!({
            "path": d,
            "bytes": deb_bytes,
            "holds_this_binary": deb_matches,
        })),
        "start_up_first_launch": fresh,
        "start_up_bare_webkit_page": start.first(),
        "start_up_signed_in_10k": start.get(1),
        "start_up_signed_in_100k": start.get(2),
        "start_up_ratio_10k": start_ratios.first(),
        "start_up_ratio_100k": start_ratios.get(1),
        "idle_by_mapping_mb": idle_mappings.iter().take(25).collect::<Vec<_>>(),
        "history": history_info,
        "history_large": large_info,
        "idle_memory_first_launch": {
            "pss_mb": median_of(&fresh_idle, |m| m.pss_mb),
            "runs": fresh_idle,
        },
        "memory_no_compositing": modes.first(),
        "memory_defaults": modes.get(1),
        "chromium": {
            "version": chromium_version,
            "page_commands": page_commands,
            "unanswered": unanswered,
        },
        "streamed_memory": streamed.as_ref().map(|(before, after, secs, words)| serde_json::json!({
            "tokens": ANSWER_TOKENS,
            "words_shown": words,
            "before": before,
            "after": after,
            "stream_s": secs,
        })),
        "smoothness": smooth.iter().map(|sm| serde_json::json!({
            "name": format!("{}_panes", sm.panes),
            "frame_p50_ms": sm.frame_p50_ms,
            "frame_p95_ms": sm.frame_p95_ms,
            "frame_p99_ms": sm.frame_p99_ms,
            "frame_max_ms": sm.frame_max_ms,
            "frames": sm.frames,
            "keystrokes_typed": sm.keystrokes_typed,
            "keystrokes_landed": sm.keystrokes_landed,
            "stream_s": sm.stream_s,
            "tokens_per_pane": sm.tokens_per_pane,
        })).collect::<Vec<_>>(),
        "targets": {
            "start_up_ratio": START_RATIO_TARGET,
            "frame_p95_ms": FRAME_P95_TARGET_MS,
            "frame_p99_ms": FRAME_P99_TARGET_MS,
            "memory_ratio_chromium": MEMORY_RATIO_TARGET,
            "addition_over_bare_mb": ADDITION_TARGET_MB,
            "binary_mb": BINARY_TARGET_MB,
            "deb_mb": DEB_TARGET_MB,
            "missed": missed,
        },
        "machine": {
            "nproc": nproc,
            "cpu": cpu,
            "ram_gb": ram_gb(),
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
        },
    });
    write_report(
        &target,
        match only.as_str() {
            "startup" => "app-startup",
            "smoothness" => "app-smoothness",
            _ => "app",
        },
        &report,
    );
}
