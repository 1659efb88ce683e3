import fs from 'node:fs'; import path from 'node:path';
import { startCodeServer, launchBrowser, sleep, E2E_HOME } from './lib/harness.mjs';
import { openWorkbench, openFile, openProblems, problemRows } from './lib/workbench.mjs';
const run = process.argv[2];
const cs = await startCodeServer({ runDir: run, userDataDir: run + '/user-data', extensionsDir: run + '/extensions' });
const b = await launchBrowser(run + '/chromium2');
const page = b.pages()[0];
try {
  await openWorkbench(page, cs.url, run + '/workspace');
  await openFile(page, 'nested_pdptr.c', 'C');
  await openProblems(page);
  await sleep(3000);
  console.log(await page.evaluate(() => [...document.querySelectorAll('.markers-panel .monaco-list-row')].map(r => r.outerHTML).join('\n\n')));
  console.log(await page.locator('.statusbar-item', { hasText: 'KVM Lens' }).first().innerText());
} finally { await b.close(); await cs.stop(); }
