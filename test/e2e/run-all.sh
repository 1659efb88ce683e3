#!/usr/bin/env bash
# Real-editor test suites. Builds, packages kvm-lens.vsix, then runs:
#   grammar    the kvmflow TextMate grammar through VS Code's own tokenizer (vscode-textmate from code-server)
#   security   the simulation panel's HTML with hostile names in chromium: nothing executes or loads
#   nvim       Neovim (Debian's 0.7.2) as an LSP client of `node dist/server.js --stdio`; the documented init.lua
#   emacs      Emacs 28 + eglot with the documented init.el
#   workbench  the .vsix installed in code-server, driven with mouse and keyboard through chromium
#   exthost    extension tests via @vscode/test-electron runTests() in code-server's extension host
# Ends with "N passed, N failed"; exit code 0 only when nothing failed. Logs and screenshots: test-artifacts/e2e/.
#
#   npm run test:e2e                  # all suites
#   npm run test:e2e -- nvim grammar  # some suites
# Tools come from `npm run e2e:setup` (run automatically when missing) in $KVM_LENS_E2E_HOME (~/.cache/kvm-lens-e2e).
set -uo pipefail

cd "$(dirname "$0")/../.."
REPO=$PWD
export KVM_LENS_E2E_HOME=${KVM_LENS_E2E_HOME:-$HOME/.cache/kvm-lens-e2e}
ARTIFACTS=$REPO/test-artifacts/e2e
mkdir -p "$ARTIFACTS"
rm -f "$ARTIFACTS"/*.png "$ARTIFACTS"/*.log   # no stale screenshots from an earlier run
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(grammar security nvim emacs workbench exthost)
T0=$SECONDS
passed=0
failed=0

say() { printf '%s\n' "$*"; }

# Runs one suite with a time limit; its full output goes to $ARTIFACTS/<name>.log, its PASS/FAIL lines to stdout.
suite() {
  local name=$1 limit=$2; shift 2
  local log=$ARTIFACTS/$name.log t=$SECONDS
  say "── $name"
  timeout --kill-after=10 "$limit" "$@" > "$log" 2>&1
  local rc=$?
  local p f
  p=$(grep -cE '^PASS ' "$log")
  f=$(grep -cE '^FAIL ' "$log")
  grep -E '^(PASS|FAIL) ' "$log"
  if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
    f=1
    say "FAIL [$name] exited with code $rc$([ "$rc" -eq 124 ] && echo " (time limit ${limit}s)") — last lines of $log:"
    tail -15 "$log" | sed 's/^/    /'
  fi
  passed=$((passed + p))
  failed=$((failed + f))
  say "   $name: $p passed, $f failed in $((SECONDS - t)) s"
}

if ! bash test/e2e/setup.sh > "$ARTIFACTS/setup.log" 2>&1; then
  tail -20 "$ARTIFACTS/setup.log"
  say "0 passed, 1 failed (e2e:setup failed, see $ARTIFACTS/setup.log)"
  exit 1
fi

say "── build and package"
[ -d node_modules ] || npm ci --no-audit --no-fund > "$ARTIFACTS/npm-ci.log" 2>&1   # fresh clone
rm -f kvm-lens.vsix
if npm run --silent package > "$ARTIFACTS/package.log" 2>&1 && [ -f kvm-lens.vsix ]; then
  passed=$((passed + 1))
  say "PASS [package] npm run package → kvm-lens.vsix ($(du -k kvm-lens.vsix | cut -f1) KiB, $(unzip -l kvm-lens.vsix | tail -1 | awk '{print $2}') files)"
else
  failed=$((failed + 1))
  say "FAIL [package] npm run package — last lines of $ARTIFACTS/package.log:"
  tail -20 "$ARTIFACTS/package.log" | sed 's/^/    /'
  say "$passed passed, $failed failed"
  exit 1
fi

for s in "${SUITES[@]}"; do
  case $s in
    grammar)   suite grammar 60 node test/e2e/grammar.test.mjs ;;
    security)  suite security 180 node test/e2e/security.test.mjs ;;
    nvim)      suite nvim 180 bash test/e2e/nvim/run.sh ;;
    emacs)     suite emacs 180 bash test/e2e/emacs/run.sh ;;
    workbench) suite workbench 900 node test/e2e/workbench.test.mjs "$REPO/kvm-lens.vsix" ;;
    exthost)   suite exthost 600 node test/e2e/exthost/runTests.mjs ;;
    *) say "unknown suite: $s (grammar security nvim emacs workbench exthost)"; failed=$((failed + 1)) ;;
  esac
done

say "screenshots and logs: $ARTIFACTS ($(ls "$ARTIFACTS"/*.png 2>/dev/null | wc -l) screenshots), $((SECONDS - T0)) s"
say "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
