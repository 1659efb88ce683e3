#!/usr/bin/env bash
# Suite emacs: the eglot snippet of docs/editors.md, copied verbatim with the path replaced, as init.el of a batch
# Emacs (Debian 12: Emacs 28.2 + elpa-eglot), then eglot-test.el against the test tree (a copy of test/e2e/workspace,
# which has a MAINTAINERS file at its top and no .git).
set -euo pipefail
REPO=$(cd "$(dirname "$0")/../../.." && pwd)
E2E_HOME=${KVM_LENS_E2E_HOME:-$HOME/.cache/kvm-lens-e2e}
command -v emacs >/dev/null || { echo "FAIL [emacs] emacs is not installed (npm run e2e:setup installs emacs-nox elpa-eglot)"; exit 1; }
mkdir -p "$E2E_HOME/run"
RUN=$(mktemp -d "$E2E_HOME/run/emacs-XXXXXX")
trap 'rm -rf "$RUN"' EXIT
mkdir -p "$RUN/ws" "$RUN/home"
cp -r "$REPO/test/e2e/workspace/." "$RUN/ws/"
awk '/<!-- emacs-snippet/ { on = 1; next } on && /^```elisp/ { grab = 1; next } grab && /^```/ { exit } grab { print }' \
  "$REPO/docs/editors.md" | sed "s#/path/to/kvm-lens#$REPO#g" > "$RUN/init.el"
[ -s "$RUN/init.el" ] || { echo "FAIL [emacs] no snippet found in docs/editors.md"; exit 1; }
echo "[emacs] init.el: $(wc -l < "$RUN/init.el") lines from docs/editors.md"
cd "$RUN"
# Debian's elpa-* packages are activated by package-initialize from /usr/share/emacs/site-lisp/elpa
HOME=$RUN/home KVM_LENS_TREE=$RUN/ws timeout 120 emacs --batch --eval '(package-initialize)' -l "$RUN/init.el" -l "$REPO/test/e2e/emacs/eglot-test.el"
