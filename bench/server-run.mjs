// Measurements through the real server process (node dist/server.js --stdio), as an editor meets them: indexing,
// RSS after opening the target, hovers, keystroke bursts, 10 000 single-character edits, RSS after them and after a
// GC. Each figure is the time from sending the message to receiving its answer or its publishDiagnostics.
import { pathToFileURL } from 'node:url';
import { Lsp, percentile } from './lsp-client.mjs';
import { rng } from './synth.mjs';

function lineStarts(text) {
  const s = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) s.push(i + 1);
  return s;
}
export function posAt(starts, off) {
  let lo = 0; let hi = starts.length - 1;
  while (lo < hi) { const mid = (lo + hi + 1) >> 1; if (starts[mid] <= off) lo = mid; else hi = mid - 1; }
  return { line: lo, character: off - starts[lo] };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const MB = 1048576;
const stats = (times) => { const s = [...times].sort((a, b) => a - b); return { p50: percentile(s, 50), p95: percentile(s, 95), p99: percentile(s, 99), max: s[s.length - 1], n: s.length }; };

/**
 * opts: { server, root, include (undefined = the extension's defaults), target {abs, text}, hovers, edits, bursts,
 * burstKeys, burstGapMs, progress(msg) }
 */
export async function serverRun(opts) {
  const { target, progress = () => {} } = opts;
  const lsp = new Lsp(opts.server);
  const out = {};
  const serverStats = async (gc = false) => (await lsp.request('kvmLens/serverStats', gc ? { gc: true } : undefined)).result;
  try {
    const rootUri = pathToFileURL(opts.root).href;
    const statusDone = lsp.next((m) => m.method === 'kvmLens/status' && m.params && m.params.busy === false, 600000, 'indexing');
    const t0 = performance.now();
    await lsp.initialize(rootUri, opts.include ? { index: { include: opts.include } } : undefined);
    const status = await statusDone;
    out.indexMs = performance.now() - t0;
    out.indexStatus = status.params.tooltip;
    out.indexedFiles = (await serverStats()).indexedFiles;

    const uri = pathToFileURL(target.abs).href;
    let version = 1;
    let text = target.text;
    const tOpen = performance.now();
    const opened = lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri, 60000, 'first diagnostics');
    lsp.notify('textDocument/didOpen', { textDocument: { uri, languageId: 'c', version, text } });
    await opened;
    out.openMs = performance.now() - tOpen;
    const s0 = await serverStats();
    out.rssStartMB = s0.rss / MB;
    const g0 = await serverStats(true);
    out.retainedStartMB = (g0.heapUsed + g0.external) / MB;
    out.rssStartGcMB = g0.rss / MB;

    // Hovers: half on field-like names, half anywhere.
    const starts0 = lineStarts(text);
    const r = rng(99);
    const refsLike = [];
    const re = /\b(GUEST_[A-Z0-9_]+|VM_EXIT_[A-Z_]+|EXIT_QUALIFICATION|int_ctl|guest_pdptr\d|V_IRQ_MASK|vmcs_read\d+|vmcs_write\d+)\b/g;
    for (let m; (m = re.exec(text)) !== null;) refsLike.push(m.index + 1);
    const hoverTimes = [];
    for (let i = 0; i < opts.hovers; i++) {
      const off = i % 2 === 0 && refsLike.length ? refsLike[Math.floor(r() * refsLike.length)] : Math.floor(r() * text.length);
      const t = performance.now();
      await lsp.request('textDocument/hover', { textDocument: { uri }, position: posAt(starts0, off) });
      hoverTimes.push(performance.now() - t);
      if (i % 1000 === 0) progress(`server: hover ${i}/${opts.hovers}`);
    }
    out.hover = stats(hoverTimes);

    // Bursts: type a word one key every burstGapMs at the start of a statement (the editor asks for code actions at
    // the cursor after each key and cancels the previous request), then wait for the diagnostics of the last version;
    // the next burst deletes the word key by key. Latency = last key sent → its publishDiagnostics.
    const WORD = 'vmcs12->guest_cr3 = 0;'.slice(0, opts.burstKeys);
    const br = rng(5);
    const burstTimes = [];
    let stalePublishes = 0;
    let codeActionsCancelled = 0;
    const lines = lineStarts(text);
    for (let b = 0; b < opts.bursts; b += 2) {
      let line;
      for (let tries = 0; tries < 50; tries++) {
        line = 1 + Math.floor(br() * (lines.length - 2));
        const l = text.slice(lines[line], lines[line + 1] - 1);
        if (/^\t+\w/.test(l)) break; // inside a function body
      }
      const col = /^\t*/.exec(text.slice(lines[line]))[0].length;
      for (const kind of ['type', 'erase']) {
        let pendingAction;
        let last;
        const seen = [];
        const off = lsp.on((m) => { if (m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri) seen.push(m.params.version); });
        for (let k = 0; k < WORD.length; k++) {
          const v = ++version;
          const ch = kind === 'type' ? col + k : col + WORD.length - k - 1;
          const change = kind === 'type'
            ? { range: { start: { line, character: ch }, end: { line, character: ch } }, text: WORD[k] }
            : { range: { start: { line, character: ch }, end: { line, character: ch + 1 } }, text: '' };
          const isLast = k === WORD.length - 1;
          const got = isLast ? lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 30000, `burst diagnostics v${v}`) : undefined;
          if (pendingAction) { lsp.notify('$/cancelRequest', { id: pendingAction.id }); codeActionsCancelled++; }
          const t = performance.now();
          lsp.notify('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [change] });
          const cur = { line, character: kind === 'type' ? ch + 1 : ch };
          pendingAction = lsp.requestWithId('textDocument/codeAction', { textDocument: { uri }, range: { start: cur, end: cur }, context: { diagnostics: [] } });
          pendingAction.promise.then(() => { pendingAction = undefined; }, () => {});
          if (isLast) { await got; last = performance.now() - t; } else await sleep(opts.burstGapMs);
        }
        off();
        burstTimes.push(last);
        stalePublishes += seen.filter((x) => x !== version).length;
        const at = lines[line] + col;
        text = kind === 'type' ? text.slice(0, at) + WORD + text.slice(at) : text.slice(0, at) + text.slice(at + WORD.length);
        await sleep(150);
      }
      if (b % 10 === 0) progress(`server: burst ${b}/${opts.bursts}`);
    }
    out.burst = { ...stats(burstTimes), keys: WORD.length, gapMs: opts.burstGapMs, stalePublishes, codeActionsCancelled };

    // Edits: a one-character insert at a random position and its deletion, each waiting for its diagnostics.
    const editTimes = [];
    const er = rng(7);
    const rssTrail = [];
    for (let i = 0; i < opts.edits; i += 2) {
      const st = lineStarts(text);
      const line = 1 + Math.floor(er() * (st.length - 2));
      const lineLen = (st[line + 1] ?? text.length + 1) - 1 - st[line];
      const ch = Math.floor(er() * (lineLen + 1));
      for (const kind of ['insert', 'delete']) {
        const v = ++version;
        const range = kind === 'insert' ? { start: { line, character: ch }, end: { line, character: ch } } : { start: { line, character: ch }, end: { line, character: ch + 1 } };
        const got = lsp.next((m) => m.method === 'textDocument/publishDiagnostics' && m.params.uri === uri && m.params.version === v, 30000, `diagnostics v${v}`);
        const t = performance.now();
        lsp.notify('textDocument/didChange', { textDocument: { uri, version: v }, contentChanges: [{ range, text: kind === 'insert' ? 'x' : '' }] });
        await got;
        editTimes.push(performance.now() - t);
      }
      if ((i + 2) % 1000 === 0) {
        rssTrail.push(Math.round((await serverStats()).rss / MB));
        progress(`server: edit ${i + 2}/${opts.edits}`);
      }
    }
    out.edit = stats(editTimes);
    const s1 = await serverStats();
    out.rssAfterEditsMB = s1.rss / MB;
    out.rssPeakMB = s1.maxRss / MB;
    out.rssTrailMB = rssTrail;
    // While busy V8 keeps the heap it grew to; its memory reducer gives it back once the server has been idle a few
    // seconds (8 s by default). The RSS a user sees after a typing session is the idle one.
    if (opts.idleMs > 0) {
      progress(`server: idle ${opts.idleMs / 1000} s`);
      await new Promise((res) => setTimeout(res, opts.idleMs));
      out.rssIdleMB = (await serverStats()).rss / MB;
      out.idleMs = opts.idleMs;
    }
    const g1 = await serverStats(true);
    out.rssAfterGcMB = g1.rss / MB;
    out.retainedEndMB = (g1.heapUsed + g1.external) / MB;
    out.counters = { published: g1.published, edits: g1.edits, internalErrors: g1.internalErrors };
  } finally {
    progress('');
    await lsp.close();
  }
  return out;
}
