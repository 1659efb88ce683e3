// kvm-lens simulate FILE [--function NAME | --lines A-B] [--flow] [--json]
import { readSourceFile } from '../workspace/fsaccess';
import { analyzeText } from '../analysis/document';
import { initParser } from '../analysis/parser';
import { baseName, simulateTarget } from '../features/simulateRequest';
import { parseSimConfig, type VarValue } from '../features/simulate/predicates';
import { CliError, parseArgs, type CliIO } from './io';
import { renderSimulationText } from './simulateText';
import { terminalColumns } from './check';

const USAGE = 'usage: kvm-lens simulate FILE [--function NAME | --lines A-B] [--config ept=1,pae=0,...] [--flow] [--json | --markdown] [--verbose]';

export async function runSimulate(args: string[], io: CliIO): Promise<number> {
  const { flags, positional } = parseArgs(args, { bool: ['json', 'flow', 'c', 'markdown', 'verbose'], value: ['function', 'lines', 'config'] });
  if (positional.length !== 1) throw new CliError(USAGE);
  const file = positional[0];
  const text = readInput(file);
  let startLine: number | undefined;
  let endLine: number | undefined;
  const lines = flags.get('lines')?.[0];
  if (lines !== undefined) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(lines);
    if (!m) throw new CliError(`--lines takes A-B (1-based, inclusive), got '${lines}'`);
    startLine = Number(m[1]) - 1;
    endLine = Number(m[2] ?? m[1]) - 1;
    if (startLine < 0 || endLine < startLine) throw new CliError(`--lines ${lines}: empty or reversed range`);
    const count = text.split('\n').length;
    if (startLine >= count) throw new CliError(`--lines ${lines}: ${file} has ${count} lines`);
  }
  let config: Map<string, VarValue[]> | undefined;
  const configText = flags.get('config')?.[0];
  if (configText !== undefined) {
    try {
      config = parseSimConfig(configText);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
  }
  const fn = flags.get('function')?.[0];
  if (fn !== undefined && lines !== undefined) throw new CliError('--function and --lines are exclusive');
  await initParser();
  const doc = analyzeText(text, `file://${file}`);
  if (fn !== undefined && !doc.functions.some((f) => f.name === fn)) {
    const near = doc.functions.map((f) => f.name).filter((n) => n.includes(fn) || fn.includes(n)).slice(0, 5);
    throw new CliError(`no function '${fn}' in ${file}${near.length ? ` (did you mean ${near.join(', ')}?)` : ''}`);
  }
  const mode = flags.has('flow') ? 'flow' : flags.has('c') ? 'c' : undefined;
  const result = simulateTarget(doc, { mode, functionName: fn, startLine, endLine, isFlowDocument: /\.kvmflow$/i.test(file), config, name: baseName(file) });
  if (flags.has('json')) {
    const { markdown: _markdown, ...rest } = result;
    io.out(JSON.stringify(rest, null, 2));
  } else if (flags.has('markdown')) io.out(result.markdown);
  else io.out(renderSimulationText(result, { verbose: flags.has('verbose'), columns: terminalColumns() }));
  return result.findings.some((f) => f.severity === 'error' || f.severity === 'warning') ? 1 : 0;
}

function readInput(file: string): string {
  const r = readSourceFile(file);
  if (r.ok) return r.text;
  switch (r.kind) {
    case 'directory': throw new CliError(`'${file}' is a directory; simulate takes one file`);
    case 'too-large': throw new CliError(`'${file}' is ${r.reason}; not simulated`);
    case 'binary': throw new CliError(`'${file}' is a binary file (contains NUL bytes); not simulated`);
    case 'not-regular': throw new CliError(`'${file}' is ${r.reason}; not simulated`);
    default: throw new CliError(`cannot read '${file}': ${r.reason}`);
  }
}
