// Wire types of the kvmLens/nestedAudit request (client → server): audit the kernel tree holding `path`.
import type { AuditReport } from '../features/nestedAudit';

export const NESTED_AUDIT_REQUEST = 'kvmLens/nestedAudit';

export interface NestedAuditParams {
  /** A file or directory inside the kernel tree (file URI or path). */
  path: string;
  vendor?: 'vmx' | 'svm';
}

export type NestedAuditResult = { ok: true; report: AuditReport; dir: string; markdown: string } | { ok: false; error: string };
