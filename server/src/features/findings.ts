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

/** What a rule may know beyond its document. Everything is optional: a rule must work on a lone document. */
export interface RuleContext {
  /**
   * Other files of the same run (CLI: every file being checked, with the PATHs given; empty in the editor), for
   * facts that live in another file — e.g. an array initializer in a header. Workspace-wide call facts come from
   * analysis/workspace.ts workspaceFacts().
   */
  files?: ReadonlyArray<{ path: string; text: string }>;
}

export interface Rule {
  id: string;
  defaultSeverity: Severity;
  /** One-line description for docs and `--rule` help. */
  description: string;
  run(doc: DocumentAnalysis, ctx?: RuleContext): Finding[];
}

export type RuleSettings = Record<string, Severity | 'off' | undefined>;
