// `kvm-lens audit nested [TREE] [--format text|json|markdown] [--vendor vmx|svm]` — the manual's VM-entry/VMRUN
// consistency checks against KVM's nested checks, and vmcs12/vmcb12 field coverage. TREE is a kernel tree (or its
// arch/x86/kvm directory, or a path inside it); default: the current directory.
import { initParser } from '../analysis/parser';
import { auditMarkdown, auditText } from '../features/auditReport';
import { auditTreeOnDisk } from '../workspace/auditTree';
import { CliError, parseArgs, type CliIO } from './io';

const USAGE = 'usage: kvm-lens audit nested [TREE] [--format text|json|markdown] [--vendor vmx|svm]';

export async function runAudit(args: string[], io: CliIO): Promise<number> {
  const [what, ...rest] = args;
  if (what !== 'nested') throw new CliError(what ? `unknown audit '${what}'\n${USAGE}` : USAGE);
  const { flags, positional } = parseArgs(rest, { value: ['format', 'vendor'] });
  const format = flags.get('format')?.[0] ?? 'text';
  if (!['text', 'json', 'markdown'].includes(format)) throw new CliError(`unknown format '${format}'\n${USAGE}`);
  const vendor = flags.get('vendor')?.[0];
  if (vendor && vendor !== 'vmx' && vendor !== 'svm') throw new CliError(`unknown vendor '${vendor}'\n${USAGE}`);
  if (positional.length > 1) throw new CliError(USAGE);
  await initParser();
  const tree = positional[0] ?? '.';
  const out = auditTreeOnDisk(tree, vendor ? [vendor as 'vmx' | 'svm'] : ['vmx', 'svm']);
  if (!out.ok) throw new CliError(out.error);
  io.out(format === 'json' ? JSON.stringify(out.report, null, 1) : format === 'markdown' ? auditMarkdown(out.report) : auditText(out.report));
  return 0;
}
