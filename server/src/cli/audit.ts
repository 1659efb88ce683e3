// `kvm-lens audit nested [TREE] [--format text|json|markdown] [--vendor vmx|svm]` — the manual's VM-entry/VMRUN
// consistency checks against KVM's nested checks, and vmcs12/vmcb12 field coverage. TREE is a kernel tree (or its
// arch/x86/kvm directory); default: the current directory.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { initParser } from '../analysis/parser';
import { auditMarkdown, auditText } from '../features/auditReport';
import { runNestedAudit } from '../features/nestedAudit';
import { readSourceFile } from '../workspace/fsaccess';
import { CliError, parseArgs, type CliIO } from './io';

const USAGE = 'usage: kvm-lens audit nested [TREE] [--format text|json|markdown] [--vendor vmx|svm]';

/** arch/x86/kvm of a tree given as the kernel root, arch/x86, or arch/x86/kvm itself. */
export function kvmDir(tree: string): string | undefined {
  for (const d of [join(tree, 'arch/x86/kvm'), join(tree, 'kvm'), tree]) {
    if (existsSync(join(d, 'vmx/nested.c')) || existsSync(join(d, 'svm/nested.c')) || existsSync(join(d, 'svm.c'))) return d;
  }
  return undefined;
}

export async function runAudit(args: string[], io: CliIO): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'nested') throw new CliError(what ? `unknown audit '${what}'\n${USAGE}` : USAGE);
  const { flags, positional } = parseArgs(rest, { value: ['format', 'vendor'] });
  const format = flags.get('format')?.[0] ?? 'text';
  if (!['text', 'json', 'markdown'].includes(format)) throw new CliError(`unknown format '${format}'\n${USAGE}`);
  const vendor = flags.get('vendor')?.[0];
  if (vendor && vendor !== 'vmx' && vendor !== 'svm') throw new CliError(`unknown vendor '${vendor}'\n${USAGE}`);
  if (positional.length > 1) throw new CliError(USAGE);
  const tree = resolve(positional[0] ?? '.');
  if (!existsSync(tree) || !statSync(tree).isDirectory()) throw new CliError(`not a directory: ${tree}`);
  const dir = kvmDir(tree);
  if (!dir) throw new CliError(`no KVM sources under ${tree} (looked for arch/x86/kvm/vmx/nested.c, svm/nested.c, svm.c)`);
  await initParser();
  const skipped: string[] = [];
  const read = (rel: string): string | undefined => {
    const r = readSourceFile(join(dir, rel));
    if (r.ok) return r.text;
    if (r.kind !== 'missing') skipped.push(`${rel}: ${r.reason}`);
    return undefined;
  };
  const report = runNestedAudit(positional[0] ?? '.', read, vendor ? [vendor as 'vmx' | 'svm'] : ['vmx', 'svm']);
  report.errors.push(...skipped.map((s) => `skipped ${s}`));
  if (!report.vmx && !report.svm) throw new CliError(`nothing to audit: ${report.errors.join('; ')}`);
  io.out(format === 'json' ? JSON.stringify(report, null, 1) : format === 'markdown' ? auditMarkdown(report) : auditText(report));
  return 0;
}
