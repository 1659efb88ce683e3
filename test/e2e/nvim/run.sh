#!/usr/bin/env bash
# Suite c: runs lsp-test.lua in headless Neovim against the built server, on a copy of the test workspace.
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
E2E_HOME=${KVM_LENS_E2E_HOME:-$HOME/.cache/kvm-lens-e2e}
mkdir -p "$E2E_HOME/run"
RUN=$(mktemp -d "$E2E_HOME/run/nvim-XXXXXX")
trap 'rm -rf "$RUN"' EXIT
cp -r "$REPO/test/e2e/workspace/." "$RUN/ws/" 2>/dev/null || { mkdir -p "$RUN/ws"; cp -r "$REPO/test/e2e/workspace/." "$RUN/ws/"; }
cd "$RUN/ws"
# keep nvim's state (lsp.log, shada, swap) inside the run directory
export XDG_CONFIG_HOME=$RUN/xdg/config XDG_DATA_HOME=$RUN/xdg/data XDG_STATE_HOME=$RUN/xdg/state XDG_CACHE_HOME=$RUN/xdg/cache
export KVM_LENS_SERVER=$REPO/dist/server.js
timeout 60 nvim --headless --clean -n -c "luafile $REPO/test/e2e/nvim/lsp-test.lua" nested_pdptr.c
