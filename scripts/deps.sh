#!/usr/bin/env bash
# Installs what Switchboard needs to build (and, with --test, to run its whole test suite) on
# Debian/Ubuntu. Only missing pieces are installed. Elsewhere it prints what to install.
#   scripts/deps.sh          build and run: Rust toolchain, WebKitGTK and friends, npm packages
#   scripts/deps.sh --test   also Xvfb, WebKitWebDriver, gnome-keyring, D-Bus, tauri-driver
#   scripts/deps.sh --bench  the test tools, and Chromium (make bench-app's Electron-class reference)
set -euo pipefail
cd "$(dirname "$0")/.."

# gstreamer1.0-plugins-good: WebKitGTK plays audio and video through GStreamer; WAV, WebM (VP8/VP9)
# and MP4 demuxing are in the "good" set (the speech and video players need them).
BUILD_PKGS=(build-essential pkg-config file libwebkit2gtk-4.1-dev libxdo-dev libssl-dev
  libayatana-appindicator3-dev librsvg2-dev libdbus-1-dev gstreamer1.0-plugins-good)
TEST_PKGS=(xvfb webkit2gtk-driver gnome-keyring dbus dbus-daemon dbus-bin xauth imagemagick xclip)
NODE_MIN=20.19.0
TAURI_DRIVER_VERSION="2.1.0"

# The benchmarks' reference browser: not needed to build or test.
BENCH_PKGS=(chromium)

want_test=0
want_bench=0
[[ "${1:-}" == "--test" ]] && want_test=1
[[ "${1:-}" == "--bench" ]] && want_test=1 && want_bench=1

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }

# --- Debian packages -----------------------------------------------------------------------
pkgs=("${BUILD_PKGS[@]}")
((want_test)) && pkgs+=("${TEST_PKGS[@]}")
((want_bench)) && pkgs+=("${BENCH_PKGS[@]}")
if command -v dpkg-query >/dev/null && command -v apt-get >/dev/null; then
  missing=()
  for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    SUDO=""
    [[ $(id -u) -ne 0 ]] && SUDO="sudo"
    # Package lists first: on a fresh machine apt knows no package until it has them.
    $SUDO apt-get update -qq -o Acquire::Retries=3
    # Older releases have no separate dbus-daemon/dbus-bin packages: skip names apt does not know.
    known=()
    for p in "${missing[@]}"; do
      apt-cache show "$p" >/dev/null 2>&1 && known+=("$p")
    done
    if ((${#known[@]})); then
      say "Installing Debian packages: ${known[*]}"
      DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${known[@]}"
    fi
  fi
else
  cat <<MSG
This is not a Debian/Ubuntu system, so nothing was installed. Switchboard needs:
  - Rust (https://rustup.rs) and Node.js >= $NODE_MIN with npm
  - Tauri's system libraries: https://v2.tauri.app/start/prerequisites/
    (Fedora: webkit2gtk4.1-devel openssl-devel libappindicator-gtk3-devel librsvg2-devel dbus-devel;
     Arch: webkit2gtk-4.1 base-devel openssl libappindicator-gtk3 librsvg dbus;
     macOS: Xcode command line tools; Windows: WebView2 and the MSVC build tools)
  - for the tests: Xvfb, WebKitWebDriver, gnome-keyring, dbus, xclip, and 'cargo install tauri-driver'
MSG
fi

# --- Toolchains ----------------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  echo "Rust is missing: install it with rustup (https://rustup.rs), then run this again." >&2
  exit 1
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "Node.js >= $NODE_MIN and npm are missing: install them (e.g. from https://nodejs.org or NodeSource), then run this again." >&2
  exit 1
fi
node_version=$(node --version | tr -d v)
if [[ "$(printf '%s\n%s\n' "$NODE_MIN" "$node_version" | sort -V | head -1)" != "$NODE_MIN" ]]; then
  echo "Node.js $node_version is too old: Vite 7 needs >= $NODE_MIN." >&2
  exit 1
fi

# --- npm packages (from the committed lockfile) --------------------------------------------
if [[ ! -d ui/node_modules ]] || [[ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]]; then
  say "Installing npm packages (npm ci)"
  npm --prefix ui ci --no-audit --no-fund --loglevel=error
fi

# --- tauri-driver (WebDriver bridge for the end-to-end tests) ------------------------------
if ((want_test)); then
  cargo_bin="${CARGO_HOME:-$HOME/.cargo}/bin"
  if ! "$cargo_bin/tauri-driver" --help >/dev/null 2>&1 && ! command -v tauri-driver >/dev/null; then
    say "Installing tauri-driver $TAURI_DRIVER_VERSION (cargo install)"
    cargo install tauri-driver --version "$TAURI_DRIVER_VERSION" --locked --quiet
  fi
fi
