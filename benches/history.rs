//! The history at the size of issue 5 (10,000 conversations, 200,000 messages) and at ten times
//! that (issue 19: 100,000 / 2,000,000), with the growth of each figure from one to the other.
//! Criterion runs at the smaller size only.
//!
//! `make bench` (or `cargo bench --bench history`) builds such a database once with
//! [`sample::generate`] and caches it at `$CARGO_TARGET_DIR/bench-history-v{schema}.sqlite3`
//! (with a `.json` sidecar saying what it holds; it is rebuilt when the schema or the generator
//! changes). Each run works on a copy in a temporary folder and reports:
//!
//! - Criterion figures for `sidebar_load` (the sidebar's first page, [`History::list_page`], the
//!   database already open; a page half way down is timed too) and
//!   `search/*` (a common word, a rare word, two words, a prefix, two letters typed, with and
//!   without a provider or model filter);
//! - its own median and 95th percentile over 200 timed runs of each, the first
//!   [`History::open`] of the big file, and the file's size against the text it holds, as a
//!   table and as JSON in `$CARGO_TARGET_DIR/bench/history.json`. A missed target is reported,
//!   never a failure.
//!
//! `SWITCHBOARD_BENCH_KEEP_DB=path/to/history.sqlite3 make bench` also copies the generated
//! database there, for trying the app on it (`SWITCHBOARD_DATA_DIR` points the app at a data
//! folder; the history file in it is `history.sqlite3`).
//!
//! Run by `cargo test --benches` (no `--bench` argument) it is a smoke test: a small database,
//! a few runs, nothing cached or written.

mod common;

use common::{cpu_model, file_len, print_missed, target_dir, verdict, write_report, CacheInfo};
use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode};
use switchboard_core::history::{schema, History, ListCursor, SearchQuery};
use switchboard_testkit::sample::{self, SampleStats};

const CONVERSATIONS: usize = 10_000;
/// Ten times issue 5's size (issue 19): 100,000 conversations, 2,000,000 messages.
const LARGE_CONVERSATIONS: usize = 100_000;
const SIZES: [usize; 2] = [CONVERSATIONS, LARGE_CONVERSATIONS];
const MESSAGES_PER_CONVERSATION: usize = 20;
const SEED: u64 = 5;
/// Timed runs of each measurement for the medians and 95th percentiles: up to `RUNS`, fewer
/// (but at least `MIN_RUNS`) when they take more than `BUDGET` together.
const RUNS: usize = 200;
const MIN_RUNS: usize = 5;
const BUDGET: Duration = Duration::from_secs(10);

const SIDEBAR_TARGET_MS: f64 = 100.0;
const SEARCH_TARGET_MS: f64 = 50.0;
/// "Within a few times the size of the text it holds."
const RATIO_TARGET: f64 = 3.0;

struct Query {
    name: &'static str,
    query: SearchQuery,
}

fn queries() -> Vec<Query> {
    let q = |name, text: &str, model: Option<&str>, provider: Option<&str>| Query {
        name,
        query: SearchQuery {
            text: text.into(),
            model: model.map(Into::into),
            provider: provider.map(Into::into),
            limit: None,
        },
    };
    vec![
        q("common_word", "data", None, None),
        q("rare_word", "axolotl", None, None),
        q("two_words", "sqlite index", None, None),
        q("prefix", "optim", None, None),
        q("one_letter_typed", "t", None, None),
        q("two_letters_typed", "da", None, None),
        q("common_word_provider", "data", None, Some("groq")),
        q("two_words_provider", "sqlite index", None, Some("nebius")),
        q(
            "common_word_model",
            "data",
            Some("deepseek-ai/DeepSeek-R1"),
            None,
        ),
    ]
}

#[derive(Debug, Clone, Copy)]
struct Timing {
    runs: usize,
    median_ms: f64,
    p95_ms: f64,
    max_ms: f64,
}

fn timing(samples: &mut [f64]) -> Timing {
    samples.sort_by(f64::total_cmp);
    let at =
        |p: f64| samples[((p * samples.len() as f64).ceil() as usize).clamp(1, samples.len()) - 1];
    Timing {
        runs: samples.len(),
        median_ms: at(0.5),
        p95_ms: at(0.95),
        max_ms: samples[samples.len() - 1],
    }
}

fn time_runs<T>(runs: usize, mut f: impl FnMut() -> T) -> Vec<f64> {
    // One run first, untimed: the statement cache and the page cache warm up.
    black_box(f());
    let started = Instant::now();
    let mut samples = Vec::with_capacity(runs);
    while samples.len() < runs && (samples.len() < MIN_RUNS || started.elapsed() < BUDGET) {
        let t = Instant::now();
        black_box(f());
        samples.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    samples
}

fn first_page(history: &History) -> Vec<switchboard_core::history::ConversationSummary> {
    history
        .list_page(false, None, Some(History::SIDEBAR_PAGE))
        .unwrap()
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// Database file plus its write-ahead log.
fn db_bytes(path: &Path) -> u64 {
    file_len(path) + file_len(&with_suffix(path, "-wal"))
}

fn generate(path: &Path, conversations: usize) -> (SampleStats, f64) {
    let started = Instant::now();
    let history = History::open(path).expect("open a new history");
    let stats = sample::generate(&history, conversations, MESSAGES_PER_CONVERSATION, SEED)
        .expect("generate the sample history");
    drop(history);
    (stats, started.elapsed().as_secs_f64())
}

/// The database to measure, copied to `work`: from the cache when it is current, else
/// generated (and cached when `cache` is given). Returns what it holds and whether it was cached.
fn prepare(work: &Path, conversations: usize, cache: Option<&Path>) -> (CacheInfo, bool) {
    let want = |stats, generation_s| CacheInfo {
        schema: schema::CURRENT,
        generator: sample::VERSION,
        conversations,
        messages_per_conversation: MESSAGES_PER_CONVERSATION,
        seed: SEED,
        stats,
        generation_s,
    };
    if let Some(cache) = cache {
        let info_path = cache.with_extension("json");
        let cached: Option<CacheInfo> = std::fs::read(&info_path)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(info) = cached {
            let same = want(info.stats, info.generation_s);
            if info == same
                && file_len(&with_suffix(cache, "-wal")) == 0
                && std::fs::copy(cache, work).is_ok()
            {
                return (info, true);
            }
        }
        eprintln!(
            "Generating {conversations} conversations x {MESSAGES_PER_CONVERSATION} messages (cached at {} for the next runs)…",
            cache.display()
        );
        let (stats, secs) = generate(work, conversations);
        let info = want(stats, secs);
        let tmp = with_suffix(cache, ".tmp");
        std::fs::create_dir_all(cache.parent().unwrap()).expect("create the cache folder");
        std::fs::copy(work, &tmp).expect("copy the database to the cache");
        std::fs::rename(&tmp, cache).expect("move the database into the cache");
        std::fs::write(&info_path, serde_json::to_vec_pretty(&info).unwrap())
            .expect("write the cache sidecar");
        (info, false)
    } else {
        let (stats, secs) = generate(work, conversations);
        (want(stats, secs), false)
    }
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` does not.
    let full = std::env::args().any(|a| a == "--bench");
    let target = target_dir();
    let sizes: &[usize] = if full { &SIZES } else { &[50] };
    let runs = if full { RUNS } else { 3 };
    let mut results = Vec::new();
    for (i, &conversations) in sizes.iter().enumerate() {
        let cache = full.then(|| cache_path(&target, conversations));
        // Criterion once, at issue 5's size; the larger size gets our own figures only.
        results.push(measure(conversations, runs, cache.as_deref(), i == 0, full));
    }
    let missed: Vec<String> = results.iter().flat_map(|r| r.missed.clone()).collect();
    if let [small, large] = &results[..] {
        let growth = |a: f64, b: f64| b / a;
        println!();
        println!(
            "Growth from {} to {} conversations ({:.0}x the messages):",
            small.conversations,
            large.conversations,
            large.messages as f64 / small.messages.max(1) as f64
        );
        println!(
            "| {:<34} | {:>10} | {:>10} | {:>8} |",
            "figure", "small", "large", "growth"
        );
        println!("|{:-<36}|{:->12}|{:->12}|{:->10}|", "", "", "", "");
        for (name, a, b) in [
            (
                "sidebar p95 (ms)",
                small.sidebar.p95_ms,
                large.sidebar.p95_ms,
            ),
            ("search p95 (ms)", small.search.p95_ms, large.search.p95_ms),
            (
                "search median (ms)",
                small.search.median_ms,
                large.search.median_ms,
            ),
            ("first open (ms)", small.open_ms, large.open_ms),
            ("database (MiB)", small.db_mib, large.db_mib),
        ] {
            println!(
                "| {name:<34} | {a:>10.2} | {b:>10.2} | {:>7.1}x |",
                growth(a, b)
            );
        }
    }
    let missed: Vec<&str> = missed.iter().map(String::as_str).collect();
    print_missed(&missed);

    if !full {
        return;
    }
    let mut report = serde_json::Map::new();
    for r in &results {
        report.insert(format!("c{}", r.conversations), r.json.clone());
    }
    write_report(&target, "history", &serde_json::Value::Object(report));
}

/// The cached database of a size: issue 5's keeps its old name (benches/app.rs reads it).
fn cache_path(target: &Path, conversations: usize) -> PathBuf {
    if conversations == CONVERSATIONS {
        target.join(format!("bench-history-v{}.sqlite3", schema::CURRENT))
    } else {
        target.join(format!(
            "bench-history-{conversations}-v{}.sqlite3",
            schema::CURRENT
        ))
    }
}

/// What one size measured.
struct Measured {
    conversations: usize,
    messages: usize,
    sidebar: Timing,
    search: Timing,
    open_ms: f64,
    db_mib: f64,
    missed: Vec<String>,
    json: serde_json::Value,
}

/// Prepares a history of `conversations` (from `cache` when current), measures it and prints its
/// table.
fn measure(
    conversations: usize,
    runs: usize,
    cache: Option<&Path>,
    with_criterion: bool,
    full: bool,
) -> Measured {
    let dir = tempfile::tempdir().expect("temporary folder");
    let path = dir.path().join("history.sqlite3");
    let (info, cached) = prepare(&path, conversations, cache);
    if conversations == CONVERSATIONS {
        if let Some(keep) = std::env::var_os("SWITCHBOARD_BENCH_KEEP_DB").filter(|p| !p.is_empty())
        {
            let keep = PathBuf::from(keep);
            if let Some(parent) = keep.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .expect("create the folder of SWITCHBOARD_BENCH_KEEP_DB");
            }
            std::fs::copy(&path, &keep).expect("copy the database to SWITCHBOARD_BENCH_KEEP_DB");
            eprintln!("Kept the generated database at {}", keep.display());
        }
    }

    // The first open of the big file in this process (the OS may have it in its page cache).
    let started = Instant::now();
    let history = History::open(&path).expect("open the sample history");
    let open_ms = started.elapsed().as_secs_f64() * 1000.0;
    let db = db_bytes(&path);
    let sidebar_rows = history.list(false).unwrap().len();

    let queries = queries();
    if with_criterion && full {
        let mut criterion = Criterion::default()
            .sample_size(30)
            .warm_up_time(Duration::from_secs(1))
            .measurement_time(Duration::from_secs(3))
            .configure_from_args();
        criterion.bench_function("sidebar_load", |b| {
            b.iter(|| black_box(first_page(&history)))
        });
        {
            let mut group = criterion.benchmark_group("search");
            // Each sample the same number of runs: a slow query does not take minutes.
            group.sampling_mode(SamplingMode::Flat).sample_size(10);
            for q in &queries {
                group.bench_function(q.name, |b| {
                    b.iter(|| black_box(history.search(&q.query).unwrap()))
                });
            }
            group.finish();
        }
        criterion.final_summary();
    }

    // Our own figures.
    // What the sidebar loads: its first page, and (scrolled half way down) a page from the middle.
    let sidebar = timing(&mut time_runs(runs, || first_page(&history)));
    let all = history.list(false).unwrap();
    let middle = &all[all.len() / 2];
    let cursor = ListCursor {
        pinned: middle.pinned,
        at: middle.updated_at,
        id: middle.id.clone(),
    };
    let sidebar_deep = timing(&mut time_runs(runs, || {
        history
            .list_page(false, Some(&cursor), Some(History::SIDEBAR_PAGE))
            .unwrap()
    }));
    drop(all);
    let facets = timing(&mut time_runs(runs, || history.facets().unwrap()));
    let mut all_search = Vec::new();
    let mut per_query = Vec::new();
    for q in &queries {
        let hits = history.search(&q.query).unwrap().len();
        let mut samples = time_runs(runs, || history.search(&q.query).unwrap());
        all_search.extend_from_slice(&samples);
        per_query.push((q, hits, timing(&mut samples)));
    }
    let search = timing(&mut all_search);
    let stats = info.stats;
    let ratio = db as f64 / stats.text_bytes.max(1) as f64;
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let cpu = cpu_model();

    let sidebar_ok = sidebar.p95_ms < SIDEBAR_TARGET_MS;
    let search_ok = search.p95_ms < SEARCH_TARGET_MS;
    let ratio_ok = ratio <= RATIO_TARGET;
    let mb = |b: u64| b as f64 / 1_048_576.0;

    println!();
    println!(
        "History benchmark: {} conversations, {} messages ({} in the sidebar), SQLite {}",
        stats.conversations,
        stats.messages,
        sidebar_rows,
        rusqlite::version()
    );
    println!("Machine: {cpu}, {nproc} CPU(s)");
    println!(
        "Database {}: generated in {:.1} s{}",
        path.file_name().unwrap().to_string_lossy(),
        info.generation_s,
        if cached { " (earlier run; cached)" } else { "" }
    );
    println!();
    println!(
        "| {:<34} | {:>10} | {:>10} | {:>5} | {:>10} | {:<7} |",
        "measure", "median", "p95", "runs", "target", "verdict"
    );
    println!(
        "|{:-<36}|{:->12}|{:->12}|{:->7}|{:->12}|{:-<9}|",
        "", "", "", "", "", ""
    );
    let row = |name: &str, t: &Timing, target: Option<f64>| {
        let (target, verdict) = match target {
            Some(ms) => (format!("< {ms:.0} ms"), verdict(t.p95_ms < ms)),
            None => (String::new(), ""),
        };
        println!(
            "| {:<34} | {:>7.2} ms | {:>7.2} ms | {:>5} | {:>10} | {:<7} |",
            name, t.median_ms, t.p95_ms, t.runs, target, verdict
        );
    };
    row(
        "sidebar: first page (200 rows)",
        &sidebar,
        Some(SIDEBAR_TARGET_MS),
    );
    row("sidebar: a page half way down", &sidebar_deep, None);
    row("search: all queries", &search, Some(SEARCH_TARGET_MS));
    for (q, hits, t) in &per_query {
        let mut name = format!("  {} ({hits} hits)", q.name);
        name.truncate(34);
        row(&name, t, None);
    }
    row("facets (models, providers)", &facets, None);
    let other = |name: &str, value: String, ratio: &str, target: &str, verdict: &str| {
        println!(
            "| {:<34} | {:>10} | {:>10} | {:>5} | {:>10} | {:<7} |",
            name, value, ratio, "", target, verdict
        );
    };
    other(
        "first History::open",
        format!("{open_ms:.1} ms"),
        "",
        "",
        "",
    );
    other(
        "text (contents, reasoning, titles)",
        format!("{:.1} MiB", mb(stats.text_bytes)),
        "",
        "",
        "",
    );
    other(
        "database (file + WAL)",
        format!("{:.1} MiB", mb(db)),
        &format!("{ratio:.2}x"),
        &format!("<= {RATIO_TARGET:.0}x"),
        verdict(ratio_ok),
    );
    println!(
        "Verdicts use the 95th percentile; up to {runs} runs each, fewer when they take over {} s.",
        BUDGET.as_secs()
    );
    let missed: Vec<String> = [
        (!sidebar_ok).then_some("sidebar"),
        (!search_ok).then_some("search"),
        (!ratio_ok).then_some("size"),
    ]
    .into_iter()
    .flatten()
    .map(|m| format!("{m} at {conversations}"))
    .collect();

    let json = serde_json::json!({
        "conversations": stats.conversations,
        "messages": stats.messages,
        "text_bytes": stats.text_bytes,
        "db_bytes": db,
        "ratio_db_text": ratio,
        "sidebar_median_ms": sidebar.median_ms,
        "sidebar_p95_ms": sidebar.p95_ms,
        "sidebar_deep_median_ms": sidebar_deep.median_ms,
        "sidebar_deep_p95_ms": sidebar_deep.p95_ms,
        "search_median_ms": search.median_ms,
        "search_p95_ms": search.p95_ms,
        "open_ms": open_ms,
        "facets_median_ms": facets.median_ms,
        "generation_s": info.generation_s,
        "generation_cached": cached,
        "max_runs": runs,
        "sidebar_runs": sidebar.runs,
        "searches": per_query.iter().map(|(q, hits, t)| serde_json::json!({
            "name": q.name,
            "query": q.query,
            "hits": hits,
            "median_ms": t.median_ms,
            "p95_ms": t.p95_ms,
            "max_ms": t.max_ms,
            "runs": t.runs,
        })).collect::<Vec<_>>(),
        "targets": {
            "sidebar_p95_ms": SIDEBAR_TARGET_MS,
            "search_p95_ms": SEARCH_TARGET_MS,
            "ratio_db_text": RATIO_TARGET,
            "sidebar_met": sidebar_ok,
            "search_met": search_ok,
            "ratio_met": ratio_ok,
        },
        "machine": {
            "nproc": nproc,
            "cpu": cpu,
            "os": std::env::consts::OS,
            "arch": std::env::consts::ARCH,
            "sqlite": rusqlite::version(),
        },
    });
    Measured {
        conversations: stats.conversations,
        messages: stats.messages,
        sidebar,
        search,
        open_ms,
        db_mib: mb(db),
        missed,
        json,
    }
}
