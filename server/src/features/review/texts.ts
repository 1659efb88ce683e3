// Review of a change given as old and new texts (the editor's "Review working changes"): no patch to apply, the
// changed lines come from a line diff of the two texts. Plain data in, plain data out.
import { reviewChange, type ReviewFileInput, type ReviewResult } from './compare';
import { diffLines } from './linediff';
import type { RuleSettings } from '../findings';

export interface TextChange { path: string; before: string | null; after: string | null }

export function reviewTexts(changes: readonly TextChange[], context: ReadonlyArray<{ path: string; text: string }>, settings?: RuleSettings): ReviewResult {
  const files: ReviewFileInput[] = [];
  for (const c of changes) {
    if (c.before === c.after) continue;
    const d = diffLines(c.before ?? '', c.after ?? '');
    files.push({ path: c.path, before: c.before, after: c.after, removed: c.before === null ? [] : d.removed, added: c.after === null ? [] : d.added });
  }
  return reviewChange({ files, context, settings });
}
