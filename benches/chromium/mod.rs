//! The Electron-class reference of benches/app.rs (issue 19): Switchboard's own page in Debian's
//! Chromium, in app mode, without the Rust side.
//!
//! [`PageServer`] serves `ui/dist` on loopback, with `index.html` loading the bench-only IPC
//! mock (`ui/bench/mock-ipc.ts`, bundled here with the esbuild of `ui/node_modules`) before the
//! app's module. The mock sends every command to `/__bench/ipc`, which answers what the real app
//! answered in the same run: while [`PageServer::record_from`] is set, each command is passed
//! to the running app (over WebDriver) and its answer kept; afterwards the kept answers are
//! replayed (same command and arguments, else the last answer to that command). The page's
//! `report_first_paint` call becomes the `SWITCHBOARD_FIRST_PAINT` line the bench waits for.
#![allow(dead_code)]

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{mpsc, Arc, Mutex};

use serde_json::{json, Value};

/// Passes a command to the real app and returns `{ok}` or `{err}`.
pub type Recorder = Box<dyn Fn(&str, &Value) -> Value + Send + Sync>;

#[derive(Default)]
struct State {
    /// `cmd` + arguments (JSON) → answer.
    exact: HashMap<String, Value>,
    /// `cmd` → its last answer.
    by_cmd: HashMap<String, Value>,
    record: Option<Arc<Recorder>>,
    /// Where the next first-paint line goes.
    painted: Option<mpsc::Sender<String>>,
    /// Commands the page asked for that were never recorded.
    unanswered: Vec<String>,
    /// Every command the page called, in order (of the last launch).
    called: Vec<String>,
}

pub struct PageServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

/// The Chromium binary: `$SWITCHBOARD_CHROMIUM`, else Debian's `chromium` on the PATH.
pub fn chromium_bin() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("SWITCHBOARD_CHROMIUM").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("chromium"))
            .find(|p| p.is_file())
    })
}

/// Chromium's version line ("Chromium 142.0…"), for the report.
pub fn chromium_version(bin: &Path) -> String {
    Command::new(bin)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

/// Bundles the IPC mock into one classic script (IIFE).
fn bundle_mock(ui: &Path, out: &Path) -> Vec<u8> {
    let status = Command::new(ui.join("node_modules/.bin/esbuild"))
        .current_dir(ui)
        .args([
            "bench/mock-ipc.ts",
            "--bundle",
            "--format=iife",
            "--target=es2020",
            "--log-level=warning",
        ])
        .arg(format!("--outfile={}", out.display()))
        .status()
        .expect("run esbuild (ui/node_modules: `make deps`)");
    assert!(
        status.success(),
        "esbuild could not bundle ui/bench/mock-ipc.ts"
    );
    std::fs::read(out).expect("read the bundled IPC mock")
}

impl PageServer {
    /// Serves `ui/dist` (built by `make ui`) and the mock on a loopback port.
    pub fn start(repo: &Path, scratch: &Path) -> PageServer {
        let ui = repo.join("ui");
        let dist = ui.join("dist");
        let index = std::fs::read_to_string(dist.join("index.html"))
            .expect("ui/dist/index.html (run `make ui`)");
        // A classic script runs before the deferred module script of the app.
        let index = index.replacen(
            "<script type=\"module\"",
            "<script src=\"/__bench/mock-ipc.js\"></script>\n    <script type=\"module\"",
            1,
        );
        assert!(
            index.contains("/__bench/mock-ipc.js"),
            "index.html has no module script"
        );
        let mock = bundle_mock(&ui, &scratch.join("mock-ipc.js"));
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = (Arc::new(dist), Arc::new(index), Arc::new(mock));
        {
            let state = state.clone();
            std::thread::spawn(move || {
                for stream in listener.incoming().flatten() {
                    let state = state.clone();
                    let (dist, index, mock) =
                        (shared.0.clone(), shared.1.clone(), shared.2.clone());
                    std::thread::spawn(move || {
                        let _ = serve(stream, &dist, &index, &mock, &state);
                    });
                }
            });
        }
        PageServer { port, state }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/index.html", self.port)
    }

    /// Passes the page's commands to the real app (and keeps the answers) until `None`.
    pub fn record_from(&self, recorder: Option<Recorder>) {
        self.state.lock().unwrap().record = recorder.map(Arc::new);
    }

    /// Passes one command to the real app while recording (as if the page had called it).
    pub fn record(&self, cmd: &str, args: &Value) {
        let body = serde_json::to_vec(&json!({ "cmd": cmd, "args": args })).unwrap();
        answer(&self.state, &body);
    }

    /// The next launch's first-paint lines.
    pub fn expect_paint(&self) -> mpsc::Receiver<String> {
        let (tx, rx) = mpsc::channel();
        let mut s = self.state.lock().unwrap();
        s.painted = Some(tx);
        s.called.clear();
        rx
    }

    pub fn unanswered(&self) -> Vec<String> {
        self.state.lock().unwrap().unanswered.clone()
    }

    pub fn called(&self) -> Vec<String> {
        self.state.lock().unwrap().called.clone()
    }

    pub fn recorded(&self) -> usize {
        self.state.lock().unwrap().exact.len()
    }
}

fn answer(state: &Mutex<State>, body: &[u8]) -> Value {
    let req: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let cmd = req["cmd"].as_str().unwrap_or("").to_string();
    let args = req["args"].clone();
    let key = format!("{cmd} {args}");
    let recorder = {
        let mut s = state.lock().unwrap();
        s.called.push(cmd.clone());
        if cmd == "report_first_paint" {
            let a = &args["args"];
            let line = format!(
                "SWITCHBOARD_FIRST_PAINT {:.1} {}",
                a["msSinceNavigationStart"].as_f64().unwrap_or(f64::NAN),
                a["phases"].as_str().unwrap_or("")
            );
            if let Some(tx) = &s.painted {
                let _ = tx.send(line);
            }
            return json!({ "ok": null });
        }
        s.record.clone()
    };
    if let Some(recorder) = recorder {
        let got = recorder(&cmd, &args);
        let mut s = state.lock().unwrap();
        s.exact.insert(key, got.clone());
        s.by_cmd.insert(cmd, got.clone());
        return got;
    }
    let mut s = state.lock().unwrap();
    if let Some(v) = s.exact.get(&key).or_else(|| s.by_cmd.get(&cmd)).cloned() {
        return v;
    }
    if !s.unanswered.contains(&cmd) {
        s.unanswered.push(cmd.clone());
    }
    json!({ "err": { "code": "internal", "message": format!("bench: {cmd} was not recorded") } })
}

fn content_type(path: &str) -> &'static str {
    match path.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" => "text/javascript",
        "css" => "text/css",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "json" => "application/json",
        "woff2" => "font/woff2",
        "ico" => "image/x-icon",
        _ => "application/octet-stream",
    }
}

fn serve(
    stream: TcpStream,
    dist: &Path,
    index: &str,
    mock: &[u8],
    state: &Mutex<State>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut out = stream;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let mut parts = line.split_whitespace();
        let method = parts.next().unwrap_or("").to_string();
        let path = parts.next().unwrap_or("/").to_string();
        let mut len = 0usize;
        loop {
            let mut h = String::new();
            if reader.read_line(&mut h)? == 0 {
                return Ok(());
            }
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            if let Some((k, v)) = h.split_once(':') {
                if k.eq_ignore_ascii_case("content-length") {
                    len = v.trim().parse().unwrap_or(0);
                }
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body)?;
        let path = path.split('?').next().unwrap_or("/").to_string();
        let (status, ctype, bytes): (&str, &str, Vec<u8>) = match (method.as_str(), path.as_str()) {
            ("POST", "/__bench/ipc") => (
                "200 OK",
                "application/json",
                serde_json::to_vec(&answer(state, &body)).unwrap(),
            ),
            ("GET", "/" | "/index.html") => {
                ("200 OK", content_type("x.html"), index.as_bytes().to_vec())
            }
            ("GET", "/__bench/mock-ipc.js") => ("200 OK", "text/javascript", mock.to_vec()),
            ("GET", p) if !p.contains("..") => match std::fs::read(dist.join(&p[1..])) {
                Ok(b) => ("200 OK", content_type(p), b),
                Err(_) => ("404 Not Found", "text/plain", b"not found".to_vec()),
            },
            _ => ("404 Not Found", "text/plain", b"not found".to_vec()),
        };
        write!(
            out,
            "HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\r\n",
            bytes.len()
        )?;
        out.write_all(&bytes)?;
        out.flush()?;
    }
}

/// Chromium's command line for the page at `url`: app mode, a fresh profile, no background
/// networking; `gpu: false` turns GPU compositing off (the reference's no-compositing mode).
pub fn chromium_args(url: &str, profile: &Path, gpu: bool) -> Vec<String> {
    let mut args = vec![
        format!("--app={url}"),
        format!("--user-data-dir={}", profile.display()),
        "--no-first-run".into(),
        "--no-default-browser-check".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
        "--disable-quic".into(),
        "--password-store=basic".into(),
        "--window-size=1280,800".into(),
    ];
    if !gpu {
        args.push("--disable-gpu".into());
        args.push("--disable-gpu-compositing".into());
    }
    // Chromium refuses to run as root with its sandbox.
    if is_root() {
        args.push("--no-sandbox".into());
    }
    args
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(1).map(|u| u == "0"))
        })
        .unwrap_or(false)
}
