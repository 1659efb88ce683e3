#!/usr/bin/env node
// Stands in for the VS Code executable in @vscode/test-electron's runTests({ vscodeExecutablePath }).
// No desktop VS Code can be downloaded on these machines, so this takes the command line runTests builds
// (--extensionDevelopmentPath=, --extensionTestsPath=, --user-data-dir=, --extensions-dir=, a folder), runs
// code-server with the smoke-test driver, opens the workbench in chromium with those paths in its `payload`
// parameter, relays the extension host's output and exits with the test run's exit code.
import fs from 'node:fs';
import path from 'node:path';
import { freshRunDir, launchBrowser, startCodeServer, writeUserSettings } from '../lib/harness.mjs';

const LIMIT_MS = Number(process.env.KVM_LENS_SHIM_TIMEOUT_MS || 300_000);
const opts = { dev: [], tests: undefined, userDataDir: undefined, extensionsDir: undefined, folder: undefined };
for (const arg of process.argv.slice(2)) {
  const m = /^--([^=]+)=(.*)$/.exec(arg);
  if (m?.[1] === 'extensionDevelopmentPath') opts.dev.push(path.resolve(m[2]));
  else if (m?.[1] === 'extensionTestsPath') opts.tests = path.resolve(m[2]);
  else if (m?.[1] === 'user-data-dir') opts.userDataDir = path.resolve(m[2]);
  else if (m?.[1] === 'extensions-dir') opts.extensionsDir = path.resolve(m[2]);
  else if (!arg.startsWith('-') && !opts.folder) opts.folder = path.resolve(arg);
  // desktop-only flags (--no-sandbox, --disable-updates, --skip-welcome, ...) do not apply to code-server
}
if (!opts.tests || opts.dev.length === 0) {
  console.error('code-shim: need --extensionDevelopmentPath= and --extensionTestsPath=');
  process.exit(2);
}

const run = freshRunDir('shim');
opts.userDataDir ??= path.join(run, 'user-data');
opts.extensionsDir ??= path.join(run, 'extensions');
fs.mkdirSync(opts.extensionsDir, { recursive: true });
writeUserSettings(opts.userDataDir);

let cs;
let browser;
let code = 1;
const guard = setTimeout(async () => {
  console.error(`code-shim: no result within ${LIMIT_MS} ms`);
  await browser?.close().catch(() => {});
  await cs?.stop();
  process.exit(124);
}, LIMIT_MS);

try {
  cs = await startCodeServer({ runDir: run, userDataDir: opts.userDataDir, extensionsDir: opts.extensionsDir, smokeTestDriver: true });
  browser = await launchBrowser(path.join(run, 'chromium'));
  const page = browser.pages()[0] ?? (await browser.newPage());
  // The workbench reports extension-host output through codeAutomationLog and the end of the run through
  // codeAutomationExit (both only with the smoke-test driver on).
  await page.exposeFunction('codeAutomationLog', (_type, args) => console.log(...(Array.isArray(args) ? args : [args])));
  const exited = new Promise((resolve) => { void page.exposeFunction('codeAutomationExit', (c) => resolve(c)); });
  await page.goto(`${cs.url}/`);
  const config = JSON.parse(await page.locator('#vscode-workbench-web-configuration').getAttribute('data-settings'));
  const remote = (p) => `vscode-remote://${config.remoteAuthority}${p}`;
  const payload = [...opts.dev.map((p) => ['extensionDevelopmentPath', remote(p)]), ['extensionTestsPath', remote(opts.tests)]];
  const folder = opts.folder ?? opts.dev[0];
  await page.goto(`${cs.url}/?folder=${encodeURIComponent(folder)}&payload=${encodeURIComponent(JSON.stringify(payload))}`);
  code = await exited;
  console.log(`code-shim: extension host exited with ${code}`);
} catch (e) {
  console.error('code-shim:', e instanceof Error ? e.message : e);
} finally {
  clearTimeout(guard);
  await browser?.close().catch(() => {});
  await cs?.stop();
  if (!process.env.KVM_LENS_E2E_KEEP) fs.rmSync(run, { recursive: true, force: true });
}
process.exit(code === 0 ? 0 : 1);
