// The kvmflow TextMate grammar, tokenized by the same engine the editor uses (vscode-textmate + vscode-oniguruma as
// shipped inside code-server's VS Code), over every example flow and a few targeted lines.
//
// usage: node test/e2e/grammar.test.mjs
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { CODE_SERVER_ROOT, Checks, REPO, assert } from './lib/harness.mjs';

const checks = new Checks('grammar');
const vscodeModules = path.join(CODE_SERVER_ROOT, 'lib/vscode/node_modules');
const req = createRequire(path.join(vscodeModules, 'noop.js'));
const textmate = req('vscode-textmate');
const oniguruma = req('vscode-oniguruma');

await oniguruma.loadWASM(fs.readFileSync(path.join(vscodeModules, 'vscode-oniguruma/release/onig.wasm')).buffer);
const grammarPath = path.join(REPO, 'syntaxes/kvmflow.tmLanguage.json');
const registry = new textmate.Registry({
  onigLib: Promise.resolve({ createOnigScanner: (p) => new oniguruma.OnigScanner(p), createOnigString: (s) => new oniguruma.OnigString(s) }),
  loadGrammar: async (scope) => (scope === 'source.kvmflow' ? textmate.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath) : null),
});
const grammar = await registry.loadGrammar('source.kvmflow');

/** Tokens of one line as [text, innermost scope, all scopes]. */
function tokenize(line) {
  const r = grammar.tokenizeLine(line, textmate.INITIAL);
  return r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scope: t.scopes.at(-1), scopes: t.scopes }));
}
function scopeOf(line, text) {
  const t = tokenize(line).find((x) => x.text === text);
  assert(t, `no token "${text}" in ${JSON.stringify(line)}: ${JSON.stringify(tokenize(line).map((x) => x.text))}`);
  return t.scopes.join(' ');
}

await checks.check('manifest points at the grammar and the language configuration', async () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(REPO, 'package.json'), 'utf8'));
  const g = pkg.contributes.grammars.find((x) => x.language === 'kvmflow');
  const l = pkg.contributes.languages.find((x) => x.id === 'kvmflow');
  assert(g && fs.existsSync(path.join(REPO, g.path)) && g.scopeName === 'source.kvmflow', 'grammar contribution');
  assert(l && fs.existsSync(path.join(REPO, l.configuration)) && l.extensions.includes('.kvmflow'), 'language contribution');
  const conf = JSON.parse(fs.readFileSync(path.join(REPO, l.configuration), 'utf8'));
  assert(conf.comments?.lineComment && conf.brackets?.length, 'comments and brackets');
});

const cases = [
  ['actor', '(G) WRMSR(IA32_XFD) which enables AMX', 'G', /entity\.name\.tag\.actor/],
  ['host-kernel actor', '(HK) Reallocate fpstate', 'HK', /entity\.name\.tag\.actor/],
  ['host-user actor', '(HU) do nothing', 'HU', /entity\.name\.tag\.actor/],
  ['nested actor', '(L2) CPUID', 'L2', /entity\.name\.tag\.actor/],
  ['instruction', '(G) WRMSR(IA32_XFD) which enables AMX', 'WRMSR', /keyword\.other\.instruction/],
  ['MSR name (IA32_)', '(G) WRMSR(IA32_XFD) which enables AMX', 'IA32_XFD', /support\.constant\.msr/],
  ['MSR name (MSR_)', '(G) RDMSR(MSR_IA32_TSC_DEADLINE)', 'MSR_IA32_TSC_DEADLINE', /support\.constant\.msr/],
  ['VMCS field', '(L1) VMREAD GUEST_PDPTR0', 'GUEST_PDPTR0', /variable\.other\.constant\.field/],
  ['host-state field', '(HK) VMWRITE HOST_IDTR_BASE 0xfffffe0000000000', 'HOST_IDTR_BASE', /variable\.other\.constant\.field/],
  ['number', '(HK) VMWRITE HOST_IDTR_BASE 0xfffffe0000000000', '0xfffffe0000000000', /constant\.numeric/],
  ['int_ctl bit', '(HK) read vmcb->control.int_ctl & V_GIF_MASK', 'V_GIF_MASK', /int-ctl/],
  ['trap transition', '--trap to host--', 'trap to host', /keyword\.control\.transition/],
  ['entry transition', '--enter guest--', 'enter guest', /keyword\.control\.transition/],
  ['userspace transition', '--back to kernel via kvm_run--', 'back to kernel via kvm_run', /keyword\.control\.transition/],
  ['# comment', '# the host copy is stale', ' the host copy is stale', /comment\.line\.number-sign/],
  ['// comment after a step', '(L1) VMWRITE VM_EXIT_REASON 0    // read-only field', ' read-only field', /comment\.line\.double-slash/],
  ['config header key', '# config: vendor=vmx ept=on paging=pae', 'ept', /variable\.parameter\.config/],
  ['config header value', '# config: vendor=vmx ept=on paging=pae', 'pae', /constant\.language\.config/],
];
await checks.check(`scopes of actors, instructions, MSR/VMCS/int_ctl names, numbers, transitions, comments, config (${cases.length} cases)`, async () => {
  const wrong = [];
  for (const [name, line, text, re] of cases) {
    try {
      const scopes = scopeOf(line, text);
      if (!re.test(scopes)) wrong.push(`${name}: ${text} → ${scopes}`);
    } catch (e) {
      wrong.push(`${name}: ${e.message}`);
    }
  }
  assert(wrong.length === 0, wrong.join('; '));
  return `${cases.length} tokens scoped as expected`;
});

await checks.check('every line of examples/flows/*.kvmflow tokenizes; actors and transitions are recognised', async () => {
  const dir = path.join(REPO, 'examples/flows');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.kvmflow'));
  assert(files.length >= 3, `${files.length} example flows`);
  let lines = 0;
  for (const f of files) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line.trim()) continue;
      lines++;
      const scopes = tokenize(line).flatMap((t) => t.scopes).join(' ');
      if (/^\s*\((G|L1|L2|HK|HU)\)/.test(line)) assert(/entity\.name\.tag\.actor/.test(scopes), `${f}: actor not recognised in ${line}`);
      if (/^\s*--.*--\s*$/.test(line)) assert(/keyword\.control\.transition/.test(scopes), `${f}: transition not recognised in ${line}`);
      if (/^\s*#/.test(line)) assert(/comment\.line|keyword\.other\.config/.test(scopes), `${f}: comment not recognised in ${line}`);
    }
  }
  return `${files.length} files, ${lines} lines`;
});

process.exit(checks.finish());
