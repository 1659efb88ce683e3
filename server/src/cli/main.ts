// kvm-lens CLI. Exit codes: 0 ok / no findings, 1 findings at warning or above, 2 usage or input error.
import { runExplain, runFields } from './explain';
import { CliError, type CliIO, defaultIO } from './io';

const USAGE = `kvm-lens — VMCS/VMCB field knowledge, checks and simulation for Linux KVM code

Usage:
  kvm-lens explain NAME [--json]            the hover card of a field, mask, MSR, exit reason or instruction
  kvm-lens fields [--json]                  the whole field table (VMCS and VMCB)
  kvm-lens check PATH... [--format text|json|sarif] [--rule ID]... [--diff FILE|-] [--verbose]
  kvm-lens review PATCH|- [--tree DIR] [--format text|json|sarif] [--rule ID]... [--fuzz N] [--partial]
                                            what a patch (diff, mbox, LKML mail) introduces and fixes
  kvm-lens simulate FILE [--function NAME | --lines A-B] [--flow] [--json | --markdown] [--verbose]
  kvm-lens stats PATH [--json]              analyse every file under PATH (like analysis-stats)
  kvm-lens audit nested [TREE] [--format text|json|markdown] [--vendor vmx|svm]
                                            VM-entry/VMRUN checks vs the manuals, vmcs12/vmcb12 field coverage
  kvm-lens --version | --help

Exit codes: 0 nothing found, 1 a finding at warning or above (review: introduced), 2 usage or input error.`;

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'explain': return runExplain(rest, io);
      case 'fields': return runFields(rest, io);
      case 'check': return await (await import('./check')).runCheck(rest, io);
      case 'review': return await (await import('./review')).runReview(rest, io);
      case 'simulate': return await (await import('./simulate')).runSimulate(rest, io);
      case 'stats': return await (await import('./stats')).runStats(rest, io);
      case 'audit': return await (await import('./audit')).runAudit(rest, io);
      case '--version': case '-V': io.out('kvm-lens 0.1.0'); return 0;
      case undefined: case '--help': case '-h': case 'help': io.out(USAGE); return cmd === undefined ? 2 : 0;
      default: throw new CliError(`unknown command '${cmd}'\n\n${USAGE}`);
    }
  } catch (e) {
    if (e instanceof CliError) {
      io.err(`kvm-lens: ${e.message}`);
      return e.exitCode;
    }
    io.err(`kvm-lens: internal error: ${e instanceof Error ? e.message : String(e)}`);
    return 2;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
}
