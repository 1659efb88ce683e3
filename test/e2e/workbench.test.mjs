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
  closeSimulationPanel, kvmLensStatusItems, panelScreenshot, quickOpen, readPanel, runCommand, statusMode,
} from './lib/workbench.mjs';
import { countColour, decodePng, parseColour } from './lib/png.mjs';

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

  await checks.check('one KVM Lens status item (no second progress item), showing the indexed files', async () => {
    const text = await until(async () => {
      const items = await kvmLensStatusItems(page);
      return items.length === 1 && /\d+ files/.test(items[0]) ? items[0] : undefined;
    }, { timeoutMs: 60_000 });
    assert(text, `status items: ${JSON.stringify(await kvmLensStatusItems(page))}`);
    return text;
  });

  await checks.check('F12 on a field goes to its enum member in the tree (peek also lists the vmcs12 member and the card)', async () => {
    await closeSimulationPanel(page);
    await quickOpen(page, 'arch/x86/kvm/vmx/nested.c', 'C');
    await clickWord(page, 'vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0)', 'GUEST_PDPTR0');
    await sleep(500);
    await page.keyboard.press('F12');
    const peek = page.locator('.peekview-widget').first();
    // several definitions: VS Code peeks them (editor.gotoLocation.multipleDefinitions "peek"); "goto" opens the first
    const outcome = await until(async () => ((await peek.isVisible().catch(() => false)) ? 'peek'
      : (await page.locator('.tabs-container .tab.active', { hasText: 'vmx.h' }).count()) ? 'goto' : undefined), { timeoutMs: 30_000 });
    if (!outcome) await shot(page, 'definition-f12');
    assert(outcome, 'F12 showed neither a peek nor vmx.h');
    if (outcome === 'goto') {
      const line = await lineText(page, 'GUEST_PDPTR0 ');
      assert(line && /= 0x0000280a/.test(line), `vmx.h line: ${line}`);
      await shot(page, 'definition-f12');
      await page.keyboard.press('Control+W');
      return `went to arch/x86/include/asm/vmx.h: ${line.trim()}`;
    }
    const rows = await until(async () => {
      const t = await peek.locator('.monaco-list-row').allInnerTexts();
      return t.some((x) => /vmx\.h/.test(x)) && t.some((x) => /vmcs12\.h/.test(x)) ? t : undefined;
    }, { timeoutMs: 20_000 });
    assert(rows, `peek rows: ${JSON.stringify(await peek.locator('.monaco-list-row').allInnerTexts())}`);
    await shot(page, 'definition-peek');
    await page.keyboard.press('Escape');
    return rows.map((r) => r.replace(/\s+/g, ' ').trim()).join(' | ').slice(0, 240);
  });

  await checks.check('Shift+F12 lists references in every form across the indexed tree', async () => {
    await clickWord(page, 'vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0)', 'GUEST_PDPTR0');
    await page.keyboard.press('Shift+F12');
    const peek = page.locator('.peekview-widget:visible').first();
    await peek.waitFor({ state: 'visible', timeout: 30_000 });
    // file rows end with their reference count ("vmx.c arch/x86/kvm/vmx 2")
    const files = await until(async () => {
      const rows = (await peek.locator('.monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
      const f = rows.filter((t) => /^[\w.-]+\.[ch].* \d+$/.test(t));
      return f.some((x) => /^vmx\.c/.test(x)) && f.some((x) => /^nested\.c/.test(x)) ? f : undefined;
    }, { timeoutMs: 20_000 });
    assert(files, `peek rows: ${JSON.stringify(await peek.locator('.monaco-list-row').allInnerTexts())}`);
    const count = (name) => Number(/ (\d+)$/.exec(files.find((f) => f.startsWith(name)) ?? ' 0')[1]);
    assert(count('nested.c') === 2 && count('vmx.c') === 2, `enum name + vmcs12 member per file: ${files.join(' | ')}`);
    await shot(page, 'references-peek');
    await page.keyboard.press('Escape');
    return files.join(' | ');
  });

  await checks.check('Ctrl+. on the accessor of an undefined read offers the guard, suppress and explain', async () => {
    await clickWord(page, 'vmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0)', 'vmcs_read64');
    await sleep(300);
    await page.keyboard.press('Control+.');
    const menu = page.locator('.action-widget');
    await menu.locator('.monaco-list-row', { hasText: 'Guard with is_pae_paging(vcpu)' }).first().waitFor({ state: 'visible', timeout: 20_000 });
    const titles = (await menu.locator('.monaco-list-row').allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
    assert(titles.some((t) => /Suppress vmcs-undefined-read/.test(t)) && titles.some((t) => /Explain GUEST_PDPTR0/.test(t)), JSON.stringify(titles));
    await shot(page, 'code-actions-undefined-read');
    await menu.locator('.monaco-list-row', { hasText: 'Guard with is_pae_paging(vcpu)' }).first().click();
    const guarded = await until(() => lineText(page, 'if (is_pae_paging(vcpu)) {'), { timeoutMs: 10_000 });
    assert(guarded, 'the guard was not inserted');
    const gone = await until(async () => {
      await openProblems(page);
      const r = await problemRows(page);
      return r.some((x) => /vmcs-undefined-read/.test(x.text) && /nested\.c/.test(x.text)) ? undefined : true;
    }, { timeoutMs: 20_000 }).catch(() => undefined);
    await page.keyboard.press('Control+Z');
    await sleep(300);
    await page.keyboard.press('Control+S');
    await runCommand(page, 'View: Hide Panel').catch(() => page.keyboard.press('Escape'));
    return `${titles.join(' | ')}; guard applied${gone ? ', finding gone' : ''}, undone`;
  });

  await checks.check('simulation panel: a full column, faults marked (colour, ⚠, legend) on the timeline and the steps, counts match the drawing', async () => {
    // one editor group, as after opening a file: the panel must not split it in half
    await closeSimulationPanel(page);
    await runCommand(page, 'View: Join All Editor Groups').catch(() => page.keyboard.press('Escape'));
    await quickOpen(page, 'arch/x86/kvm/vmx/nested.c', 'C');
    const groupsBefore = await page.locator('.editor-group-container').count();
    await clickWord(page, 'vmcs12->guest_cr3 = vmcs_readl(GUEST_CR3)', 'guest_cr3');
    await runCommand(page, 'KVM Lens: Simulate Selection');
    await page.locator('.tabs-container .tab', { hasText: 'Simulation: sync_vmcs02_to_vmcs12_rare' }).first().waitFor({ timeout: 30_000 });
    const dom = await readPanel(page, async (f) => f.evaluate(() => {
      const q = (s) => document.querySelectorAll(s).length;
      const steps = q('tr.step-row');
      if (!steps) return undefined;
      const dot = document.querySelector('circle.fault');
      return {
        title: document.querySelector('h1').textContent, header: document.querySelector('h1 + p').textContent, steps,
        exitsDrawn: q('svg.timeline circle.vmexit'), faultDots: q('svg.timeline g.step-mark.fault circle.fault'),
        faultIcons: q('svg.timeline text.fault-label'), faultRows: q('tr.step-row.fault'), rowIcons: q('tr.step-row.fault .fault-icon'),
        legend: document.querySelector('p.legend').textContent, fill: dot ? getComputedStyle(dot).fill : '',
        overflow: getComputedStyle(document.querySelector('.timeline-wrap')).overflowX, width: window.innerWidth,
        shown: document.querySelector('tr.config-row.shown')?.getAttribute('data-config') ?? null, configs: q('tr.config-row'),
        faultLines: [...document.querySelectorAll('tr.step-row.fault')].map((r) => Number(r.getAttribute('data-line'))),
      };
    }));
    assert(dom, 'no steps in the panel');
    const editorWidth = (await page.locator('.part.editor').boundingBox()).width;
    const groupsAfter = await page.locator('.editor-group-container').count();
    assert(groupsAfter === groupsBefore, `the panel split the editor area: ${groupsBefore} → ${groupsAfter} groups`);
    assert(groupsBefore > 1 || dom.width >= editorWidth * 0.9, `panel ${dom.width}px of an editor area of ${editorWidth}px`);
    assert(dom.title.startsWith('sync_vmcs02_to_vmcs12_rare'), dom.title);
    assert(new RegExp(`^${dom.steps} steps, ${dom.exitsDrawn} VM exits?,`).test(dom.header), `header "${dom.header}" vs ${dom.steps} rows, ${dom.exitsDrawn} exits drawn`);
    assert(dom.exitsDrawn >= 1, 'the VM exit from L2 is drawn');
    assert(dom.faultDots >= 1 && dom.faultDots === dom.faultIcons && dom.faultRows === dom.faultDots && dom.rowIcons === dom.faultRows, JSON.stringify(dom));
    assert(/⚠/.test(dom.legend) && /fault/.test(dom.legend), dom.legend);
    assert(dom.overflow === 'auto', `timeline overflow-x ${dom.overflow}`);
    assert(dom.faultLines.includes(9), `fault rows on lines ${dom.faultLines} (the undefined read is on line 9)`);
    // the screenshot shows the markers: the fault colour is on the timeline image
    const frame = await findFrame(page, 'section#timeline');
    const file = path.join(ARTIFACTS, 'simulation-faults-timeline.png');
    await frame.locator('section#timeline').screenshot({ path: file });
    const img = decodePng(fs.readFileSync(file));
    const colour = parseColour(dom.fill);
    const px = countColour(img, colour, 30);
    assert(px >= 40 * dom.faultDots, `${px} pixels of the fault colour ${dom.fill} for ${dom.faultDots} fault dots in ${img.width}x${img.height}`);
    await shot(page, 'simulation-faults');
    await panelScreenshot(page, path.join(ARTIFACTS, 'simulation-faults-panel.png'), '#timeline');
    return `${dom.steps} steps, ${dom.exitsDrawn} exit, ${dom.faultDots} faults (lines ${dom.faultLines}); ${px} px of ${dom.fill}; panel ${dom.width}/${editorWidth}px`;
  });

  await checks.check('clicking a sweep row shows that configuration; clicking a step reveals its line', async () => {
    // the layout changes of the screenshot reload the webview: read it afresh
    const frame = await readPanel(page, async (f) => ((await f.locator('tr.config-row').count()) ? f : undefined), { selector: 'tr.config-row' });
    const before = await frame.evaluate(() => ({
      shown: document.querySelector('tr.config-row.shown')?.getAttribute('data-config'),
      clean: [...document.querySelectorAll('tr.config-row')].find((r) => !r.classList.contains('has-findings'))?.getAttribute('data-config'),
    }));
    assert(before.shown !== undefined && before.clean !== undefined && before.clean !== before.shown, JSON.stringify(before));
    await until(async () => { const f = await findFrame(page, 'tr.config-row'); await f.locator(`tr.config-row[data-config="${before.clean}"] td.pred`).first().click(); return true; }, { timeoutMs: 15_000 });
    const after = await readPanel(page, async (f) => {
      const s = await f.evaluate(() => document.querySelector('tr.config-row.shown')?.getAttribute('data-config'));
      return s === before.clean ? { shown: s, faults: await f.locator('tr.step-row.fault').count() } : undefined;
    });
    assert(after, `row ${before.clean} clicked, shown stays ${before.shown}`);
    // back to a configuration with findings, then a fault step's line link reveals its source line
    await until(async () => { const f = await findFrame(page, 'tr.config-row'); await f.locator(`tr.config-row[data-config="${before.shown}"] td.pred`).first().click(); return true; }, { timeoutMs: 15_000 });
    await until(async () => {
      const f = await findFrame(page, 'tr.step-row.fault[data-line="9"]');
      await f.locator('tr.step-row.fault[data-line="9"] a.line-link').first().click();
      return true;
    }, { timeoutMs: 20_000 });
    const ln = await until(async () => {
      const t = await page.locator('[id="status.editor.selection"]').innerText().catch(() => '');
      return /Ln 9\b/.test(t) ? t : undefined;
    }, { timeoutMs: 15_000 });
    assert(ln, `cursor after the step link: ${await page.locator('[id="status.editor.selection"]').innerText().catch(() => '')}`);
    return `row ${before.clean} → shown (${after.faults} fault rows); step link → ${ln}`;
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
