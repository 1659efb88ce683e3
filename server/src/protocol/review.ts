// Wire types of the kvmLens/review request: the client sends the files a change touches (old text from `git show
// HEAD:path`, new text from the editor or the disk); the server answers with the findings introduced, fixed and still
// present in the functions the change touches — the same comparison as `kvm-lens review` (features/review/compare.ts).
import type { ReviewFinding } from '../features/review/compare';

export const REVIEW_REQUEST = 'kvmLens/review';

export interface ReviewRequestFile {
  /** Path relative to `root`, `/`-separated. */
  path: string;
  /** Text before the change (null: the change adds the file). */
  before: string | null;
  /** Text after the change; omitted: the server reads `root/path` from disk (null: the change deletes the file). */
  after?: string | null;
}

export interface ReviewParams {
  /** Absolute directory the paths are relative to (the repository's top level). */
  root: string;
  files: ReviewRequestFile[];
}

export interface ReviewReply {
  introduced: ReviewFinding[];
  fixed: ReviewFinding[];
  present: ReviewFinding[];
  touched: Array<{ file: string; functions: string[] }>;
  /** Files not reviewed and why (not C, unreadable, too many). */
  skipped: string[];
}
