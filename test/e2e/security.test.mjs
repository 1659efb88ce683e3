// Suite d (browser half): the simulation panel's HTML, rendered by client/src/render.ts from a trace whose names
// carry HTML and script, loaded into Debian chromium exactly as the webview gets it. Nothing may execute or load:
// a local listener counts every request the page makes, and dialogs are recorded. Two layers are checked separately:
// escaping (the rendered page as is), and the Content-Security-Policy alone (the same page with raw markup spliced
// in, as if escaping had a bug). A positive control shows the page's own nonce'd script does run.
//
// usage: node test/e2e/security.test.mjs
import http from 'node:http';
import path from 'node:path';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { ARTIFACTS, Checks, REPO, assert, ensureInstalled, freshRunDir, launchBrowser, sleep, until } from './lib/harness.mjs';

ensureInstalled();
fs.mkdirSync(ARTIFACTS, { recursive: true });
const checks = new Checks('security');

// Bundle the renderer (TypeScript, no vscode import) in memory and load it.
const esbuild = createRequire(path.join(REPO, 'package.json'))('esbuild');
const bundle = await esbuild.build({ entryPoints: [path.join(REPO, 'client/src/render.ts')], bundle: true, platform: 'node', format: 'cjs', write: false });
const mod = { exports: {} };
new Function('module', 'exports', 'require', bundle.outputFiles[0].text)(mod, mod.exports, createRequire(import.meta.url));
const { renderSimulationHtml, makeNonce } = mod.exports;

const hits = [];
const pages = new Map();
const server = http.createServer((req, res) => {
  if (pages.has(req.url)) { res.setHeader('content-type', 'text/html; charset=utf-8'); res.end(pages.get(req.url)); return; }
  hits.push(req.url);
  res.end('');
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

const payloads = (tag) => ({
  img: `<img src=x onerror="fetch('${origin}/${tag}-onerror')">`,
  script: `<script>fetch('${origin}/${tag}-script');alert('${tag}')</script>`,
  svg: `<svg onload="fetch('${origin}/${tag}-svg')"></svg>`,
  remote: `<img src="${origin}/${tag}-remote-img"><link rel=stylesheet href="${origin}/${tag}-css">`,
  attr: `" onmouseover="fetch('${origin}/${tag}-attr')" x="`,
  iframe: `<iframe src="${origin}/${tag}-iframe"></iframe>`,
});
const p = payloads('esc');
const result = {
  kind: 'flow',
  title: `XFD ${p.script}`,
  steps: [
    { index: 1, line: 1, actor: 'G', op: `WRMSR(IA32_XFD) ${p.img}`, vmExit: true, explanation: `intercepted ${p.svg}`, source: p.attr, simulated: true, level: 'L0',
      changes: [{ location: `hw.${p.remote}`, value: p.iframe, status: 'value' }] },
    { index: 2, line: 2, actor: 'HK', op: `Disable WRMSR interception ${p.script}`, simulated: false, changes: [], level: 'L0' },
    { index: 3, line: 3, actor: 'G', op: p.attr, vmExit: false, simulated: true, level: 'L1', changes: [{ location: 'hw.IA32_XFD', value: p.img, status: 'stale' }] },
  ],
  findings: [{ line: 3, severity: 'warning', rule: p.svg, message: p.script }],
  configurations: [{ predicates: { [p.img]: true, paging: p.script }, findings: [{ line: 1, severity: 'error', rule: 'r', message: p.iframe }], flows: [p.remote] }],
  summary: [p.img, p.script],
  markdown: p.script,
};
// cspSource as VS Code gives it to webviews (its resource origin; not the listener's origin)
const escaped = renderSimulationHtml(result, makeNonce(), 'https://*.vscode-cdn.net');
pages.set('/escaped', escaped);
// CSP layer alone: splice raw markup into the body, as if escaping were broken.
const raw = payloads('csp');
pages.set('/csp-only', escaped.replace('<body>', `<body>${Object.values(raw).filter((x) => x.startsWith('<')).join('')}<div id="hover-me" ${raw.attr.slice(2)}">hover me</div>`));

const run = freshRunDir('security');
const browser = await launchBrowser(path.join(run, 'chromium'), { width: 1200, height: 900 });
const page = browser.pages()[0] ?? (await browser.newPage());
const dialogs = [];
const cspReports = [];
page.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss().catch(() => {}); });
page.on('console', (m) => { if (/Content Security Policy|Refused to/i.test(m.text())) cspReports.push(m.text()); });

async function visit(url) {
  await page.goto(origin + url);
  await page.waitForSelector('h1', { state: 'attached' });
  await page.mouse.move(300, 300);
  await page.locator('#hover-me').hover({ timeout: 2000 }).catch(() => {});
  for (const el of await page.locator('tr.step-row td').all()) await el.hover().catch(() => {});
  await sleep(1500);
  return page.evaluate(() => ({
    injected: document.querySelectorAll('body img, body iframe, body link, body script:not([nonce]), body svg[onload]').length,
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => /^on/i.test(a.name))).length,
    text: document.body.innerText,
  }));
}

try {
  await checks.check('escaped names render as text; no request, no dialog, no element injected', async () => {
    const dom = await visit('/escaped');
    assert(dom.injected === 0, `${dom.injected} injected elements`);
    assert(dom.handlers === 0, `${dom.handlers} elements with on* attributes`);
    for (const s of ['<img src=x onerror=', '<script>fetch(', '<svg onload=', '" onmouseover="']) assert(dom.text.includes(s), `not shown as text: ${s}`);
    assert(hits.length === 0, `requests: ${hits.join(', ')}`);
    assert(dialogs.length === 0, `dialogs: ${dialogs.join(', ')}`);
    await page.screenshot({ path: path.join(ARTIFACTS, 'security-escaped.png'), fullPage: true });
    return `${dom.text.length} characters of text, 0 requests`;
  });

  await checks.check("the page's own nonce'd script runs (positive control)", async () => {
    await page.locator('tr.step-row td.op').nth(1).click();
    const n = await until(() => page.locator('tr.step-row.selected').count(), { timeoutMs: 5000 });
    assert(n === 1, 'clicking a step did not select its row');
    return 'step row selected by the panel script';
  });

  await checks.check('the CSP alone blocks raw <script>, onerror/onload/onmouseover handlers and remote loads', async () => {
    const before = cspReports.length;
    const dom = await visit('/csp-only');
    assert(dom.injected > 0, 'control: the raw markup is in the DOM');
    assert(hits.length === 0, `requests got through the CSP: ${hits.join(', ')}`);
    assert(dialogs.length === 0, `dialogs: ${dialogs.join(', ')}`);
    assert(cspReports.length > before, 'chromium reported no CSP violations');
    return `${cspReports.length - before} CSP violations reported, 0 requests`;
  });
} finally {
  await browser.close().catch(() => {});
  server.close();
  fs.rmSync(run, { recursive: true, force: true });
}
process.exit(checks.finish());
