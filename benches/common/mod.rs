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

/// Writes a benchmark's figures to `<target>/bench/<name>.json`, to compare runs over time.
pub fn write_report(target: &Path, name: &str, report: &serde_json::Value) {
    let out = target.join("bench").join(format!("{name}.json"));
    std::fs::create_dir_all(out.parent().unwrap()).expect("create the bench folder");
    std::fs::write(&out, serde_json::to_string_pretty(report).unwrap() + "\n")
        .unwrap_or_else(|e| panic!("write bench/{name}.json: {e}"));
    println!("Written: {}", out.display());
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
