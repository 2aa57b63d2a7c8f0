//! Processes seen through `/proc` (Linux): who is whose parent, a process and all its
//! descendants, stopping one by its PID, and how much memory a process tree holds. Processes
//! are always found from a PID we know (parent links), never by name.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Serialize;

use crate::desktop::App;

/// Parent of every process, from `/proc/*/stat`.
pub fn parents() -> HashMap<u32, u32> {
    let mut map = HashMap::new();
    for e in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(e.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid …": comm may hold spaces and parentheses.
        let Some((_, rest)) = stat.rsplit_once(')') else {
            continue;
        };
        if let Some(ppid) = rest.split_whitespace().nth(1).and_then(|s| s.parse().ok()) {
            map.insert(pid, ppid);
        }
    }
    map
}

/// `root` and all its descendants, `root` first.
pub fn tree(root: u32) -> Vec<u32> {
    let parents = parents();
    let mut out = vec![root];
    let mut i = 0;
    while i < out.len() {
        let p = out[i];
        let mut children: Vec<u32> = parents
            .iter()
            .filter(|(_, &pp)| pp == p)
            .map(|(&c, _)| c)
            .collect();
        children.sort_unstable();
        out.extend(children);
        i += 1;
    }
    out
}

/// Whether a process with this PID exists.
pub fn alive(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

/// Whether the process `pid` exists and has not ended (an ended child of ours that was not
/// waited for yet is a zombie: it exists, but does not run).
pub fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let (_, rest) = stat.rsplit_once(')')?;
            rest.split_whitespace()
                .next()
                .map(|state| state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// Sends `signal` (`-TERM`, `-KILL`…) to the process `pid`, with kill(1); errors are ignored
/// (the process may be gone already).
pub fn kill(signal: &str, pid: u32) {
    let _ = Command::new("kill")
        .args([signal, &pid.to_string()])
        .stderr(Stdio::null())
        .status();
}

/// Kills `pid` with SIGKILL, as a crash would, and checks the signal was delivered.
pub fn kill_9(pid: u32) {
    let status = Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill -9 {pid} failed");
}

/// The app's PID, as it reports it itself (the `app_info` command), through a WebDriver session.
pub async fn pid_of(app: &App) -> u32 {
    let info = app
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];\
             window.__TAURI_INTERNALS__.invoke('app_info').then(done, e => done(null));",
            vec![],
        )
        .await
        .unwrap();
    info["pid"].as_u64().expect("app_info answers its pid") as u32
}

/// The memory of one process (`/proc/PID/smaps_rollup`).
#[derive(Debug, Clone, Serialize)]
pub struct ProcMem {
    pub pid: u32,
    /// `/proc/PID/comm`, for reports only (processes are found by parent links).
    pub comm: String,
    pub pss_kb: u64,
    pub rss_kb: u64,
    /// Anonymous pages (heaps, the JS heap, buffers): what the process allocated, as opposed
    /// to the libraries' code and data mapped from files.
    pub anon_kb: u64,
}

/// The memory of a process tree: sums in MB, and each process.
#[derive(Debug, Clone, Serialize)]
pub struct Memory {
    pub pss_mb: f64,
    /// [`footprint_mb`]: shared files once, whatever else runs.
    pub footprint_mb: f64,
    pub rss_mb: f64,
    pub anon_mb: f64,
    pub processes: Vec<ProcMem>,
}

/// The proportional set size (and RSS, anonymous pages) of `root` and all its descendants.
/// Processes that end while being read are left out.
pub fn memory(root: u32) -> Memory {
    let mut processes = Vec::new();
    for pid in tree(root) {
        let Ok(rollup) = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")) else {
            continue;
        };
        let field = |name: &str| {
            rollup
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        let comm = std::fs::read_to_string(format!("/proc/{pid}/comm"))
            .map(|s| s.trim().to_string())
            .unwrap_or_default();
        processes.push(ProcMem {
            pid,
            comm,
            pss_kb: field("Pss:"),
            rss_kb: field("Rss:"),
            anon_kb: field("Anonymous:"),
        });
    }
    let kb = |f: fn(&ProcMem) -> u64| processes.iter().map(f).sum::<u64>() as f64 / 1024.0;
    Memory {
        footprint_mb: footprint_mb(root),
        pss_mb: kb(|p| p.pss_kb),
        rss_mb: kb(|p| p.rss_kb),
        anon_mb: kb(|p| p.anon_kb),
        processes,
    }
}

/// The memory of `root` and its descendants counted as if they ran alone, in MB: every
/// physical page of a mapped file that a process of the tree has resident, counted once (the
/// union of their page frames, from `/proc/PID/pagemap`), plus anonymous memory by PSS (pages
/// shared copy-on-write between processes of the tree are divided among them). PSS divides a
/// library's pages among every process that maps them, other programs' included, so it moves
/// with what else runs: on a shared machine where other WebKit programs come and go, this
/// figure stays put. Reading page frames needs root (CAP_SYS_ADMIN); without it the file part
/// falls back to each file's largest resident size in any one process of the tree.
pub fn footprint_mb(root: u32) -> f64 {
    use std::io::{Read, Seek, SeekFrom};
    const PAGE: u64 = 4096;
    let mut frames: std::collections::HashSet<u64> = std::collections::HashSet::new();
    let mut by_file: HashMap<String, u64> = HashMap::new();
    let mut anon_kb = 0u64;
    let mut frames_readable = true;
    for pid in tree(root) {
        let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
            continue;
        };
        let mut pagemap = std::fs::File::open(format!("/proc/{pid}/pagemap")).ok();
        let mut per_file: HashMap<String, u64> = HashMap::new();
        let mut file: Option<String> = None;
        for line in smaps.lines() {
            let mut parts = line.split_whitespace();
            let first = parts.next().unwrap_or("");
            let mut value = || {
                parts
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0)
            };
            if first == "Rss:" {
                if let Some(f) = &file {
                    *per_file.entry(f.clone()).or_default() += value();
                }
            } else if first == "Pss:" {
                if file.is_none() {
                    anon_kb += value();
                }
            } else if first.contains('-') && !first.ends_with(':') {
                // "start-end perms offset dev inode [path]": a path starting with '/' is a file
                // (shared memory files included); [heap], [stack] and unnamed ones are anonymous.
                file = parts
                    .nth(4)
                    .filter(|p| p.starts_with('/'))
                    .map(str::to_string);
                let (Some(_), Some(pm)) = (&file, pagemap.as_mut()) else {
                    continue;
                };
                let Some((a, b)) = first.split_once('-') else {
                    continue;
                };
                let (Ok(a), Ok(b)) = (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16))
                else {
                    continue;
                };
                let mut buf = vec![0u8; ((b - a) / PAGE * 8) as usize];
                if pm.seek(SeekFrom::Start(a / PAGE * 8)).is_err()
                    || pm.read_exact(&mut buf).is_err()
                {
                    continue;
                }
                for entry in buf.chunks_exact(8) {
                    let e = u64::from_le_bytes(entry.try_into().unwrap());
                    if e >> 63 == 1 {
                        let pfn = e & ((1 << 55) - 1);
                        if pfn == 0 {
                            frames_readable = false;
                        } else {
                            frames.insert(pfn);
                        }
                    }
                }
            }
        }
        for (f, kb) in per_file {
            let e = by_file.entry(f).or_default();
            *e = (*e).max(kb);
        }
    }
    let file_kb = if frames_readable && !frames.is_empty() {
        frames.len() as u64 * PAGE / 1024
    } else {
        by_file.values().sum::<u64>()
    };
    (file_kb + anon_kb) as f64 / 1024.0
}

/// PSS in MB by mapping (a library's file name, or `[anon]`, `[heap]`…) over `root` and its
/// descendants, largest first: where the memory is.
pub fn by_mapping(root: u32) -> Vec<(String, f64)> {
    let mut kb: HashMap<String, u64> = HashMap::new();
    for pid in tree(root) {
        let Ok(smaps) = std::fs::read_to_string(format!("/proc/{pid}/smaps")) else {
            continue;
        };
        let mut name = String::new();
        for line in smaps.lines() {
            let mut parts = line.split_whitespace();
            let first = parts.next().unwrap_or("");
            if first == "Pss:" {
                let v = parts
                    .next()
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(0);
                *kb.entry(name.clone()).or_default() += v;
            } else if first.contains('-') && !first.ends_with(':') {
                // "start-end perms offset dev inode [path]"
                name = parts
                    .nth(4)
                    .map(|p| p.rsplit('/').next().unwrap_or(p).to_string())
                    .unwrap_or_else(|| "[anon]".into());
            }
        }
    }
    let mut out: Vec<(String, f64)> = kb
        .into_iter()
        .map(|(n, v)| (n, v as f64 / 1024.0))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;
    use std::time::{Duration, Instant};

    #[test]
    fn a_child_is_in_its_parents_tree_and_is_stopped_by_its_pid() {
        let me = std::process::id();
        let mut child = Command::new("sleep").arg("30").spawn().expect("sleep");
        let pid = child.id();
        assert_eq!(parents().get(&pid), Some(&me));
        let t = tree(me);
        assert_eq!(t[0], me);
        assert!(t.contains(&pid), "{t:?}");
        assert!(alive(pid) && running(pid));

        let m = memory(me);
        assert!(m.processes.iter().any(|p| p.pid == me && p.pss_kb > 0));
        assert!(m.pss_mb > 0.0 && m.rss_mb >= m.pss_mb);
        assert!(!by_mapping(me).is_empty());
        // Shared files once: at least this process's PSS, at most the tree's RSS.
        assert!(m.footprint_mb >= m.processes[0].pss_kb as f64 / 1024.0 * 0.9);
        assert!(
            m.footprint_mb <= m.rss_mb * 1.1,
            "{} vs {}",
            m.footprint_mb,
            m.rss_mb
        );

        kill("-TERM", pid);
        let deadline = Instant::now() + Duration::from_secs(5);
        while running(pid) {
            assert!(Instant::now() < deadline, "sleep did not end");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(
            alive(pid),
            "a child that was not waited for stays, as a zombie"
        );
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().unwrap().is_none() {
            assert!(Instant::now() < deadline, "sleep was not stopped");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(!alive(pid));
    }
}
