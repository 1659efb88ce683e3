// The data a rule produces. Rules are functions (document facts, model) → Finding[]; the LSP glue and the CLI convert.
import type { DocumentAnalysis } from '../analysis/document';

export type Severity = 'error' | 'warning' | 'info' | 'hint';

export interface TextEdit { start: number; end: number; newText: string }

export interface Finding {
  rule: string;
  severity: Severity;
  /** UTF-16 offsets in the document. */
  start: number;
  end: number;
  /** The message states the rule, the reason and the manual section. */
  message: string;
  /** Manual section or public code the rule rests on. */
  source: string;
  /** E.g. the missing guard, or the VMSAVE that covers the state. Offsets in the same document. */
  related?: Array<{ start: number; end: number; message: string }>;
  fix?: { title: string; edits: TextEdit[] };
}

export interface Rule {
  id: string;
  defaultSeverity: Severity;
  /** One-line description for docs and `--rule` help. */
  description: string;
  run(doc: DocumentAnalysis): Finding[];
}

export type RuleSettings = Record<string, Severity | 'off' | undefined>;
