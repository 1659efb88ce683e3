// SARIF 2.1.0 output for `kvm-lens check --format sarif` (OASIS SARIF v2.1.0: sarifLog → runs[0].tool.driver with
// reportingDescriptor rules, results with ruleId/ruleIndex/level/message/locations).
import type { Rule, Severity } from '../features/findings';

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
}

export const SARIF_SCHEMA = 'https://json.schemastore.org/sarif-2.1.0.json';

function level(s: Severity): 'error' | 'warning' | 'note' {
  return s === 'error' ? 'error' : s === 'warning' ? 'warning' : 'note';
}

function uri(file: string): string {
  return file.split('\\').join('/').split('/').map(encodeURIComponent).join('/').replace(/^%2F/, '/');
}

export function toSarif(results: readonly CheckResult[], rules: readonly Rule[], docBase: string, version: string): Record<string, unknown> {
  const index = new Map(rules.map((r, i) => [r.id, i]));
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
      columnKind: 'utf16CodeUnits',
      results: results.map((r) => ({
        ruleId: r.rule,
        ...(index.has(r.rule) ? { ruleIndex: index.get(r.rule) } : {}),
        level: level(r.severity),
        message: { text: r.message },
        locations: [{
          physicalLocation: {
            artifactLocation: { uri: uri(r.file) },
            region: { startLine: r.line, startColumn: r.column, endLine: r.endLine, endColumn: r.endColumn },
          },
        }],
        ...(r.related?.length ? {
          relatedLocations: r.related.map((x, i) => ({
            id: i,
            message: { text: x.message },
            physicalLocation: {
              artifactLocation: { uri: uri(x.file) },
              region: { startLine: x.line, startColumn: x.column, endLine: x.endLine, endColumn: x.endColumn },
            },
          })),
        } : {}),
        properties: { source: r.source },
      })),
    }],
  };
}
