#!/usr/bin/env bash
# Suite nvim: (1) lsp-test.lua drives the built server through Neovim's LSP client on a copy of the test workspace;
# (2) the init.lua snippet of docs/editors.md, copied verbatim with the path replaced, is loaded as the user's config
# and snippet-test.lua checks what it promises (root_dir, index, K, gd, gr, code actions).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
E2E_HOME=${KVM_LENS_E2E_HOME:-$HOME/.cache/kvm-lens-e2e}
mkdir -p "$E2E_HOME/run"
RUN=$(mktemp -d "$E2E_HOME/run/nvim-XXXXXX")
trap 'rm -rf "$RUN"' EXIT
mkdir -p "$RUN/ws"
cp -r "$REPO/test/e2e/workspace/." "$RUN/ws/"
# keep nvim's state (lsp.log, shada, swap) inside the run directory
export XDG_CONFIG_HOME=$RUN/xdg/config XDG_DATA_HOME=$RUN/xdg/data XDG_STATE_HOME=$RUN/xdg/state XDG_CACHE_HOME=$RUN/xdg/cache
export KVM_LENS_SERVER=$REPO/dist/server.js
(cd "$RUN/ws" && timeout 60 nvim --headless --clean -n -c "luafile $REPO/test/e2e/nvim/lsp-test.lua" nested_pdptr.c)

# The documented snippet: the lua block after the `nvim-snippet` marker in docs/editors.md.
mkdir -p "$XDG_CONFIG_HOME/nvim"
awk '/<!-- nvim-snippet/ { on = 1; next } on && /^```lua/ { grab = 1; next } grab && /^```/ { exit } grab { print }' \
  "$REPO/docs/editors.md" | sed "s#/path/to/kvm-lens#$REPO#g" > "$XDG_CONFIG_HOME/nvim/init.lua"
[ -s "$XDG_CONFIG_HOME/nvim/init.lua" ] || { echo "FAIL [nvim-snippet] no snippet found in docs/editors.md"; exit 1; }
echo "[nvim-snippet] init.lua: $(wc -l < "$XDG_CONFIG_HOME/nvim/init.lua") lines from docs/editors.md"
# started from outside the tree, as `nvim path/to/file` (root_dir must come from the file, not the cwd)
cd "$RUN"
KVM_LENS_TREE=$RUN/ws timeout 70 nvim --headless -n -c "luafile $REPO/test/e2e/nvim/snippet-test.lua" "$RUN/ws/arch/x86/kvm/vmx/nested.c"
