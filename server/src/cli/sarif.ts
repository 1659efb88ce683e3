// SARIF 2.1.0 output for `kvm-lens check --format sarif` and `kvm-lens review --format sarif` (OASIS SARIF v2.1.0:
// sarifLog → runs[0].tool.driver with reportingDescriptor rules, results with ruleId/ruleIndex/level/message/
// locations). Locations are repository-relative URIs against the `SRCROOT` base (§3.4.4 uriBaseId, §3.14.14
// originalUriBaseIds), so code scanning maps them onto its checkout; each result carries a partial fingerprint
// (§3.27.17) computed from what the finding is about — rule, file, function, the flagged line's text — never from its
// line number, so a finding keeps its identity when code above it moves.
import { createHash } from 'node:crypto';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Rule, Severity } from '../features/findings';
import type { ReviewFinding } from '../features/review/compare';
import type { ReviewReport } from './review';

export const VERSION = '0.1.0';

export interface CheckResult {
  file: string;
  line: number;
  column: number;
  endLine: number;
  endColumn: number;
  severity: Severity;
  rule: string;
  message: string;
  source: string;
  related?: Array<{ file: string; line: number; column: number; endLine: number; endColumn: number; message: string }>;
  /** Enclosing function and the flagged line's text: what the fingerprint is made of. */
  function?: string;
  lineText?: string;
  /** SARIF baselineState (review): new / absent / unchanged. */
  baseline?: 'new' | 'absent' | 'unchanged';
}

/** Where file paths are relative to: the tree (review) or the repository / working directory (check). */
export interface SarifRoot {
  /** Absolute directory the `SRCROOT` base stands for. */
  root: string;
  /** Directory relative `file` values are relative to (default: root). */
  cwd?: string;
}

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

function uri(file: string): string {
  return file.split('\\').join('/').split('/').map(encodeURIComponent).join('/').replace(/^%2F/, '/');
}

/** Artifact location: relative to SRCROOT when the file is under it, else an absolute file: URI. */
function artifact(file: string, root: SarifRoot | undefined): Record<string, string> {
  if (!root) return { uri: uri(file) };
  const abs = isAbsolute(file) ? file : resolve(root.cwd ?? root.root, file);
  const rel = relative(root.root, abs);
  if (!rel || rel.startsWith('..') || isAbsolute(rel)) return { uri: pathToFileURL(abs).href };
  return { uri: uri(rel.split(sep).join('/')), uriBaseId: 'SRCROOT' };
}

/** Fingerprint: rule, file, function and the flagged line's text (whitespace-insensitive) + which repeat it is. */
function fingerprints(results: readonly CheckResult[], root: SarifRoot | undefined): string[] {
  const seen = new Map<string, number>();
  return results.map((r) => {
    const text = (r.lineText ?? '').replace(/\s+/g, ' ').trim();
    const key = [r.rule, artifact(r.file, root).uri, r.function ?? '', text, r.baseline === 'absent' ? 'before' : ''].join('\u0000');
    const n = seen.get(key) ?? 0;
    seen.set(key, n + 1);
    return `${createHash('sha256').update(key).digest('hex').slice(0, 32)}:${n + 1}`;
  });
}

export function toSarif(results: readonly CheckResult[], rules: readonly Rule[], docBase: string, version: string, root?: SarifRoot, runProperties?: Record<string, unknown>): Record<string, unknown> {
  const index = new Map(rules.map((r, i) => [r.id, i]));
  const prints = fingerprints(results, root);
  return {
    $schema: SARIF_SCHEMA,
    version: '2.1.0',
    runs: [{
      tool: {
        driver: {
          name: 'kvm-lens',
          version,
          informationUri: docBase.replace(/#.*$/, ''),
          rules: rules.map((r) => ({
            id: r.id,
            name: r.id.replace(/(^|-)([a-z])/g, (_m, _d: string, c: string) => c.toUpperCase()),
            shortDescription: { text: r.description },
            helpUri: `${docBase}${r.id}`,
            defaultConfiguration: { level: level(r.defaultSeverity) },
          })),
        },
      },
      ...(root ? { originalUriBaseIds: { SRCROOT: { uri: pathToFileURL(root.root.endsWith(sep) ? root.root : root.root + sep).href } } } : {}),
      columnKind: 'utf16CodeUnits',
      ...(runProperties ? { properties: runProperties } : {}),
      results: results.map((r, n) => ({
        ruleId: r.rule,
        ...(index.has(r.rule) ? { ruleIndex: index.get(r.rule) } : {}),
        level: level(r.severity),
        message: { text: r.message },
        locations: [{
          physicalLocation: {
            artifactLocation: artifact(r.file, root),
            region: { startLine: r.line, startColumn: r.column, endLine: r.endLine, endColumn: r.endColumn },
          },
        }],
        ...(r.related?.length ? {
          relatedLocations: r.related.map((x, i) => ({
            id: i,
            message: { text: x.message },
            physicalLocation: {
              artifactLocation: artifact(x.file, root),
              region: { startLine: x.line, startColumn: x.column, endLine: x.endLine, endColumn: x.endColumn },
            },
          })),
        } : {}),
        partialFingerprints: { 'kvmLens/v1': prints[n] },
        ...(r.baseline ? { baselineState: r.baseline } : {}),
        properties: { source: r.source, ...(r.function ? { function: r.function } : {}) },
      })),
    }],
  };
}

function reviewResult(f: ReviewFinding): CheckResult {
  return {
    file: f.file, line: f.line, column: f.column, endLine: f.endLine, endColumn: f.endColumn, severity: f.severity, rule: f.rule,
    message: f.message, source: f.source, function: f.function, lineText: f.lineText,
    baseline: f.status === 'introduced' ? 'new' : f.status === 'fixed' ? 'absent' : 'unchanged',
    ...(f.related ? { related: f.related.map((x) => ({ file: f.file, ...x })) } : {}),
  };
}

/** SARIF of a review: introduced (baselineState new), fixed (absent) and still present (unchanged) findings. */
export function reviewSarif(r: ReviewReport, rules: readonly Rule[], docBase: string): Record<string, unknown> {
  const all = [...r.introduced, ...r.fixed, ...r.present].map(reviewResult);
  return toSarif(all, rules, docBase, VERSION, { root: r.tree }, {
    lines: 'new and unchanged results: lines of the tree with the patch applied; absent results: lines of the tree as given',
    patches: r.patches,
  });
}
