// Renders a SimulationResult (the `kvmLens/simulate` answer) as the HTML of the simulation webview.
// Pure: no `vscode` import, so it runs (and is unit-tested) in plain Node.
//
// Security: the document being simulated is untrusted input (a patch mail, a file from anywhere). Every string that
// comes from the result is HTML-escaped with `esc`, numbers go through `num`, and the page carries a strict
// Content-Security-Policy: nothing loads from anywhere, styles and the one script need the per-render nonce, and no
// element has an inline event handler (the script attaches its listeners itself).
import type {
  SimConfiguration,
  SimFinding,
  SimStateChange,
  SimStep,
  SimulationResult,
} from '../../server/src/protocol/simulation';
import { exitCount, faultOf, isExitStep } from '../../server/src/protocol/simulationView';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

/** Escapes text for use in HTML element content and in quoted attribute values. */
export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => ESCAPES[c]);
}

/** A finite number for SVG coordinates and counts; anything else becomes 0. */
function num(value: unknown): number {
  const n = Number(value);
  return Number.isFinite(n) ? n : 0;
}

/** Only known tokens reach class names; anything else maps to a fixed fallback. */
/** A step inside a called function: the call's line in the simulated function, linked, with the callee named. */
function via(s: SimStep): string {
  const v = s.via;
  if (!v || typeof v !== 'object') return '';
  return ` <span class="via">← <a href="#" class="line-link" data-line="${num(v.line)}">${num(v.line)}</a> <span class="muted">in ${esc(v.fn)}()</span></span>`;
}

function token<T extends string>(value: unknown, allowed: readonly T[], fallback: T): T {
  return (allowed as readonly unknown[]).includes(value) ? (value as T) : fallback;
}

const LEVELS = ['L2', 'L1', 'HU', 'L0'] as const; // timeline rows, top to bottom
type Level = (typeof LEVELS)[number];
const LEVEL_LABEL: Record<Level, string> = { L2: 'L2 guest', L1: 'L1 guest', HU: 'host user', L0: 'host kernel' };
const SEVERITIES = ['error', 'warning', 'info', 'hint'] as const;
const STATUSES = ['value', 'undefined', 'stale', 'copied', 'intercepted'] as const;

/** A CSP nonce: 32 characters from [A-Za-z0-9]. `random` is injectable for tests. */
export function makeNonce(random: () => number = Math.random): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (let i = 0; i < 32; i++) s += alphabet[Math.floor(random() * alphabet.length) % alphabet.length];
  return s;
}

export function contentSecurityPolicy(nonce: string, cspSource: string): string {
  const n = nonce.replace(/[^A-Za-z0-9+/=]/g, '');
  // Keep only well-formed host/scheme sources (what `webview.cspSource` is); drop anything else.
  const src = cspSource.split(/\s+/).filter((t) => /^[a-z][a-z0-9+.-]*:(\/\/[A-Za-z0-9.*_:\-/]+)?$/i.test(t)).join(' ');
  return [
    "default-src 'none'",
    `style-src ${src} 'nonce-${n}'`.replace(/\s+/g, ' '),
    `script-src 'nonce-${n}'`,
    'img-src data:',
    "font-src 'none'",
    "connect-src 'none'",
    "frame-src 'none'",
    "form-action 'none'",
    "base-uri 'none'",
  ].join('; ');
}

function levelOf(step: SimStep): Level {
  return token(step.level, LEVELS, 'L0');
}

// ---------------------------------------------------------------------------------------------------------------
// Timeline: x = step, y = level; a polyline through the steps, arrows where the level changes.

function renderTimeline(steps: SimStep[], findings: SimFinding[]): string {
  if (steps.length === 0) return '<p class="muted">No steps.</p>';
  const left = 96, top = 18, dx = Math.max(22, Math.min(56, Math.floor(900 / Math.max(1, steps.length)))), dy = 44;
  const width = left + dx * steps.length + 24;
  const height = top + 12 + dy * (LEVELS.length - 1) + 34;
  const x = (i: number) => left + dx * i + dx / 2;
  const y = (l: Level) => top + 12 + dy * LEVELS.indexOf(l);
  const parts: string[] = [];
  parts.push(
    `<svg class="timeline" xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-label="Timeline of transitions across L2, L1, host user space and host kernel">`,
    '<defs>',
    '<marker id="arrow-exit" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-exit"/></marker>',
    '<marker id="arrow-entry" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" class="arrow-entry"/></marker>',
    '</defs>',
  );
  for (const l of LEVELS) {
    parts.push(`<line class="lane" x1="${left - 6}" y1="${y(l)}" x2="${width - 8}" y2="${y(l)}"/>`);
    parts.push(`<text class="lane-label" x="4" y="${y(l) + 4}">${esc(LEVEL_LABEL[l])}</text>`);
  }
  let prev: { i: number; l: Level } | undefined;
  steps.forEach((s, i) => {
    const l = levelOf(s);
    if (prev) {
      if (prev.l === l) {
        parts.push(`<line class="stay" x1="${x(prev.i)}" y1="${y(l)}" x2="${x(i)}" y2="${y(l)}"/>`);
      } else {
        // Moving down the rows (towards the host kernel) is an exit, moving up is an entry/return.
        const exit = LEVELS.indexOf(l) > LEVELS.indexOf(prev.l);
        const kind = exit ? 'exit' : 'entry';
        const y1 = y(prev.l), y2 = y(l);
        const shorten = y2 > y1 ? -7 : 7;
        parts.push(
          `<line class="transition ${kind}" x1="${x(prev.i)}" y1="${y1}" x2="${x(i)}" y2="${y2 + shorten}" marker-end="url(#arrow-${kind})"><title>${esc(`${exit ? 'exit' : 'entry'}: ${LEVEL_LABEL[prev.l]} → ${LEVEL_LABEL[l]} (step ${num(s.index)})`)}</title></line>`,
        );
      }
    }
    const fault = faultOf(s, findings);
    const exit = isExitStep(s);
    const cls = ['step-dot', s.simulated === false ? 'narration' : 'simulated', exit ? 'vmexit' : s.vmExit === false ? 'noexit' : '', fault ? 'fault' : ''].join(' ').replace(/\s+/g, ' ').trim();
    const tip = `#${num(s.index)} line ${num(s.line)} (${String(s.actor ?? '')}) ${String(s.op ?? '')}${exit ? ' — VM exit' : ''}${s.simulated === false ? ' — not simulated' : ''}${fault ? ` — fault: ${fault}` : ''}`;
    parts.push(`<g class="step-mark${fault ? ' fault' : ''}" data-step="${i}" data-line="${num(s.line)}"><circle class="${esc(cls)}" cx="${x(i)}" cy="${y(l)}" r="${exit || fault ? 7 : 5}"><title>${esc(tip)}</title></circle>`);
    if (fault) parts.push(`<text class="fault-label" x="${x(i)}" y="${y(l) - 11}" text-anchor="middle">⚠<title>${esc(`fault: ${fault}`)}</title></text>`);
    else if (exit) parts.push(`<text class="vmexit-label" x="${x(i)}" y="${y(l) - 11}" text-anchor="middle">exit</text>`);
    parts.push('</g>');
    if (i === 0 || i === steps.length - 1 || i % Math.max(1, Math.ceil(steps.length / 20)) === 0) {
      parts.push(`<text class="step-num" x="${x(i)}" y="${height - 6}" text-anchor="middle">${num(s.index)}</text>`);
    }
    prev = { i, l };
  });
  parts.push('</svg>');
  parts.push('<p class="legend"><span class="key fault">⚠ ●</span> fault: a value becomes undefined or stale, or a finding is on the line ' +
    '<span class="key exit">●</span> VM exit <span class="key noexit">●</span> guest operation without exit ' +
    '<span class="key simulated">●</span> simulated step <span class="key narration">○</span> narration (not simulated) ' +
    '<span class="key exit">↘</span> exit to the host <span class="key entry">↗</span> entry/return</p>');
  return parts.join('');
}

// ---------------------------------------------------------------------------------------------------------------
// Step list and per-step state.

function renderSteps(steps: SimStep[], findings: SimFinding[]): string {
  if (steps.length === 0) return '';
  const rows = steps.map((s, i) => {
    const narration = s.simulated === false;
    const fault = faultOf(s, findings);
    const exit = isExitStep(s) ? '<span class="badge exit">VM exit</span>' : s.vmExit === false ? '<span class="badge noexit">no exit</span>' : '';
    const explanation = narration
      ? '<span class="muted">not simulated</span>'
      : `${esc(s.explanation ?? '')}${s.source ? ` <span class="source">${esc(s.source)}</span>` : ''}`;
    return `<tr class="step-row${narration ? ' narration' : ''}${fault ? ' fault' : ''}" id="step-${i}" data-step="${i}" data-line="${num(s.line)}">` +
      `<td class="num">${fault ? '<span class="fault-icon" title="fault: a value becomes undefined or stale, or a finding is on this line">⚠</span> ' : ''}${num(s.index)}</td>` +
      `<td class="num"><a href="#" class="line-link" data-line="${num(s.line)}">${num(s.line)}</a>${via(s)}</td>` +
      `<td><span class="actor actor-${esc(token(s.actor, ['G', 'L1', 'L2', 'HK', 'HU', 'HW', 'KVM'] as const, 'KVM'))}">${esc(s.actor)}</span></td>` +
      `<td class="op">${esc(s.op)}</td><td>${exit}</td><td>${explanation}</td></tr>`;
  });
  return '<table class="steps"><thead><tr><th>#</th><th>line</th><th>actor</th><th>operation</th><th>VM exit</th><th>why</th></tr></thead>' +
    `<tbody>${rows.join('')}</tbody></table>`;
}

interface Cell { value: string; status: SimStateChange['status']; step: number }

function renderStates(steps: SimStep[]): string {
  const state = new Map<string, Cell>();
  const blocks: string[] = [];
  steps.forEach((s, i) => {
    const changes = Array.isArray(s.changes) ? s.changes : [];
    const changed = new Set<string>();
    for (const c of changes) {
      const loc = String(c?.location ?? '');
      state.set(loc, { value: String(c?.value ?? ''), status: token(c?.status, STATUSES, 'value'), step: num(s.index) });
      changed.add(loc);
    }
    if (changes.length === 0) return; // unchanged state: nothing new to show for this step
    const rows = [...state.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([loc, cell]) => {
        const hot = changed.has(loc);
        return `<tr class="${hot ? 'changed' : ''} status-${cell.status}"><td class="loc">${esc(loc)}</td>` +
          `<td class="val">${esc(cell.value)}</td><td><span class="status">${esc(cell.status)}</span></td>` +
          `<td class="num">${hot ? '<span class="badge changed-badge">changed</span>' : esc(`step ${cell.step}`)}</td></tr>`;
      });
    blocks.push(
      `<details class="state" data-step="${i}"${i === steps.length - 1 ? ' open' : ''}><summary>after step ${num(s.index)} ` +
        `(line ${num(s.line)}, ${esc(s.op)}) — ${changes.length} field${changes.length === 1 ? '' : 's'} changed</summary>` +
        '<table class="state-table"><thead><tr><th>location</th><th>value</th><th>status</th><th>set at</th></tr></thead>' +
        `<tbody>${rows.join('')}</tbody></table></details>`,
    );
  });
  return blocks.length ? blocks.join('') : '<p class="muted">No state changes recorded.</p>';
}

// ---------------------------------------------------------------------------------------------------------------
// Findings and configuration sweep.

/** A finding message; a trailing `[sources]` citation is set apart in smaller type. */
function messageHtml(message: unknown): string {
  const text = String(message ?? '');
  const m = /^([\s\S]*?)\s*(\[[^\[\]]*(?:\[[^\[\]]*\][^\[\]]*)*\])(\s*(?:—|-)[^\[\]]*)?$/.exec(text);
  if (!m || m[1].trim() === '') return esc(text);
  return `${esc(m[1])}${m[3] ? esc(m[3]) : ''} <span class="source">${esc(m[2])}</span>`;
}

function renderFindings(findings: SimFinding[], emptyText = 'No findings.'): string {
  if (findings.length === 0) return `<p class="muted">${esc(emptyText)}</p>`;
  const items = findings.map((f) => {
    const sev = token(f.severity, SEVERITIES, 'info');
    return `<li class="finding sev-${sev}"><span class="badge sev-${sev}">${esc(sev)}</span> ` +
      `<a href="#" class="line-link" data-line="${num(f.line)}">line ${num(f.line)}</a> ` +
      `<code>[${esc(f.rule)}]</code> ${messageHtml(f.message)}</li>`;
  });
  return `<ul class="findings">${items.join('')}</ul>`;
}

function renderConfigurations(configs: SimConfiguration[], shown?: Record<string, boolean | string>): string {
  if (configs.length === 0) return '';
  const keys: string[] = [];
  for (const c of configs) for (const k of Object.keys(c?.predicates ?? {})) if (!keys.includes(k)) keys.push(k);
  const head = `<tr><th>#</th>${keys.map((k) => `<th>${esc(k)}</th>`).join('')}<th>findings</th><th>flows</th></tr>`;
  const rows = configs.map((c, i) => {
    const findings = Array.isArray(c.findings) ? c.findings : [];
    const flows = Array.isArray(c.flows) ? c.flows : [];
    const worst = SEVERITIES.find((s) => findings.some((f) => f.severity === s));
    const cells = keys.map((k) => {
      const v = c.predicates?.[k];
      const cls = v === true ? 'yes' : v === false ? 'no' : 'other';
      return `<td class="pred ${cls}">${esc(v === true ? 'yes' : v === false ? 'no' : v ?? '—')}</td>`;
    });
    const findingCell = findings.length
      ? `<details><summary><span class="badge sev-${worst ?? 'info'}">${findings.length}</span></summary>${renderFindings(findings)}</details>`
      : '<span class="muted">0</span>';
    const flowCell = flows.length
      ? `<details><summary>${flows.length} flow${flows.length === 1 ? '' : 's'}</summary><ul class="flows">${flows.map((f) => `<li><code>${esc(f)}</code></li>`).join('')}</ul></details>`
      : '<span class="muted">none</span>';
    const isShown = !!shown && keys.every((k) => c.predicates?.[k] === shown[k]);
    return `<tr class="config-row${findings.length ? ' has-findings' : ''}${isShown ? ' shown' : ''}" data-config="${i}" tabindex="0" title="Show the steps of this configuration">` +
      `<td class="num">${isShown ? '▶ ' : ''}${i + 1}</td>${cells.join('')}<td class="num">${findingCell}</td><td>${flowCell}</td></tr>`;
  });
  return '<p class="muted">Click a row to show the steps of that configuration.</p>' +
    `<table class="sweep"><thead>${head}</thead><tbody>${rows.join('')}</tbody></table>`;
}

// ---------------------------------------------------------------------------------------------------------------

const STYLE = `
:root { color-scheme: light dark; }
body { font-family: var(--vscode-font-family, sans-serif); font-size: var(--vscode-font-size, 13px);
  color: var(--vscode-foreground, #222); background: var(--vscode-editor-background, #fff); padding: 0 16px 24px; }
h1 { font-size: 1.35em; margin: 14px 0 4px; } h2 { font-size: 1.1em; margin: 18px 0 6px; border-bottom: 1px solid var(--vscode-panel-border, #8884); }
code, .op, .loc, .val { font-family: var(--vscode-editor-font-family, monospace); }
.muted { opacity: 0.7; } .kind { opacity: 0.75; font-weight: normal; }
table { border-collapse: collapse; margin: 4px 0 10px; }
th, td { border: 1px solid var(--vscode-panel-border, #8884); padding: 2px 6px; vertical-align: top; text-align: left; }
th { background: var(--vscode-editorWidget-background, #8881); }
td.num { text-align: right; white-space: nowrap; }
tr.narration td { opacity: 0.65; font-style: italic; }
tr.selected td { outline: 1px solid var(--vscode-focusBorder, #06c); }
tr.changed td { background: var(--vscode-diffEditor-insertedTextBackground, #9f94); font-weight: 600; }
tr.status-undefined td.val, tr.status-stale td.val { color: var(--vscode-errorForeground, #c00); }
.badge { border-radius: 3px; padding: 0 4px; font-size: 0.85em; white-space: nowrap; border: 1px solid currentColor; }
.badge.exit, .sev-error .badge, .badge.sev-error { color: var(--vscode-errorForeground, #c00); }
.badge.sev-warning { color: var(--vscode-editorWarning-foreground, #b80); }
.badge.sev-info, .badge.sev-hint { color: var(--vscode-editorInfo-foreground, #07c); }
.badge.noexit { opacity: 0.7; }
.actor { font-weight: 600; }
.source { opacity: 0.7; font-size: 0.9em; }
ul.summary li { margin: 2px 0; }
.timeline-wrap { overflow-x: auto; overflow-y: hidden; max-width: 100%; }
svg.timeline { max-width: none; flex-shrink: 0; display: block; }
svg .step-dot.fault { fill: var(--vscode-editorWarning-foreground, #d80); stroke: var(--vscode-errorForeground, #c00); stroke-width: 2.5; }
svg .fault-label { fill: var(--vscode-editorWarning-foreground, #d80); font-size: 14px; font-weight: bold; }
tr.step-row.fault td { background: var(--vscode-inputValidation-warningBackground, #fd82); }
tr.step-row.fault td:first-child { border-left: 3px solid var(--vscode-editorWarning-foreground, #d80); }
.fault-icon, .key.fault { color: var(--vscode-editorWarning-foreground, #d80); font-weight: bold; }
tr.config-row { cursor: pointer; } tr.config-row:hover td { background: var(--vscode-list-hoverBackground, #8882); }
tr.config-row.shown td { background: var(--vscode-list-activeSelectionBackground, #06c3); font-weight: 600; }
svg.timeline { background: var(--vscode-editorWidget-background, #8881); border: 1px solid var(--vscode-panel-border, #8884); }
svg .lane { stroke: var(--vscode-panel-border, #8886); stroke-dasharray: 3 4; }
svg .lane-label, svg .step-num, svg .vmexit-label { fill: var(--vscode-foreground, #222); font-size: 11px; }
svg .vmexit-label { fill: var(--vscode-errorForeground, #c00); font-size: 10px; }
svg .stay { stroke: var(--vscode-foreground, #222); stroke-opacity: 0.5; stroke-width: 1.5; }
svg .transition { stroke-width: 2; }
svg .transition.exit { stroke: var(--vscode-errorForeground, #c33); }
svg .transition.entry { stroke: var(--vscode-testing-iconPassed, #393); }
svg .arrow-exit { fill: var(--vscode-errorForeground, #c33); }
svg .arrow-entry { fill: var(--vscode-testing-iconPassed, #393); }
svg .step-dot.simulated { fill: var(--vscode-textLink-foreground, #06c); }
svg .step-dot.narration { fill: var(--vscode-editor-background, #fff); stroke: var(--vscode-foreground, #222); stroke-opacity: 0.6; }
svg .step-dot.vmexit { fill: var(--vscode-errorForeground, #c33); stroke: var(--vscode-foreground, #222); }
svg .step-dot.noexit { fill: var(--vscode-testing-iconPassed, #393); stroke: var(--vscode-foreground, #222); stroke-width: 1; }
svg .step-mark { cursor: pointer; }
p.legend { font-size: 0.85em; opacity: 0.85; margin: 2px 0 8px; }
.key { font-weight: bold; margin-left: 8px; } .key.exit { color: var(--vscode-errorForeground, #c33); }
.key.noexit, .key.entry { color: var(--vscode-testing-iconPassed, #393); } .key.simulated { color: var(--vscode-textLink-foreground, #06c); }
td.pred.yes { color: var(--vscode-testing-iconPassed, #393); } td.pred.no { opacity: 0.7; }
tr.has-findings td:first-child { border-left: 3px solid var(--vscode-editorWarning-foreground, #b80); }
details.state { margin: 4px 0; } details.state > summary { cursor: pointer; }
`;

// The only script: clicking a step (row, line link or timeline dot) asks the extension to reveal that line, and
// highlights the row. Listeners are attached here; the markup has no on* attributes.
const SCRIPT = `
(function () {
  const vscode = typeof acquireVsCodeApi === 'function' ? acquireVsCodeApi() : undefined;
  function select(step) {
    document.querySelectorAll('tr.step-row.selected').forEach(function (r) { r.classList.remove('selected'); });
    const row = document.getElementById('step-' + step);
    if (row) { row.classList.add('selected'); row.scrollIntoView({ block: 'nearest' }); }
  }
  function pickConfig(row) {
    if (vscode) vscode.postMessage({ type: 'configuration', index: Number(row.getAttribute('data-config')) });
  }
  document.addEventListener('keydown', function (ev) {
    const row = ev.target instanceof Element ? ev.target.closest('tr.config-row') : null;
    if (row && (ev.key === 'Enter' || ev.key === ' ')) { ev.preventDefault(); pickConfig(row); }
  });
  document.addEventListener('click', function (ev) {
    const row = ev.target instanceof Element ? ev.target.closest('tr.config-row') : null;
    if (row && !(ev.target instanceof Element && ev.target.closest('summary, details > *:not(summary)'))) { pickConfig(row); return; }
    const el = ev.target instanceof Element ? ev.target.closest('[data-line]') : null;
    if (!el) return;
    if (el.tagName === 'A') ev.preventDefault();
    const line = Number(el.getAttribute('data-line'));
    const holder = el.closest('[data-step]');
    if (holder) select(holder.getAttribute('data-step'));
    if (vscode && Number.isFinite(line) && line > 0) vscode.postMessage({ type: 'reveal', line: line });
  });
})();
`;

/**
 * The complete HTML document of the simulation panel.
 * @param nonce  per-render random token that allows the page's own style and script under the CSP
 * @param cspSource  the webview's `cspSource` (allowed for styles only)
 */
export function renderSimulationHtml(result: SimulationResult, nonce: string, cspSource: string): string {
  const steps = Array.isArray(result?.steps) ? result.steps : [];
  const findings = Array.isArray(result?.findings) ? result.findings : [];
  const configs = Array.isArray(result?.configurations) ? result.configurations : [];
  const summary = Array.isArray(result?.summary) ? result.summary : [];
  const safeNonce = nonce.replace(/[^A-Za-z0-9+/=]/g, '');
  const exits = exitCount(steps);
  const narration = steps.filter((s) => s.simulated === false).length;
  const kind = result?.kind === 'c' ? 'C code' : 'written flow';

  const body: string[] = [];
  body.push(`<h1>${esc(result?.title || 'Simulation')} <span class="kind">(${esc(kind)})</span></h1>`);
  body.push(
    `<p class="muted">${steps.length} step${steps.length === 1 ? '' : 's'}, ${exits} VM exit${exits === 1 ? '' : 's'}, ` +
      `${narration} narration line${narration === 1 ? '' : 's'} not simulated, ${findings.length} finding${findings.length === 1 ? '' : 's'}` +
      `${configs.length ? `, ${configs.length} configuration${configs.length === 1 ? '' : 's'}` : ''}.</p>`,
  );
  if (summary.length) body.push(`<section id="summary"><h2>Summary</h2><ul class="summary">${summary.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></section>`);
  const faults = steps.filter((s) => faultOf(s, findings)).length;
  body.push(`<section id="timeline"><h2>Timeline${faults ? ` <span class="fault-icon">⚠ ${faults} fault${faults === 1 ? '' : 's'}</span>` : ''}</h2><div class="timeline-wrap">${renderTimeline(steps, findings)}</div></section>`);
  body.push(`<section id="findings"><h2>Findings</h2>${renderFindings(findings)}</section>`);
  if (configs.length) body.push(`<section id="sweep"><h2>Configuration sweep</h2>${renderConfigurations(configs, result?.shownConfiguration)}</section>`);
  body.push(`<section id="steps"><h2>Steps</h2>${renderSteps(steps, findings)}</section>`);
  body.push(`<section id="state"><h2>State after each step</h2>${renderStates(steps)}</section>`);

  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="UTF-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(safeNonce, cspSource))}">`,
    '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
    `<title>${esc(result?.title || 'KVM Lens simulation')}</title>`,
    `<style nonce="${safeNonce}">${STYLE}</style>`,
    '</head><body>',
    ...body,
    `<script nonce="${safeNonce}">${SCRIPT}</script>`,
    '</body></html>',
  ].join('\n');
}

/** A small page for errors and empty results, under the same policy. */
export function renderMessageHtml(title: string, message: string, nonce: string, cspSource: string): string {
  const safeNonce = nonce.replace(/[^A-Za-z0-9+/=]/g, '');
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="UTF-8">',
    `<meta http-equiv="Content-Security-Policy" content="${esc(contentSecurityPolicy(safeNonce, cspSource))}">`,
    `<style nonce="${safeNonce}">${STYLE}</style>`,
    `</head><body><h1>${esc(title)}</h1><p>${esc(message)}</p></body></html>`,
  ].join('\n');
}
