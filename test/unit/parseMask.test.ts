// analysis/parseMask.ts: the kernel constructs the parser reads as blanks, and incremental re-parses that stay equal
// to a fresh parse when an edit changes what is masked without touching the masked line.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { initParser, parseC } from '../../server/src/analysis/parser';
import { LineIndex } from '../../server/src/analysis/document';
import { DocumentStore } from '../../server/src/analysis/store';
import { parseMask, applyMask, maskToggles, updateMask } from '../../server/src/analysis/parseMask';
import { rng } from '../../bench/synth.mjs';

before(async () => { await initParser(); });

// KVM-style C written for this test: an #ifdef inside an expression, attribute macros, a helper-generating macro line.
const SRC = `#include <linux/kvm_host.h>
#ifdef CONFIG_X86_64
#define HOST_SIZE 1
#endif

BUILD_CTLS_HELPER(read)
BUILD_CTLS_HELPER(write)

static noinstr void setup_exit_ctls(struct nested_msrs *msrs, u32 ctrl)
{
	msrs->exit_ctls_high = ctrl;
	msrs->exit_ctls_high &=
#ifdef CONFIG_X86_64
		VM_EXIT_HOST_ADDR_SPACE_SIZE |
#endif
		VM_EXIT_LOAD_IA32_PAT | VM_EXIT_SAVE_IA32_PAT;
#ifdef CONFIG_X86_64
	msrs->exit_ctls_low = 0;
#endif
}

static __init int hardware_setup(void __user *arg)
{
	return 0;
}
`;

function masked(text: string): string[] {
  const m = parseMask(text);
  const out: string[] = [];
  for (let i = 0; i < m.length; i += 2) out.push(text.slice(m[i], m[i + 1]));
  return out;
}

test('masks directives inside expressions, attribute macros and definition-generating macro lines only', () => {
  assert.deepEqual(masked(SRC), [
    'BUILD_CTLS_HELPER(read)', 'BUILD_CTLS_HELPER(write)', 'noinstr', '#ifdef CONFIG_X86_64', '#endif', '__init', '__user',
  ]);
  // Statement-level and top-level directives stay; so does a macro line that heads a definition.
  assert.deepEqual(masked('DEFINE_HANDLER(foo)\n{\n\treturn;\n}\n'), []);
  assert.deepEqual(masked('int f(void)\n{\n\tint x = 1;\n#ifdef A\n\tx++;\n#endif\n\treturn x; /* a, */\n}\n'), []);
  assert.deepEqual(masked('u32 v = a |\n\t/* comment */\n#if B\n\tb |\n#else\n\tc |\n#endif\n\td;\n'), ['#if B', '#else', '#endif']);
});

test('the masked parse has no ERROR where the grammar failed, and Node.text is the real text', () => {
  const plain = parseC(SRC, undefined, []);
  const tree = parseC(SRC);
  assert.ok(plain.rootNode.hasError, 'without the mask the fixture does not parse');
  assert.equal(tree.rootNode.hasError, false);
  const fns = tree.rootNode.descendantsOfType('function_definition');
  assert.equal(fns.length, 2);
  assert.match(fns[0]!.text, /^static noinstr void setup_exit_ctls/);
  assert.ok(fns[0]!.text.includes('#ifdef CONFIG_X86_64\n\t\tVM_EXIT_HOST_ADDR_SPACE_SIZE |'));
  // The guarded term is part of the expression.
  assert.ok(tree.rootNode.descendantsOfType('identifier').some((n) => n?.text === 'VM_EXIT_HOST_ADDR_SPACE_SIZE'));
  plain.delete();
  tree.delete();
});

test('applyMask blanks exactly the masked characters of a chunk', () => {
  const mask = [2, 4, 6, 9];
  assert.equal(applyMask('abcdefghij', 0, mask), 'ab  ef   j');
  assert.equal(applyMask('defgh', 3, mask), ' ef  ');
  assert.equal(applyMask('j', 9, mask), 'j');
});

test('an edit that changes masking elsewhere re-parses the masked line (incremental tree = fresh tree)', () => {
  const store = new DocumentStore();
  const uri = 'file:///kvm/vmx/nested.c';
  let text = SRC;
  store.open(uri, 'c', 1, text);
  // Remove and restore the `&=` / `|` that put the directives inside an expression, and add/remove attributes.
  const edits: Array<[string, string]> = [
    ['exit_ctls_high &=\n', 'exit_ctls_high;\n'], ['exit_ctls_high;\n', 'exit_ctls_high &=\n'],
    ['SIZE |\n#endif', 'SIZE\n#endif'], ['SIZE\n#endif', 'SIZE |\n#endif'],
    ['= ctrl;', '= ctrl |'], ['= ctrl |', '= ctrl;'],
    ['static __init int', 'static int'], ['static int hardware', 'static __init int hardware'],
  ];
  let v = 1;
  const toggles: number[] = [];
  for (const [from, to] of edits) {
    const a = text.indexOf(from);
    assert.ok(a >= 0, from);
    const before = parseMask(text);
    const lines = new LineIndex(text);
    store.change(uri, ++v, [{ range: { start: lines.positionAt(a), end: lines.positionAt(a + from.length) }, text: to }]);
    text = text.slice(0, a) + to + text.slice(a + from.length);
    toggles.push(maskToggles(before, parseMask(text), { start: a, oldEnd: a + from.length, newEnd: a + to.length }).length);
    const doc = store.analysis(uri)!;
    const fresh = parseC(text);
    assert.equal(doc.tree.rootNode.toString(), fresh.rootNode.toString(), `after ${JSON.stringify(from)} -> ${JSON.stringify(to)}`);
    fresh.delete();
  }
  assert.ok(toggles.some((n) => n > 0), 'some edit changed the masking of a line it did not touch');
});

test('updateMask after an edit equals parseMask of the new text', () => {
  const r = rng(5);
  const snippets = ['|', ',', ';', '\n', '\n#ifdef CONFIG_X86_64\n', '\n#endif\n', ' __init ', 'x', '/*', '*/', '\\\n',
    '\nBUILD_HELPER(read)\n', '{', '\n\n', '(', ')', 'noinstr ', '// c\n', ''];
  let text = SRC + SRC.replace(/setup_exit_ctls/g, 'setup_entry_ctls').replace(/hardware_setup/g, 'hardware_unsetup');
  let mask = parseMask(text);
  for (let i = 0; i < 1500; i++) {
    const a = Math.floor(r() * (text.length + 1));
    const b = Math.min(text.length, a + (r() < 0.6 ? 0 : Math.floor(r() * 6)));
    const ins = snippets[Math.floor(r() * snippets.length)];
    text = text.slice(0, a) + ins + text.slice(b);
    mask = updateMask(mask, text, { start: a, oldEnd: b, newEnd: a + ins.length });
    assert.deepEqual(mask, parseMask(text), `edit ${i}: ${JSON.stringify(ins)} at ${a}`);
  }
});
