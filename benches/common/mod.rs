//! What the benchmarks share: where to write, the machine they ran on, the verdict column, and
//! the sidecar describing the cached history database (written by history.rs, read by app.rs).
//! Each benchmark uses part of it.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use switchboard_testkit::sample::SampleStats;

/// Cargo's build folder: `CARGO_TARGET_DIR`, else worked out from the bench binary's path
/// (`target/<profile>/deps/<bench>-<hash>`).
pub fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR").filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.ancestors().nth(3).map(Path::to_path_buf))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// A file's size, 0 when it is missing.
pub fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

pub fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The "met?" column.
pub fn verdict(ok: bool) -> &'static str {
    if ok {
        "ok"
    } else {
        "MISSED"
    }
}

/// The last line of the table: which targets were missed, if any.
pub fn print_missed(missed: &[&str]) {
    if missed.is_empty() {
        println!("All targets met.");
    } else {
        println!("TARGETS MISSED: {}", missed.join(", "));
    }
}

/// Writes a benchmark's figures to `<target>/bench/<name>.json`, to compare runs over time. The
/// previous run's file is kept beside it as `<name>.previous.json`, and the change of every
/// figure since then is printed (see [`print_changes`]).
pub fn write_report(target: &Path, name: &str, report: &serde_json::Value) {
    let dir = target.join("bench");
    let out = dir.join(format!("{name}.json"));
    let previous = dir.join(format!("{name}.previous.json"));
    std::fs::create_dir_all(&dir).expect("create the bench folder");
    let before: Option<serde_json::Value> = std::fs::read(&out)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok());
    let print = |before: &serde_json::Value| {
        print_changes(before, report);
    };
    if before.is_some() {
        std::fs::rename(&out, &previous)
            .unwrap_or_else(|e| panic!("keep the previous bench/{name}.json: {e}"));
    }
    std::fs::write(&out, serde_json::to_string_pretty(report).unwrap() + "\n")
        .unwrap_or_else(|e| panic!("write bench/{name}.json: {e}"));
    println!("Written: {}", out.display());
    match before {
        Some(before) => print(&before),
        None => println!("(no previous run to compare with)"),
    }
}

/// Keys whose numbers are not figures: counts, settings, the machine, the targets.
const NOT_FIGURES: &[&str] = &[
    "machine",
    "targets",
    "runs",
    "max_runs",
    "hits",
    "chunks",
    "conversations",
    "messages",
    "tokens",
    "pid",
    "generation_cached",
    "after_first_paint_s",
    "schema",
    "generator",
    "seed",
    "messages_per_conversation",
    "stats",
    "history",
    "query",
    "processes",
    "panes",
    "frames",
    "keystrokes_typed",
    "tokens_per_pane",
    "history_large",
    "words_shown",
];

/// Whether a larger value of this figure is better (throughput); otherwise smaller is better
/// (times, sizes, memory, ratios).
fn higher_is_better(path: &str) -> bool {
    path.contains("per_s") || path.ends_with("_met") || path.contains("keystrokes_landed")
}

/// The figures of a report: every number under an object key, by its path (`a.b.c`), leaving
/// out [`NOT_FIGURES`] and lists, except lists of named objects (`searches[common_word]`).
pub fn figures(v: &serde_json::Value) -> Vec<(String, f64)> {
    fn walk(v: &serde_json::Value, path: &str, out: &mut Vec<(String, f64)>) {
        match v {
            serde_json::Value::Number(n) => {
                if let Some(f) = n.as_f64() {
                    out.push((path.to_string(), f));
                }
            }
            serde_json::Value::Object(map) => {
                for (k, v) in map {
                    if NOT_FIGURES.contains(&k.as_str()) {
                        continue;
                    }
                    let p = if path.is_empty() {
                        k.clone()
                    } else {
                        format!("{path}.{k}")
                    };
                    walk(v, &p, out);
                }
            }
            serde_json::Value::Array(items) => {
                for item in items {
                    if let Some(name) = item.get("name").and_then(|n| n.as_str()) {
                        walk(item, &format!("{path}[{name}]"), out);
                    }
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, "", &mut out);
    out
}

/// Worse by more than this fraction is flagged (not a failure: the machine is noisy).
pub const REGRESSION: f64 = 0.10;

/// The change of every figure since the previous run: a table of before, now and the change in
/// %, a figure worse by more than [`REGRESSION`] flagged `WORSE`. Returns the flagged figures.
pub fn print_changes(before: &serde_json::Value, now: &serde_json::Value) -> Vec<String> {
    let old: std::collections::HashMap<String, f64> = figures(before).into_iter().collect();
    println!();
    println!("Change since the previous run (worse by more than 10 % is flagged WORSE):");
    println!(
        "| {:<60} | {:>12} | {:>12} | {:>8} | {:<6} |",
        "figure", "previous", "now", "change", "flag"
    );
    println!(
        "|{:-<62}|{:->14}|{:->14}|{:->10}|{:-<8}|",
        "", "", "", "", ""
    );
    let mut flagged = Vec::new();
    for (path, value) in figures(now) {
        let Some(&prev) = old.get(&path) else {
            println!(
                "| {path:<60} | {:>12} | {value:>12.3} | {:>8} | new    |",
                "-", ""
            );
            continue;
        };
        let change = if prev == 0.0 {
            if value == 0.0 {
                0.0
            } else {
                f64::INFINITY.copysign(value)
            }
        } else {
            (value - prev) / prev.abs()
        };
        let worse = if higher_is_better(&path) {
            -change
        } else {
            change
        };
        let flag = if worse > REGRESSION {
            flagged.push(path.clone());
            "WORSE"
        } else {
            ""
        };
        println!(
            "| {path:<60} | {prev:>12.3} | {value:>12.3} | {:>7.1}% | {flag:<6} |",
            change * 100.0
        );
    }
    if flagged.is_empty() {
        println!("No figure is worse by more than 10 %.");
    } else {
        println!("WORSE by more than 10 %: {}", flagged.join(", "));
    }
    flagged
}

/// What a cached history database holds (the sidecar next to it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheInfo {
    pub schema: u32,
    pub generator: u32,
    pub conversations: usize,
    pub messages_per_conversation: usize,
    pub seed: u64,
    pub stats: SampleStats,
    pub generation_s: f64,
}
