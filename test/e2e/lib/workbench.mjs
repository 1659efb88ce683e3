// Helpers that drive the VS Code workbench (as served by code-server) the way a user does: explorer clicks,
// the command palette, real mouse moves for hovers, the Problems panel, webview frames.
import { assert, sleep, until } from './harness.mjs';

const norm = (t) => (t ?? '').replace(/\u00a0/g, ' ');

export async function openWorkbench(page, baseUrl, folder) {
  await page.goto(`${baseUrl}/?folder=${encodeURIComponent(folder)}`);
  await page.waitForSelector('.monaco-workbench', { timeout: 60_000 });
  await page.waitForSelector('.explorer-folders-view .monaco-list-row', { timeout: 60_000 });
}

/** Opens a file by clicking it in the explorer and waits for the language mode in the status bar. */
export async function openFile(page, name, mode) {
  const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: name }).first();
  await row.waitFor({ timeout: 30_000 });
  await row.click();
  await page.locator('.tabs-container .tab.active', { hasText: name }).waitFor({ timeout: 30_000 });
  if (mode) {
    const re = new RegExp(`^\\s*${mode.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
    await page.locator('[id="status.editor.mode"]').filter({ hasText: re }).waitFor({ timeout: 60_000 });
  }
}

export async function statusMode(page) {
  return norm(await page.locator('[id="status.editor.mode"]').innerText().catch(() => '')).trim();
}

/** Screen box of `word` on the first visible editor line whose text includes `lineIncludes`. */
export async function wordBox(page, lineIncludes, word) {
  return page.evaluate(({ lineIncludes, word }) => {
    const norm = (t) => (t ?? '').replace(/\u00a0/g, ' ');
    const group = document.querySelector('.part.editor .editor-group-container.active') ?? document;
    const lines = [...group.querySelectorAll('.monaco-editor .view-lines .view-line')];
    const line = lines.find((l) => norm(l.textContent).includes(lineIncludes));
    if (!line) return null;
    // Monaco splits a line into token spans; find the word across text nodes with a DOM Range.
    const walker = document.createTreeWalker(line, NodeFilter.SHOW_TEXT);
    const nodes = [];
    let text = '';
    for (let n; (n = walker.nextNode());) { nodes.push({ n, at: text.length }); text += norm(n.data); }
    const i = text.indexOf(word);
    if (i < 0) return null;
    const locate = (off) => { const e = [...nodes].reverse().find((x) => x.at <= off); return [e.n, off - e.at]; };
    const r = document.createRange();
    r.setStart(...locate(i));
    r.setEnd(...locate(i + word.length - 1));
    const b = r.getBoundingClientRect();
    return { x: b.x, y: b.y, width: b.width + 4, height: b.height };
  }, { lineIncludes, word });
}

export async function lineText(page, lineIncludes) {
  return page.evaluate((lineIncludes) => {
    const norm = (t) => (t ?? '').replace(/\u00a0/g, ' ');
    const group = document.querySelector('.part.editor .editor-group-container.active') ?? document;
    const line = [...group.querySelectorAll('.monaco-editor .view-lines .view-line')].find((l) => norm(l.textContent).includes(lineIncludes));
    return line ? norm(line.textContent) : null;
  }, lineIncludes);
}

/** Clicks into the editor on `word` (places the caret there). */
export async function clickWord(page, lineIncludes, word, { offset = 0.5, modifiers } = {}) {
  // Code lenses and inlay hints can appear after the file opens and move the lines: click, then re-measure, and click
  // again while the word moved (a stale click lands on the line above).
  let box;
  for (let attempt = 0; attempt < 4; attempt++) {
    box = await until(() => wordBox(page, lineIncludes, word), { timeoutMs: 10_000 });
    assert(box, `"${word}" not visible on a line with "${lineIncludes}"`);
    await page.mouse.click(box.x + box.width * offset, box.y + box.height / 2, { modifiers });
    await new Promise((r) => setTimeout(r, 400));
    const now = await wordBox(page, lineIncludes, word);
    if (now && Math.abs(now.x - box.x) < 2 && Math.abs(now.y - box.y) < 2) break;
  }
  return box;
}

/**
 * Moves the real mouse over `word` and waits for a hover widget containing `expect`. The language server may still
 * be starting, so it retries. Returns the hover text.
 */
export async function hoverWord(page, lineIncludes, word, expect, { attempts = 12 } = {}) {
  let last = '';
  for (let i = 1; i <= attempts; i++) {
    const box = await wordBox(page, lineIncludes, word);
    if (!box) { await sleep(1000); continue; }
    await page.mouse.move(2, 2);
    await sleep(150);
    await page.mouse.move(box.x + Math.min(box.width / 2, 12), box.y + box.height / 2, { steps: 6 });
    const hover = page.locator('.monaco-hover:not(.hidden)').filter({ hasText: expect }).first();
    try {
      await hover.waitFor({ state: 'visible', timeout: 3000 });
      return norm(await hover.innerText()).trim();
    } catch {
      last = norm(await page.locator('.monaco-hover:not(.hidden)').first().innerText({ timeout: 200 }).catch(() => ''));
    }
  }
  throw new Error(`no hover with "${expect}" over ${word}; last hover text: ${JSON.stringify(last.slice(0, 300))}`);
}

export async function dismissHover(page) {
  await page.mouse.move(2, 2);
  await page.keyboard.press('Escape');
  await sleep(200);
}

/** Runs a command by its palette title (F1, type, Enter). */
export async function runCommand(page, title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(`>${title}`);
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first();
  await row.waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Opens the Problems panel and returns its rows as { text, severity } (markers of all files). */
export async function openProblems(page) {
  const panel = page.locator('.markers-panel');
  if (!(await panel.isVisible().catch(() => false))) {
    await runCommand(page, 'Problems: Focus on Problems View');
    await panel.waitFor({ state: 'visible', timeout: 15_000 });
  }
}

export async function problemRows(page) {
  return page.evaluate(() => {
    const norm = (t) => (t ?? '').replace(/\u00a0/g, ' ');
    return [...document.querySelectorAll('.markers-panel .monaco-list-row')].map((row) => {
      // marker rows carry `.marker-icon.<severity>` and an aria-label starting with the severity; file rows neither
      const icon = row.querySelector('.marker-icon');
      const cls = icon ? icon.className : '';
      const aria = row.getAttribute('aria-label') ?? '';
      const severity = /\berror\b/.test(cls) || /^Error:/.test(aria) ? 'error'
        : /\bwarning\b/.test(cls) || /^Warning:/.test(aria) ? 'warning'
        : /\binfo\b/.test(cls) || /^Info:/.test(aria) ? 'info'
        : icon ? 'hint' : 'file';
      return { text: norm(row.textContent), severity, aria: row.getAttribute('aria-label') ?? '' };
    });
  });
}

/** Waits until some frame of the page has an element matching `selector`; returns that frame. */
export async function findFrame(page, selector, { timeoutMs = 30_000, hasText } = {}) {
  return until(async () => {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue; // webviews only
      try {
        const loc = hasText ? f.locator(selector, { hasText }) : f.locator(selector);
        if (await loc.count()) return f;
      } catch { /* detached while looking */ }
    }
    return undefined;
  }, { timeoutMs, intervalMs: 300 });
}

/** Closes the simulation panel if it is open, so the next simulation gets a fresh webview frame. */
export async function closeSimulationPanel(page) {
  const tab = page.locator('.tabs-container .tab', { hasText: 'Simulation' });
  for (let i = 0; i < 3 && (await tab.count()); i++) {
    await tab.first().hover();
    await tab.first().locator('.codicon-close, .tab-actions .action-label').first().click({ timeout: 5000 }).catch(() => {});
    await sleep(300);
  }
}

/**
 * Waits for the simulation panel's webview and reads it with `read(frame)`; retries while the webview is being
 * (re)created, when frames detach under the reader.
 */
export async function readPanel(page, read, { timeoutMs = 30_000, selector = 'section#timeline' } = {}) {
  let lastError;
  const v = await until(async () => {
    try {
      const f = await findFrame(page, selector, { timeoutMs: 1000 });
      return f ? await read(f) : undefined;
    } catch (e) {
      lastError = e;
      return undefined;
    }
  }, { timeoutMs, intervalMs: 300 });
  if (v === undefined && lastError) throw lastError;
  return v;
}

/**
 * Screenshot of the simulation panel alone: hides the bottom panel, maximizes the panel's editor group, scrolls the
 * webview to `section`, then restores the layout.
 */
export async function panelScreenshot(page, file, section = '#timeline') {
  if (await page.locator('.part.panel').isVisible().catch(() => false)) {
    await runCommand(page, 'View: Hide Panel').catch(() => page.keyboard.press('Escape'));
  }
  await page.locator('.tabs-container .tab', { hasText: 'Simulation' }).first().click();
  await runCommand(page, 'View: Toggle Maximize Editor Group').catch(() => page.keyboard.press('Escape'));
  await sleep(800);
  const frame = await findFrame(page, section, { timeoutMs: 10_000 });
  await frame?.locator(section).evaluate((e) => e.scrollIntoView({ block: 'start' })).catch(() => {});
  await sleep(400);
  await page.screenshot({ path: file });
  await runCommand(page, 'View: Toggle Maximize Editor Group').catch(() => page.keyboard.press('Escape'));
  await sleep(300);
}

/** Opens a workspace file by its relative path with Quick Open (Ctrl+P), as a user would for a file deep in a tree. */
export async function quickOpen(page, relPath, mode) {
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: 10_000 });
  await input.fill(relPath);
  const base = relPath.split('/').pop();
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: base }).first().waitFor({ timeout: 15_000 });
  await sleep(300);
  await page.keyboard.press('Enter');
  await page.locator('.tabs-container .tab.active', { hasText: base }).waitFor({ timeout: 30_000 });
  if (mode) await page.locator('[id="status.editor.mode"]').filter({ hasText: mode }).waitFor({ timeout: 60_000 });
}

/** Status-bar items that belong to KVM Lens (its own item, or a progress item naming it). */
export async function kvmLensStatusItems(page) {
  const items = await page.locator('.statusbar-item').evaluateAll((els) => els
    .filter((e) => e.offsetParent !== null)
    .map((e) => `${e.innerText} ${e.getAttribute('aria-label') ?? ''}`.replace(/\s+/g, ' ').trim()));
  return items.filter((t) => /kvm[- ]?lens/i.test(t));
}
