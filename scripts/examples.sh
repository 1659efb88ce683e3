#!/usr/bin/env bash
# The main job on the bundled examples: analysis stats, the checks, and a simulation of a written flow and of a C
# function. kvm-lens exits 1 when it finds something (the examples are written to have findings) and 2 on errors;
# only 2 (or a crash) fails this script.
set -u
cd "$(dirname "$0")/.."
status=0
run() {
  echo
  echo "\$ kvm-lens $*"
  node dist/cli.js "$@"
  local rc=$?
  if [ "$rc" -ge 2 ]; then echo "kvm-lens $* failed with exit code $rc" >&2; status=1; fi
}
run stats examples/
run check examples/
run simulate examples/flows/xfd-passthrough.kvmflow
run simulate examples/vmx_nested_sync.c --function sync_vmcs02_to_vmcs12
exit $status
