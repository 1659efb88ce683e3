// Runs test/e2e/exthost/suite in an editor's extension host with @vscode/test-electron's runTests().
// Here it points vscodeExecutablePath at code-shim.mjs (code-server + chromium); with KVM_LENS_DESKTOP_VSCODE=1 on a
// machine with internet access, the same call downloads and runs desktop VS Code instead.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { REPO, copyWorkspace, freshRunDir } from '../lib/harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const { runTests } = createRequire(path.join(REPO, 'package.json'))('@vscode/test-electron');
const run = freshRunDir('exthost');
const workspace = copyWorkspace(run);
const desktop = process.env.KVM_LENS_DESKTOP_VSCODE === '1';

let code = 1;
try {
  code = await runTests({
    ...(desktop ? {} : { vscodeExecutablePath: path.join(here, 'code-shim.mjs') }),
    extensionDevelopmentPath: process.env.KVM_LENS_EXTENSION_PATH || REPO,
    extensionTestsPath: path.join(here, 'suite'),
    launchArgs: [workspace, `--user-data-dir=${path.join(run, 'user-data')}`, `--extensions-dir=${path.join(run, 'extensions')}`, '--disable-extensions'],
    extensionTestsEnv: { KVM_LENS_E2E: '1' },
  });
  console.log(`runTests resolved with ${code}`);
} catch (e) {
  // the failing tests were reported above as FAIL lines; a run that failed without any is counted by run-all.sh
  console.log(`runTests rejected: ${e instanceof Error ? e.message : e}`);
} finally {
  if (!process.env.KVM_LENS_E2E_KEEP) fs.rmSync(run, { recursive: true, force: true });
}
process.exit(code === 0 ? 0 : 1);
