// Suite a: the packaged extension in the real VS Code workbench (code-server + Debian chromium + playwright-core),
// used with mouse and keyboard. Also the in-editor half of the webview security test (suite d).
//
// usage: node test/e2e/workbench.test.mjs <kvm-lens.vsix>
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {
  ARTIFACTS, Checks, assert, copyWorkspace, ensureInstalled, freshRunDir, installVsix, launchBrowser, sleep,
  startCodeServer, until, writeUserSettings,
} from './lib/harness.mjs';
import {
  clickWord, dismissHover, findFrame, hoverWord, lineText, openFile, openProblems, openWorkbench, problemRows,
  closeSimulationPanel, panelScreenshot, readPanel, runCommand, statusMode,
} from './lib/workbench.mjs';

const vsix = path.resolve(process.argv[2] || 'kvm-lens.vsix');
ensureInstalled();
assert(fs.existsSync(vsix), `no ${vsix}: run \`npm run package\``);
fs.mkdirSync(ARTIFACTS, { recursive: true });

const checks = new Checks('workbench');
const run = freshRunDir('workbench');
const userDataDir = path.join(run, 'user-data');
const extensionsDir = path.join(run, 'extensions');
writeUserSettings(userDataDir);
const ws = copyWorkspace(run);
const wsSettings = path.join(ws, '.vscode', 'settings.json');
const shot = (page, name) => page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`) });

// A listener that counts every request: the hostile trace tries to load from it and to call it from script.
const hits = [];
const listener = http.createServer((req, res) => { hits.push(req.url); res.end('x'); });
await new Promise((r) => listener.listen(0, '127.0.0.1', r));
const port = listener.address().port;
// Every line below reaches the panel verbatim: narration lines keep their text, the bad config value is quoted in a
// finding.
fs.writeFileSync(path.join(ws, 'hostile.kvmflow'), [
  `# config: vendor=vmx paging=<img/src=x/onerror=fetch('http://127.0.0.1:${port}/config')>`,
  '(G) WRMSR(IA32_XFD)',
  '--trap to host--',
  `(HK) <script>fetch('http://127.0.0.1:${port}/script');alert(1)</script>`,
  `(HK) <img src=x onerror="fetch('http://127.0.0.1:${port}/onerror')"> <svg onload="fetch('http://127.0.0.1:${port}/svg')">`,
  `(HK) <a href="javascript:fetch('http://127.0.0.1:${port}/a')">x</a> "><iframe src="http://127.0.0.1:${port}/iframe"></iframe>`,
  '--enter guest--',
  '',
].join('\n'));

await checks.check('install the packaged .vsix into code-server', async () => {
  const out = installVsix(vsix, { userDataDir, extensionsDir, runDir: run });
  assert(/successfully installed/i.test(out), out);
  const dirs = fs.readdirSync(extensionsDir).filter((d) => d.startsWith('kvm-lens.kvm-lens'));
  assert(dirs.length === 1, `extensions dir: ${fs.readdirSync(extensionsDir).join(', ')}`);
  return dirs[0];
});

const cs = await startCodeServer({ runDir: run, userDataDir, extensionsDir });
const browser = await launchBrowser(path.join(run, 'chromium'));
const page = browser.pages()[0] ?? (await browser.newPage());
const dialogs = [];
page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });

try {
  await checks.check('workbench opens the workspace and the C file in C mode', async () => {
    await openWorkbench(page, cs.url, ws);
    await openFile(page, 'nested_pdptr.c', 'C');
    return `mode ${await statusMode(page)}`;
  });

  await checks.check('status bar shows KVM Lens', async () => {
    const item = page.locator('.statusbar-item', { hasText: 'KVM Lens' }).first();
    await item.waitFor({ timeout: 30_000 });
    // "starting" while the client connects; then "KVM Lens" or the server's kvmLens/status text
    const text = await until(async () => { const t = (await item.innerText()).trim(); return /starting/.test(t) ? undefined : t; }, { timeoutMs: 30_000 });
    assert(text && !/failed|stopped/.test(text), `status bar: ${JSON.stringify(text ?? (await item.innerText()))}`);
    return JSON.stringify(text);
  });

  await checks.check('mouse hover over GUEST_PDPTR0 shows the field card (0x280a)', async () => {
    const text = await hoverWord(page, 'vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0)', 'GUEST_PDPTR0', '0x280a');
    assert(/guest-state/i.test(text) && /64-bit/.test(text), `card lacks type/width: ${text.slice(0, 200)}`);
    await shot(page, 'hover-guest-pdptr0');
    return text.split('\n')[0];
  });
  await dismissHover(page);

  await checks.check('Problems panel lists the vmcs-width diagnostic for vmcs_read32(GUEST_PDPTR0)', async () => {
    await openProblems(page);
    const rows = await until(async () => {
      const r = await problemRows(page);
      return r.some((x) => /vmcs-width/.test(x.text) && /GUEST_PDPTR0/.test(x.text)) ? r : undefined;
    }, { timeoutMs: 30_000 });
    assert(rows, `rows: ${JSON.stringify(await problemRows(page))}`);
    await shot(page, 'problems');
    const row = rows.find((x) => /vmcs-width/.test(x.text) && /GUEST_PDPTR0/.test(x.text));
    assert(/vmcs_read32/.test(row.text) && /64-bit/.test(row.text), `message: ${row.text}`);
    return `${rows.filter((x) => /vmcs-width/.test(x.text)).length} vmcs-width rows; severity ${row.severity}`;
  });

  await checks.check('quick fix replaces vmcs_read32 with vmcs_read64', async () => {
    await clickWord(page, 'return vmcs_read32(GUEST_PDPTR0)', 'vmcs_read32');
    await sleep(300);
    await page.keyboard.press('Control+.');
    const item = page.locator('.action-widget .monaco-list-row', { hasText: 'vmcs_read64' }).first();
    await item.waitFor({ state: 'visible', timeout: 15_000 });
    await shot(page, 'quickfix-menu');
    await item.click();
    const fixed = await until(() => lineText(page, 'return vmcs_read64(GUEST_PDPTR0)'), { timeoutMs: 10_000 });
    assert(fixed, `line after fix: ${await lineText(page, '(GUEST_PDPTR0);')}`);
    // the diagnostic for that line goes away; the other vmcs-width finding stays
    const rows = await until(async () => {
      const r = await problemRows(page);
      return !r.some((x) => /vmcs-width/.test(x.text) && /GUEST_PDPTR0/.test(x.text)) && r.some((x) => /vmcs-width/.test(x.text)) ? r : undefined;
    }, { timeoutMs: 20_000 });
    assert(rows, `problems after fix: ${JSON.stringify(await problemRows(page))}`);
    await page.keyboard.press('Control+S');
    await shot(page, 'quickfix-applied');
    return fixed.trim();
  });

  await checks.check('changing kvmLens.rules severity applies without restart', async () => {
    const severityOf = async () => (await problemRows(page)).filter((x) => /vmcs-width/.test(x.text)).map((x) => x.severity);
    const before = await severityOf();
    assert(before.length > 0 && before.every((s) => s === 'error'), `default severity: ${JSON.stringify(before)}`);
    fs.mkdirSync(path.dirname(wsSettings), { recursive: true });
    fs.writeFileSync(wsSettings, JSON.stringify({ 'kvmLens.rules': { 'vmcs-width': 'warning' } }, null, 2));
    const warned = await until(async () => { const s = await severityOf(); return s.length && s.every((x) => x === 'warning') ? s : undefined; }, { timeoutMs: 30_000 });
    assert(warned, `after "warning": ${JSON.stringify(await severityOf())}`);
    await shot(page, 'severity-warning');
    fs.writeFileSync(wsSettings, JSON.stringify({ 'kvmLens.rules': { 'vmcs-width': 'off' } }, null, 2));
    const gone = await until(async () => ((await severityOf()).length === 0 ? true : undefined), { timeoutMs: 30_000 });
    assert(gone, `after "off": ${JSON.stringify(await severityOf())}`);
    fs.writeFileSync(wsSettings, '{}\n');
    const back = await until(async () => { const s = await severityOf(); return s.length && s.every((x) => x === 'error') ? s : undefined; }, { timeoutMs: 30_000 });
    assert(back, `after reset: ${JSON.stringify(await severityOf())}`);
    return `error → warning (${warned.length}) → off → error`;
  });

  await checks.check('mouse hover over V_IRQ_MASK shows the int_ctl bit card', async () => {
    await openFile(page, 'svm_int_ctl.c', 'C');
    const text = await hoverWord(page, 'u32 mask = V_IRQ_MASK', 'V_IRQ_MASK', 'int_ctl');
    assert(/bit 8|0x0*100/.test(text), `card lacks the bit: ${text.slice(0, 200)}`);
    await shot(page, 'hover-v-irq-mask');
    return text.split('\n')[0];
  });
  await dismissHover(page);

  await checks.check('mouse hover over MSR_IA32_XFD shows the MSR card (0x1c4)', async () => {
    await openFile(page, 'xfd_passthrough.c', 'C');
    const text = await hoverWord(page, 'vmx_disable_intercept_for_msr(vcpu, MSR_IA32_XFD', 'MSR_IA32_XFD', '0x1c4');
    await shot(page, 'hover-msr-ia32-xfd');
    return text.split('\n').find((l) => l.includes('0x1c4'));
  });
  await dismissHover(page);

  await checks.check('"KVM Lens: Simulate Selection" on a selected function opens the panel with the trace', async () => {
    await openFile(page, 'nested_pdptr.c', 'C');
    await closeSimulationPanel(page);
    await clickWord(page, 'static void sync_vmcs02_to_vmcs12', 'static', { offset: 0 });
    await page.keyboard.press('Home');
    for (let i = 0; i < 8; i++) await page.keyboard.press('Shift+ArrowDown');
    await page.keyboard.press('Shift+End');
    await runCommand(page, 'KVM Lens: Simulate Selection');
    await page.locator('.tabs-container .tab', { hasText: 'Simulation' }).first().waitFor({ timeout: 30_000 });
    const panel = await readPanel(page, async (f) => {
      const steps = await f.locator('tr.step-row').count();
      if (steps === 0) return undefined;
      return { title: (await f.locator('h1').first().innerText()).trim(), steps, configs: await f.locator('table.sweep tbody tr').count(),
        summary: (await f.locator('#summary').innerText().catch(() => '')).replace(/\s+/g, ' ').trim() };
    });
    assert(panel, 'the panel shows no steps for the selected function');
    await sleep(500);
    await shot(page, 'simulation-c');
    await panelScreenshot(page, path.join(ARTIFACTS, 'simulation-c-panel.png'), '#summary');
    return `"${panel.title}": ${panel.steps} steps, ${panel.configs} configurations; ${panel.summary.slice(0, 160)}`;
  });

  await checks.check('the "Simulate" code lens above sync_vmcs02_to_vmcs12 opens the panel', async () => {
    await closeSimulationPanel(page);
    const lens = page.locator('.monaco-editor .codelens-decoration a', { hasText: 'Simulate' }).first();
    await lens.waitFor({ state: 'visible', timeout: 30_000 });
    const label = (await lens.innerText()).trim();
    await lens.click();
    const title = await readPanel(page, async (f) => (await f.locator('tr.step-row').count()) ? (await f.locator('h1').first().innerText()).trim() : undefined);
    assert(title, 'no simulation trace after clicking the code lens');
    return `lens "${label}" → panel "${title}"`;
  });

  await checks.check('simulating a written flow shows steps, VM exits and the timeline', async () => {
    await closeSimulationPanel(page);
    await openFile(page, 'xfd.kvmflow', 'KVM Flow');
    await clickWord(page, 'config: vendor=vmx', 'config');
    await runCommand(page, 'KVM Lens: Simulate Selection');
    const panel = await readPanel(page, async (f) => {
      const steps = await f.locator('tr.step-row').count();
      if (steps === 0) return undefined;
      return { steps, exits: await f.locator('svg.timeline circle.vmexit').count(), arrows: await f.locator('svg.timeline line.transition').count(),
        noexit: await f.locator('tr.step-row .badge.noexit').count() };
    });
    assert(panel, 'the panel shows no steps for xfd.kvmflow');
    assert(panel.steps >= 4 && panel.exits >= 1 && panel.arrows >= 2, `steps ${panel.steps}, exits ${panel.exits}, arrows ${panel.arrows}`);
    // seed 004: after "Disable WRMSR interception for IA32_XFD" the guest's WRMSRs do not exit
    assert(panel.noexit >= 1, 'no guest WRMSR marked "no exit" after passthrough');
    await sleep(500);
    await shot(page, 'simulation-flow');
    await panelScreenshot(page, path.join(ARTIFACTS, 'simulation-flow-panel.png'), '#summary');
    return `${panel.steps} steps, ${panel.exits} VM exits marked, ${panel.arrows} transition arrows, ${panel.noexit} WRMSR without exit`;
  });

  await checks.check('a trace with <script>/<img onerror> names renders as text and nothing executes', async () => {
    await closeSimulationPanel(page);
    await openFile(page, 'hostile.kvmflow', 'KVM Flow');
    await clickWord(page, 'config: vendor=vmx', 'config');
    await runCommand(page, 'KVM Lens: Simulate Selection');
    const frame = await findFrame(page, 'tr.step-row', { hasText: '<script>', timeoutMs: 30_000 });
    assert(frame, 'the hostile names never reached the panel');
    await sleep(2500); // give any injected markup time to load or run
    const dom = await frame.evaluate(() => ({
      injected: document.querySelectorAll('body img, body iframe, body script:not([nonce]), body a[href^="javascript"], body svg[onload]').length,
      handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
      text: document.body.innerText,
      csp: document.querySelector('meta[http-equiv="Content-Security-Policy"]')?.getAttribute('content') ?? '',
    }));
    assert(dom.csp.includes("default-src 'none'") && /script-src 'nonce-/.test(dom.csp), `CSP: ${dom.csp}`);
    assert(dom.injected === 0, `${dom.injected} injected elements in the panel`);
    assert(dom.handlers === 0, `${dom.handlers} elements with on* attributes`);
    for (const t of ['<script>fetch(', '<img src=x onerror=', '<svg onload=', '<iframe src=', '<img/src=x/onerror=']) assert(dom.text.includes(t), `not shown as text: ${t}`);
    assert(hits.length === 0, `requests reached the listener: ${hits.join(', ')}`);
    assert(dialogs.length === 0, `dialogs opened: ${dialogs.join(', ')}`);
    // positive control: the panel's own nonce'd script does run (clicking a step selects its row)
    await frame.locator('tr.step-row td.op').first().click();
    const selected = await until(() => frame.locator('tr.step-row.selected').count(), { timeoutMs: 5000 });
    assert(selected === 1, "the panel's own script did not run (no selected row)");
    await shot(page, 'simulation-hostile');
    return `0 requests, 0 dialogs, CSP present, own script ran`;
  });

  await checks.check('"KVM Lens: Explain Field..." shows the card for MSR_IA32_XFD', async () => {
    await runCommand(page, 'KVM Lens: Explain Field...');
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: 10_000 });
    await input.fill('MSR_IA32_XFD');
    await page.keyboard.press('Enter');
    await page.locator('.tabs-container .tab', { hasText: 'Preview MSR_IA32_XFD' }).first().waitFor({ timeout: 30_000 });
    const frame = await findFrame(page, 'body', { hasText: '0x1c4', timeoutMs: 30_000 });
    assert(frame, 'no preview with the MSR card');
    const untitled = await page.locator('.tabs-container .tab', { hasText: 'Untitled' }).count();
    assert(untitled === 0, 'an untitled editor was left open');
    await sleep(500);
    await shot(page, 'explain-field');
    return 'markdown preview shows MSR 0x1c4';
  });
} finally {
  await shot(page, 'workbench-final').catch(() => {});
  await browser.close().catch(() => {});
  await cs.stop();
  listener.close();
  if (!process.env.KVM_LENS_E2E_KEEP) fs.rmSync(run, { recursive: true, force: true });
}
process.exit(checks.finish());
