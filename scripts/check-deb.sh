#!/usr/bin/env bash
# Checks the release .deb without installing it (dpkg-deb --info / --contents): control fields,
# the binary, the desktop entry and the icons. Builds nothing: `make check-deb` runs
# `make bundle` first. The package is $SWITCHBOARD_DEB, else the newest one `make bundle` made
# under $CARGO_TARGET_DIR/release/bundle/deb/; with neither it says so and skips.
set -euo pipefail
cd "$(dirname "$0")/.."

target="${CARGO_TARGET_DIR:-$HOME/.cache/switchboard/target}"
if [[ -n "${SWITCHBOARD_DEB:-}" ]]; then
  deb="$SWITCHBOARD_DEB"
  [[ -f "$deb" ]] || { echo "SWITCHBOARD_DEB=$deb: no such file" >&2; exit 1; }
else
  deb=$(ls -1t "$target"/release/bundle/deb/*.deb 2>/dev/null | head -1 || true)
  if [[ -z "$deb" ]]; then
    echo "check-deb: no .deb under $target/release/bundle/deb/ (run 'make bundle'): skipped"
    exit 0
  fi
fi
echo "Checking $deb"

passed=0
failed=0
ok() { echo "  ok: $*"; passed=$((passed + 1)); }
bad() { echo "  FAILED: $*" >&2; failed=$((failed + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what="$1"
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

# --- control fields ----------------------------------------------------------------------
field() { dpkg-deb --field "$deb" "$1"; }
version=$(sed -n 's/^ *"version": *"\([^"]*\)".*/\1/p' tauri.conf.json | head -1)
arch=$(dpkg --print-architecture)
depends=$(field Depends)
# One Depends entry (comma-separated), spaces trimmed, per line.
depends_list=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ *$//')

check "Package is switchboard (got '$(field Package)')" test "$(field Package)" = switchboard
check "Version is $version from tauri.conf.json (got '$(field Version)')" test "$(field Version)" = "$version"
check "Architecture is $arch (got '$(field Architecture)')" test "$(field Architecture)" = "$arch"
check "Maintainer and Description are set" test -n "$(field Maintainer)" -a -n "$(field Description)"
for dep in libwebkit2gtk-4.1-0 libgtk-3-0; do
  check "Depends on $dep" grep -qx "$dep\( *(.*)\)\?" <<<"$depends_list"
done
# Tokens live in the Secret Service: one provider of it is required, any of them will do.
secret_providers='^(gnome-keyring|kwalletmanager|keepassxc)( *\(.*\))?$'
check "Depends on a Secret Service provider (gnome-keyring | kwalletmanager | keepassxc)" \
  grep -qE '(^|\| *)gnome-keyring( |$)' <<<"$depends_list"
secret_alts=$(grep -E 'gnome-keyring' <<<"$depends_list" | tr '|' '\n' | sed 's/^ *//; s/ *$//')
check "every alternative of that entry provides the Secret Service ($(tr '\n' ' ' <<<"$secret_alts"))" \
  bash -c '! grep -vqE "$1" <<<"$2"' _ "$secret_providers" "$secret_alts"

# --- files ---------------------------------------------------------------------------------
contents=$(dpkg-deb --contents "$deb")
# "perms owner size date time path" -> "perms path", paths without a leading "./".
files=$(awk '{print $1, $6}' <<<"$contents" | sed 's# \./# #')
has() { grep -qE "^$1 $2\$" <<<"$files"; }

check "the binary is usr/bin/switchboard, executable" has '-rwxr-xr-x' 'usr/bin/switchboard'
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Extracts members (paths without "./", whichever way the archive spells them) into $tmp.
extract() { dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards "${@/#/*}" 2>/dev/null || true; }
extract usr/bin/switchboard
check "usr/bin/switchboard is an ELF executable" bash -c 'head -c 4 "$1" | grep -q "ELF"' _ "$tmp/usr/bin/switchboard"

desktop=$(grep -oE 'usr/share/applications/[^ ]+\.desktop$' <<<"$files" | head -1 || true)
check "a desktop entry under usr/share/applications/ (${desktop:-none})" test -n "$desktop"
if [[ -n "$desktop" ]]; then
  extract "$desktop"
  entry=$(cat "$tmp/$desktop")
  key() { sed -n "s/^$1=//p" <<<"$entry" | head -1; }
  check "desktop entry: [Desktop Entry], Type=Application" \
    bash -c 'grep -qx "\[Desktop Entry\]" <<<"$1" && grep -qx "Type=Application" <<<"$1"' _ "$entry"
  check "desktop entry: Name=$(key Name)" test -n "$(key Name)"
  exec_cmd=$(key Exec | awk '{print $1}')
  check "desktop entry: Exec=$(key Exec) runs the packaged binary" \
    bash -c '[[ "$1" == switchboard || "$1" == /usr/bin/switchboard ]]' _ "$exec_cmd"
  check "desktop entry: Categories=$(key Categories)" test -n "$(key Categories)"
  icon=$(key Icon)
  check "desktop entry: Icon=$icon" test -n "$icon"
  icons=$(grep -oE "usr/share/icons/hicolor/[^/]+/apps/$icon\.png$" <<<"$files" || true)
  check "icons for Icon=$icon under usr/share/icons/hicolor/*/apps/: $(tr '\n' ' ' <<<"$icons")" test -n "$icons"
  for size in 32x32 128x128; do
    check "a $size icon" grep -q "hicolor/$size/apps/$icon.png" <<<"$icons"
  done
  if [[ -n "$icons" ]]; then
    # shellcheck disable=SC2086
    extract $icons
    for f in $icons; do
      check "$f is a PNG" bash -c 'head -c 8 "$1" | grep -q "PNG"' _ "$tmp/$f"
    done
  fi
fi

size=$(stat -c %s "$deb")
echo "Package size: $((size / 1024)) KiB; installed: $(field Installed-Size) KiB"
echo "check-deb: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
