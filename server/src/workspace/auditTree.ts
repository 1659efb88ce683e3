// Runs the nested audit over a kernel tree on disk (CLI and the kvmLens/nestedAudit request). Files are read through
// the file-access layer; missing files are simply absent, unreadable ones are reported.
import { existsSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { runNestedAudit, type AuditReport } from '../features/nestedAudit';
import { readSourceFile } from './fsaccess';
import type { SourceFile } from '../analysis/nestedChecks';

/** arch/x86/kvm of a tree given as the kernel root, arch/x86, arch/x86/kvm itself, or any path inside it. */
export function kvmDir(tree: string): string | undefined {
  let cur = resolve(tree);
  for (let i = 0; i < 12; i++) {
    for (const d of [join(cur, 'arch/x86/kvm'), join(cur, 'kvm'), cur]) {
      if (existsSync(join(d, 'vmx/nested.c')) || existsSync(join(d, 'svm/nested.c')) || existsSync(join(d, 'svm.c'))) return d;
    }
    const up = dirname(cur);
    if (up === cur) break;
    cur = up;
  }
  return undefined;
}

export type AuditOutcome = { ok: true; report: AuditReport; dir: string } | { ok: false; error: string };

export function auditTreeOnDisk(tree: string, vendors: Array<'vmx' | 'svm'> = ['vmx', 'svm'], label = tree): AuditOutcome {
  let st;
  try { st = statSync(tree); } catch { return { ok: false, error: `not a directory: ${tree}` }; }
  if (!st.isDirectory()) return { ok: false, error: `not a directory: ${tree}` };
  const dir = kvmDir(tree);
  if (!dir) return { ok: false, error: `no KVM sources under ${tree} (looked for arch/x86/kvm/vmx/nested.c, svm/nested.c, svm.c)` };
  const skipped: string[] = [];
  const read = (rel: string): string | undefined => {
    const r = readSourceFile(join(dir, rel));
    if (r.ok) return r.text;
    if (r.kind !== 'missing') skipped.push(`${rel}: ${r.reason}`);
    return undefined;
  };
  const report = runNestedAudit(label, read, vendors);
  report.errors.push(...skipped.map((s) => `skipped ${s}`));
  if (!report.vmx && !report.svm) return { ok: false, error: `nothing to audit: ${report.errors.join('; ')}` };
  return { ok: true, report, dir };
}

/** The kvmLens/nestedAudit request: validate, resolve the tree from a file/dir URI or path, audit it. */
export async function nestedAuditRequest(p: unknown, init: () => Promise<unknown>, markdown: (r: AuditReport) => string):
  Promise<{ ok: true; report: AuditReport; dir: string; markdown: string } | { ok: false; error: string }> {
  const params = p as { path?: unknown; vendor?: unknown } | null;
  if (!params || typeof params.path !== 'string' || !params.path) return { ok: false, error: 'kvmLens/nestedAudit needs { path }' };
  let path = params.path;
  if (path.startsWith('file://')) {
    try { path = decodeURIComponent(new URL(path).pathname); } catch { return { ok: false, error: `bad URI: ${params.path}` }; }
  }
  const vendors: Array<'vmx' | 'svm'> = params.vendor === 'vmx' || params.vendor === 'svm' ? [params.vendor] : ['vmx', 'svm'];
  let dir = path;
  try { if (!statSync(path).isDirectory()) dir = dirname(path); } catch { return { ok: false, error: `no such file or directory: ${path}` }; }
  const kvm = kvmDir(dir);
  if (!kvm) return { ok: false, error: `no KVM sources (arch/x86/kvm/vmx/nested.c, svm/nested.c) at or above ${dir}` };
  await init();
  const out = auditTreeOnDisk(kvm, vendors, kvm);
  return out.ok ? { ...out, markdown: markdown(out.report) } : out;
}

const HELPER_HEADERS: Record<'vmx' | 'svm', string[]> = { vmx: ['nested.h', 'vmx.h', 'capabilities.h', 'vmcs12.h'], svm: ['svm.h'] };

/** The helper headers next to an open nested.c (vmx/nested.h, ..., svm/svm.h), for expanding nested_cpu_has*() etc. */
export function helperHeadersFor(uri: string): SourceFile[] {
  let path = uri;
  if (path.startsWith('file://')) {
    try { path = decodeURIComponent(new URL(path).pathname); } catch { return []; }
  }
  const dir = dirname(path);
  const vendor = /(^|\/)svm(\/|$)/.test(dir) ? 'svm' : /(^|\/)vmx(\/|$)/.test(dir) ? 'vmx' : undefined;
  if (!vendor) return [];
  const out: SourceFile[] = [];
  for (const name of HELPER_HEADERS[vendor]) {
    const r = readSourceFile(join(dir, name));
    if (r.ok) out.push({ path: join(dir, name), text: r.text });
  }
  return out;
}
