//! End-to-end harness: the real app binary in a real window, driven over WebDriver.
//!
//! Per test, every process is started here and stopped by its PID (never by name):
//! `Xvfb` (its own display), a private `dbus-daemon` (no service activation, so nothing starts
//! behind our back), `gnome-keyring-daemon --unlock --components=secrets` fed a password on
//! stdin, and `tauri-driver` (which runs Debian's `WebKitWebDriver`, which runs the app).
//! HOME, XDG_RUNTIME_DIR and the app's data folder are temporary folders; the app's endpoints
//! point at the in-process HF test double.
//!
//! Used by the app crate's end-to-end tests (tests/e2e) and its app benchmark (benches/app.rs).
//! The app they launch is built with the `e2e-hooks` feature when a test answers file dialogs
//! (`SWITCHBOARD_E2E_DIALOG_FILE`) or reads the first-paint report.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::error::NewSessionError;
use fantoccini::{Client, ClientBuilder, Locator};
use hf_double::HfDouble;
use serde_json::json;

/// How long a user-visible change may take before a test gives up waiting for it.
pub const UI_TIMEOUT: Duration = Duration::from_secs(20);

/// A process we started; killed by PID when dropped.
pub struct Proc {
    name: &'static str,
    child: Child,
}

impl Proc {
    fn spawn(name: &'static str, cmd: &mut Command) -> Proc {
        let child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("could not start {name}: {e} (run `make test-deps`)"));
        Proc { name, child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn assert_running(&mut self) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!("{} exited early: {status}", self.name);
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        // SIGTERM first so daemons can clean up, then SIGKILL.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(3);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `cond` until it holds or `timeout` passes.
pub fn wait_until(what: &str, timeout: Duration, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(25));
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn tool(name: &str) -> PathBuf {
    // tauri-driver is installed by `make test-deps` into cargo's bin folder.
    if let Ok(home) = std::env::var("CARGO_HOME") {
        let p = Path::new(&home).join("bin").join(name);
        if p.exists() {
            return p;
        }
    }
    if let Ok(home) = std::env::var("HOME") {
        let p = Path::new(&home).join(".cargo/bin").join(name);
        if p.exists() {
            return p;
        }
    }
    PathBuf::from(name)
}

/// The desktop session of one test: display, bus, keyring, folders.
pub struct Desktop {
    pub dir: tempfile::TempDir,
    pub display: String,
    pub bus: String,
    // Held to be stopped when the desktop is dropped, in this order: keyring before bus before
    // display.
    keyring: Option<Proc>,
    #[allow(dead_code)]
    dbus: Proc,
    #[allow(dead_code)]
    xvfb: Proc,
}

pub const KEYRING_PASSWORD: &str = "switchboard-e2e-keyring";

impl Desktop {
    /// Starts Xvfb at `width`x`height`, a private bus, and (when `with_keyring`) an unlocked
    /// gnome-keyring.
    pub fn start(width: u32, height: u32, with_keyring: bool) -> Desktop {
        let dir = tempfile::Builder::new()
            .prefix("switchboard-e2e-")
            .tempdir()
            .unwrap();
        for sub in ["home", "run", "data", "shots"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();

        // Xvfb picks a free display and writes its number to stdout.
        let mut xvfb = Proc::spawn(
            "Xvfb",
            Command::new("Xvfb")
                .args(["-displayfd", "1", "-screen", "0"])
                .arg(format!("{width}x{height}x24"))
                .args(["-nolisten", "tcp", "-noreset"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut line = String::new();
        BufReader::new(xvfb.child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let display = format!(":{}", line.trim());
        assert!(
            line.trim().parse::<u32>().is_ok(),
            "Xvfb did not report a display"
        );

        // A bus with no service activation: only what we start is on it.
        let config = dir.path().join("bus.conf");
        std::fs::write(
            &config,
            format!(
                r#"<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:dir={}</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>"#,
                dir.path().join("run").display()
            ),
        )
        .unwrap();
        let mut dbus = Proc::spawn(
            "dbus-daemon",
            Command::new("dbus-daemon")
                .arg(format!("--config-file={}", config.display()))
                .args(["--nofork", "--print-address=1"])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut bus = String::new();
        BufReader::new(dbus.child.stdout.take().unwrap())
            .read_line(&mut bus)
            .unwrap();
        let bus = bus.trim().to_string();
        assert!(
            bus.starts_with("unix:"),
            "dbus-daemon did not report an address"
        );

        let mut desktop = Desktop {
            dir,
            display,
            bus,
            keyring: None,
            dbus,
            xvfb,
        };
        if with_keyring {
            desktop.start_keyring();
        }
        desktop
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }
    pub fn runtime_dir(&self) -> PathBuf {
        self.dir.path().join("run")
    }
    pub fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    /// The environment every process of this desktop runs with.
    pub fn env(&self, cmd: &mut Command) {
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", self.home())
            .env("XDG_RUNTIME_DIR", self.runtime_dir())
            .env("DISPLAY", &self.display)
            .env("DBUS_SESSION_BUS_ADDRESS", &self.bus)
            .env("LANG", "C.UTF-8")
            // Software rendering: no GPU under Xvfb.
            .env("WEBKIT_DISABLE_COMPOSITING_MODE", "1")
            .env("LIBGL_ALWAYS_SOFTWARE", "1");
    }

    fn bus_has(&self, name: &str) -> bool {
        let mut cmd = Command::new("dbus-send");
        self.env(&mut cmd);
        cmd.args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
        ])
        .arg(format!("string:{name}"));
        cmd.output()
            .map(|o| String::from_utf8_lossy(&o.stdout).contains("boolean true"))
            .unwrap_or(false)
    }

    fn start_keyring(&mut self) {
        let mut cmd = Command::new("gnome-keyring-daemon");
        self.env(&mut cmd);
        cmd.args(["--foreground", "--unlock", "--components=secrets"])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let mut keyring = Proc::spawn("gnome-keyring-daemon", &mut cmd);
        {
            let mut stdin = keyring.child.stdin.take().unwrap();
            stdin.write_all(KEYRING_PASSWORD.as_bytes()).unwrap();
            // Dropping stdin closes it: the daemon reads the password to EOF.
        }
        let mut k = Some(keyring);
        wait_until("the keyring on the bus", UI_TIMEOUT, || {
            k.as_mut().unwrap().assert_running();
            self.bus_has("org.freedesktop.secrets")
        });
        self.keyring = k;
    }

    /// Saves a screenshot of the whole display (the app's window) as `name.png` in the shots
    /// folder, and in `$SWITCHBOARD_SCREENSHOTS` when set, and returns its path. ImageMagick's
    /// `import`, because WebKitWebDriver's own screenshot call hangs under Xvfb.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let path = self.dir.path().join("shots").join(format!("{name}.png"));
        let import = if Path::new("/usr/bin/import").exists() {
            "/usr/bin/import"
        } else {
            "import"
        };
        let status = Command::new(import)
            .args(["-display", &self.display, "-window", "root"])
            .arg(&path)
            .status()
            .expect("ImageMagick's import (run `make test-deps`)");
        assert!(status.success(), "screenshot failed");
        if let Ok(keep) = std::env::var("SWITCHBOARD_SCREENSHOTS") {
            std::fs::create_dir_all(&keep).unwrap();
            std::fs::copy(&path, Path::new(&keep).join(format!("{name}.png"))).unwrap();
        }
        path
    }

    /// Every file under HOME and the data folder whose bytes contain `needle`.
    pub fn files_containing(&self, needle: &str) -> Vec<PathBuf> {
        fn walk(dir: &Path, needle: &[u8], out: &mut Vec<PathBuf>) {
            let Ok(entries) = std::fs::read_dir(dir) else {
                return;
            };
            for e in entries.flatten() {
                let p = e.path();
                let Ok(ft) = e.file_type() else { continue };
                if ft.is_dir() {
                    walk(&p, needle, out);
                } else if ft.is_file() {
                    if let Ok(bytes) = std::fs::read(&p) {
                        if bytes.windows(needle.len()).any(|w| w == needle) {
                            out.push(p);
                        }
                    }
                }
            }
        }
        let mut out = Vec::new();
        walk(self.dir.path(), needle.as_bytes(), &mut out);
        out
    }

    /// Number of files under a folder (to prove a scan looked at something).
    pub fn count_files(dir: &Path) -> usize {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return 0;
        };
        entries
            .flatten()
            .map(|e| {
                if e.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                    Self::count_files(&e.path())
                } else {
                    1
                }
            })
            .sum()
    }
}

/// tauri-driver for one desktop, and the app it runs.
pub struct Driver {
    port: u16,
    proc: Proc,
}

impl Driver {
    pub fn start(desktop: &Desktop, double: &HfDouble) -> Driver {
        Self::start_with(desktop, double, &[])
    }

    /// [`Driver::start`] with extra environment for the app (e.g. the test's file-dialog answer).
    pub fn start_with(desktop: &Desktop, double: &HfDouble, env: &[(&str, &str)]) -> Driver {
        let port = free_port();
        let native = free_port();
        let mut cmd = Command::new(tool("tauri-driver"));
        desktop.env(&mut cmd);
        cmd.env("SWITCHBOARD_HUB_URL", double.hub_url())
            .env("SWITCHBOARD_ROUTER_URL", double.router_url())
            .env(
                "SWITCHBOARD_PROVIDER_BASE_URL",
                double.provider_base_template(),
            )
            .env("SWITCHBOARD_DATA_DIR", desktop.data_dir())
            // Timeouts a test can wait for.
            .env("SWITCHBOARD_CHAT_TIMEOUT_SECS", "3")
            .envs(env.iter().copied())
            .args([
                "--port",
                &port.to_string(),
                "--native-port",
                &native.to_string(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut proc = Proc::spawn("tauri-driver", &mut cmd);
        // tauri-driver listens as soon as it has spawned WebKitWebDriver, which listens a little
        // later: until then tauri-driver drops every request it forwards. Both must listen.
        wait_until("both WebDriver servers to listen", UI_TIMEOUT, || {
            proc.assert_running();
            let listens = |port| TcpStream::connect(("127.0.0.1", port)).is_ok();
            listens(port) && listens(native)
        });
        Driver { port, proc }
    }

    /// Launches the app under test ([`app_binary`]) and returns a WebDriver session on its
    /// window.
    pub async fn launch(&self) -> App {
        let app = app_binary();
        self.launch_bin(&app.to_string_lossy()).await
    }

    /// [`Driver::launch`] with another build of the app (benches/app.rs: the release binary).
    pub async fn launch_bin(&self, application: &str) -> App {
        let mut caps = serde_json::Map::new();
        caps.insert(
            "tauri:options".into(),
            json!({ "application": application }),
        );
        caps.insert("browserName".into(), json!("wry"));
        let client = self.session(caps).await;
        let app = App { client };
        // The app is up when its UI has rendered past "Starting…".
        app.wait_for_any(&[
            "[data-testid=token-input]",
            "[data-testid=account-name]",
            "[data-testid=composer]",
        ])
        .await;
        app
    }

    /// A new WebDriver session on this driver (which starts the app): [`new_session`].
    async fn session(&self, caps: serde_json::Map<String, serde_json::Value>) -> Client {
        let pid = self.proc.pid();
        new_session(self.port, caps, || crate::procs::running(pid)).await
    }
}

/// A new WebDriver session from the server on `port`. A connection error (hyper's
/// `IncompleteMessage`: tauri-driver drops the request when WebKitWebDriver does not answer yet)
/// is retried once the server answers `GET /status`, at most [`SESSION_ATTEMPTS`] times in all
/// and within [`SESSION_TIMEOUT`], while `server_running` holds; any other error fails at once.
async fn new_session(
    port: u16,
    caps: serde_json::Map<String, serde_json::Value>,
    server_running: impl Fn() -> bool,
) -> Client {
    // Only plain HTTP to tauri-driver on loopback, but the builder wants a TLS backend.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + SESSION_TIMEOUT;
    let mut attempt = 1;
    loop {
        let result = ClientBuilder::rustls()
            .expect("rustls")
            .capabilities(caps.clone())
            .connect(&url)
            .await;
        let error = match result {
            Ok(client) => return client,
            Err(e) => e,
        };
        let retry = matches!(
            error,
            NewSessionError::Failed(_) | NewSessionError::FailedC(_) | NewSessionError::Lost(_)
        );
        if !retry || attempt >= SESSION_ATTEMPTS || Instant::now() >= deadline {
            panic!(
                "WebDriver session (is WebKitWebDriver installed?), attempt {attempt}: {error:?}"
            );
        }
        eprintln!(
            "WebDriver session, attempt {attempt}: {error:?}; waiting for the driver to answer"
        );
        loop {
            assert!(server_running(), "the WebDriver server exited: {error:?}");
            if status_answers(port).await {
                break;
            }
            if Instant::now() >= deadline {
                panic!("the WebDriver server did not answer within {SESSION_TIMEOUT:?}: {error:?}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        attempt += 1;
    }
}

/// How long creating a WebDriver session may be retried on connection errors.
pub const SESSION_TIMEOUT: Duration = Duration::from_secs(30);
/// How many times creating a WebDriver session is tried, at most.
pub const SESSION_ATTEMPTS: u32 = 5;

/// Whether the WebDriver server on `port` answers `GET /status` with an HTTP 200 (through
/// tauri-driver, that means WebKitWebDriver answers too).
async fn status_answers(port: u16) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let ask = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(b"GET /status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            .await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        Ok::<bool, std::io::Error>(head.starts_with(b"HTTP/1.1 200"))
    };
    matches!(
        tokio::time::timeout(Duration::from_secs(2), ask).await,
        Ok(Ok(true))
    )
}

/// The app binary [`Driver::launch`] starts: `$CARGO_BIN_EXE_switchboard` when set at run time,
/// else `switchboard` next to the running test's `deps` folder, where Cargo puts the app crate's
/// binary when it builds the crate's tests or benches (`target/<profile>/switchboard`).
pub fn app_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("CARGO_BIN_EXE_switchboard").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let exe = std::env::current_exe().expect("the test's own path");
    let mut dir = exe.parent().expect("the test's folder").to_path_buf();
    if dir.ends_with("deps") {
        dir.pop();
    }
    let app = dir.join(format!("switchboard{}", std::env::consts::EXE_SUFFIX));
    assert!(
        app.exists(),
        "no app binary at {} (run the tests of the app crate: `cargo test -p switchboard`)",
        app.display()
    );
    app
}

pub struct App {
    pub client: Client,
}

impl App {
    pub async fn wait_for(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(UI_TIMEOUT)
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} did not appear: {e}"))
    }

    pub async fn wait_for_any(&self, selectors: &[&str]) {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            for s in selectors {
                if self.client.find(Locator::Css(s)).await.is_ok() {
                    return;
                }
            }
            assert!(Instant::now() < deadline, "none of {selectors:?} appeared");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the element's rendered text (`innerText`) contains `expected`, and returns
    /// the text. (WebKitWebDriver's own element text skips text in `overflow: hidden` boxes
    /// with ellipsis, which users do see.)
    pub async fn wait_for_text(&self, css: &str, expected: &str) -> String {
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            if let Ok(el) = self.client.find(Locator::Css(css)).await {
                if let Ok(Some(text)) = el.prop("innerText").await {
                    if text.contains(expected) {
                        return text;
                    }
                    assert!(
                        Instant::now() < deadline,
                        "{css} shows {text:?}, not {expected:?}"
                    );
                }
            }
            assert!(Instant::now() < deadline, "{css} did not show {expected:?}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page has painted twice more, so a screenshot shows the latest state.
    pub async fn settle(&self) {
        let _ = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];\
                 requestAnimationFrame(() => requestAnimationFrame(() => setTimeout(done, 50)));",
                vec![],
            )
            .await;
    }

    /// The element's rendered text (`innerText`).
    pub async fn text(&self, css: &str) -> String {
        self.wait_for(css)
            .await
            .prop("innerText")
            .await
            .unwrap()
            .unwrap_or_default()
    }

    /// Clicks the element, centred in its scroll area first (WebKitWebDriver scrolls it just to
    /// the edge, where a sticky header may cover it).
    pub async fn click(&self, css: &str) {
        let el = self.wait_for(css).await;
        let arg = serde_json::to_value(&el).unwrap();
        let _ = self
            .client
            .execute("arguments[0].scrollIntoView({block: 'center'});", vec![arg])
            .await;
        el.click().await.unwrap();
    }

    /// Replaces the field's text. The UI may re-render the field between finding and typing
    /// (a stale element): then it is found again, a bounded number of times.
    pub async fn type_into(&self, css: &str, text: &str) {
        let mut attempts = 0;
        loop {
            let el = self.wait_for(css).await;
            match el.clear().await {
                Ok(()) => match el.send_keys(text).await {
                    Ok(()) => return,
                    Err(e) if attempts < 3 => log_retry(css, &e),
                    Err(e) => panic!("typing into {css}: {e}"),
                },
                Err(e) if attempts < 3 => log_retry(css, &e),
                Err(e) => panic!("clearing {css}: {e}"),
            }
            attempts += 1;
        }
    }

    pub async fn exists(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Runs `script` in the page and returns what it returns.
    pub async fn js(&self, script: &str) -> serde_json::Value {
        self.client.execute(script, vec![]).await.unwrap()
    }

    /// Waits until `script` returns `true`; `what` says what did not happen.
    pub async fn wait_js(&self, what: &str, script: &str) {
        let deadline = Instant::now() + UI_TIMEOUT;
        while self.js(script).await != json!(true) {
            assert!(Instant::now() < deadline, "{what}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until exactly `n` elements match `css`.
    pub async fn wait_count(&self, css: &str, n: usize) {
        let script = format!("return document.querySelectorAll({}).length;", json!(css));
        let deadline = Instant::now() + UI_TIMEOUT;
        loop {
            let got = self.js(&script).await;
            if got == json!(n) {
                return;
            }
            assert!(Instant::now() < deadline, "{css}: {got} shown, not {n}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Chooses a `<select>`'s option by value, as a user picking it would (a `change` event),
    /// once the select is enabled and has that option.
    pub async fn select(&self, testid: &str, value: &str) {
        self.wait_for(&format!(
            "[data-testid={testid}]:not([disabled]) option[value={}]",
            json!(value)
        ))
        .await;
        let script = format!(
            "const s = document.querySelector('[data-testid={testid}]'); s.value = {v}; s.dispatchEvent(new Event('change', {{bubbles: true}})); return s.value;",
            v = json!(value)
        );
        assert_eq!(
            self.js(&script).await,
            json!(value),
            "{testid} has no option {value}"
        );
    }

    /// Quits the app (ends the WebDriver session, which closes the window).
    pub async fn quit(self) {
        self.client.close().await.expect("close session");
    }
}

fn log_retry(css: &str, e: &fantoccini::error::CmdError) {
    eprintln!("{css} changed while typing ({e}); finding it again");
}

/// A whole test may take this long; past it, it fails (and its processes are stopped) rather
/// than hanging the suite.
pub const TEST_TIMEOUT: Duration = Duration::from_secs(240);

/// Runs a test body under [`TEST_TIMEOUT`].
pub async fn within_time_limit(body: impl std::future::Future<Output = ()>) {
    tokio::time::timeout(TEST_TIMEOUT, body)
        .await
        .expect("end-to-end test took too long");
}

/// Only one app at a time: two WebKit processes on 2 cores make every wait slower.
pub static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// What every end-to-end test starts with: the HF test double, a desktop of `width`x`height`
/// (with or without a keyring) and tauri-driver pointed at both. Bind the three in this order
/// so they stop in reverse: driver (and app), desktop, double.
pub async fn rig(width: u32, height: u32, with_keyring: bool) -> (HfDouble, Desktop, Driver) {
    rig_with(width, height, with_keyring, &[]).await
}

/// [`rig`] with extra environment for the app.
pub async fn rig_with(
    width: u32,
    height: u32,
    with_keyring: bool,
    env: &[(&str, &str)],
) -> (HfDouble, Desktop, Driver) {
    let double = HfDouble::start(&hf_double::default_fixtures_dir())
        .await
        .expect("start the HF test double");
    let desktop = Desktop::start(width, height, with_keyring);
    let driver = Driver::start_with(&desktop, &double, env);
    (double, desktop, driver)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::{TcpListener, TcpStream};

    /// Reads one HTTP request: its first line, then the body by its length.
    async fn request(stream: &mut TcpStream) -> String {
        let mut buf = Vec::new();
        let mut byte = [0u8; 1];
        while !buf.ends_with(b"\r\n\r\n") {
            if stream.read(&mut byte).await.unwrap_or(0) == 0 {
                break;
            }
            buf.push(byte[0]);
        }
        let head = String::from_utf8_lossy(&buf).to_string();
        let len = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse::<usize>().ok())?
            })
            .unwrap_or(0);
        let mut body = vec![0u8; len];
        let _ = stream.read_exact(&mut body).await;
        head.lines().next().unwrap_or("").to_string()
    }

    /// A WebDriver server that, like tauri-driver before WebKitWebDriver listens, drops the
    /// first `drops` session requests without an answer.
    async fn flaky_driver(drops: usize) -> (u16, Arc<AtomicUsize>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let sessions = Arc::new(AtomicUsize::new(0));
        let seen = sessions.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let line = request(&mut stream).await;
                let body = if line.starts_with("POST /session ") {
                    if seen.fetch_add(1, Ordering::SeqCst) < drops {
                        continue; // dropped: the client sees an incomplete message
                    }
                    r#"{"value":{"sessionId":"s1","capabilities":{}}}"#
                } else if line.starts_with("GET /status ") {
                    r#"{"value":{"ready":true,"message":""}}"#
                } else {
                    r#"{"value":null}"#
                };
                let answer = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes()).await;
            }
        });
        (port, sessions)
    }

    #[tokio::test]
    async fn a_dropped_session_request_is_tried_again_once_the_driver_answers() {
        let (port, sessions) = flaky_driver(2).await;
        assert!(status_answers(port).await);
        let client = new_session(port, serde_json::Map::new(), || true).await;
        assert_eq!(sessions.load(Ordering::SeqCst), 3);
        drop(client);
    }

    #[tokio::test]
    #[should_panic(expected = "attempt 5")]
    async fn a_driver_that_keeps_dropping_session_requests_fails_after_a_few_attempts() {
        let (port, _) = flaky_driver(usize::MAX).await;
        new_session(port, serde_json::Map::new(), || true).await;
    }

    #[tokio::test]
    async fn a_closed_port_does_not_answer() {
        let port = free_port();
        assert!(!status_answers(port).await);
    }
}
