// LSP robustness against the real server process: unknown methods, malformed params and messages, requests for
// unopened documents, out-of-range positions, stale didChange versions, $/cancelRequest, ContentModified for
// superseded requests, and mutated/hostile documents — every request gets a well-formed answer and the server
// stays up.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { LspClient, type RpcMessage } from './lspClient';
import { byteFlips, deepNesting, fixtureSources, oddFiles, truncations, unbalanced } from '../robustness/mutate';

const METHOD_NOT_FOUND = -32601;
const INVALID_PARAMS = -32602;
const REQUEST_CANCELLED = -32800;
const CONTENT_MODIFIED = -32801;

let c: LspClient;
const URI = 'file:///tmp/kvm-lens-robust/a.c';
const TEXT = 'static void f(struct vmcs12 *vmcs12)\n{\n\tvmcs12->guest_pdptr0 = vmcs_read64(GUEST_PDPTR0);\n}\n';

before(async () => {
  c = new LspClient();
  await c.initialize();
  const d = c.diagnosticsFor(URI, 5);
  c.open(URI, TEXT, 5);
  await d;
});

after(async () => {
  const code = await c.shutdown();
  assert.equal(code, 0, c.stderr);
  assert.doesNotMatch(c.stderr, /uncaught|unhandled rejection/i);
});

function wellFormed(m: RpcMessage, what: string): void {
  assert.ok(m.result !== undefined || (m.error && typeof m.error.code === 'number' && typeof m.error.message === 'string'), `${what}: ${JSON.stringify(m).slice(0, 300)}`);
}

async function alive(): Promise<void> {
  const r = await c.request('kvmLens/explain', { name: 'GUEST_PDPTR0' });
  assert.match((r.result as { markdown: string }).markdown, /0x280a/);
}

test('unknown request → MethodNotFound; unknown notification is ignored', async () => {
  const r = await c.request('kvmLens/noSuchThing', { x: 1 });
  assert.equal(r.error?.code, METHOD_NOT_FOUND);
  c.notify('kvmLens/noSuchNotification', { y: 2 });
  c.notify('$/someExtension', null);
  await alive();
});

test('malformed params → InvalidParams, never a crash', async () => {
  const cases: Array<[string, unknown]> = [
    ['textDocument/hover', null],
    ['textDocument/hover', {}],
    ['textDocument/hover', { textDocument: { uri: 42 }, position: { line: 0, character: 0 } }],
    ['textDocument/hover', { textDocument: { uri: URI } }],
    ['textDocument/hover', { textDocument: { uri: URI }, position: { line: 'x', character: 0 } }],
    ['textDocument/hover', { textDocument: { uri: URI }, position: [1, 2] }],
    ['textDocument/codeAction', { textDocument: { uri: URI } }],
    ['textDocument/codeAction', { textDocument: { uri: URI }, range: { start: 1, end: 2 }, context: {} }],
    ['textDocument/inlayHint', { textDocument: { uri: URI }, range: null }],
    ['textDocument/codeLens', { textDocument: null }],
    ['kvmLens/explain', {}],
    ['kvmLens/explain', { name: 7 }],
    ['kvmLens/simulate', { textDocument: {} }],
    ['kvmLens/simulate', 'nonsense'],
  ];
  for (const [method, params] of cases) {
    const r = await c.request(method, params);
    wellFormed(r, `${method} ${JSON.stringify(params)}`);
    assert.equal(r.error?.code, INVALID_PARAMS, `${method} ${JSON.stringify(params)} → ${JSON.stringify(r)}`);
  }
  // Malformed notifications are logged and ignored.
  c.notify('textDocument/didOpen', { textDocument: { uri: 'file:///x.c' } });
  c.notify('textDocument/didOpen', null);
  c.notify('textDocument/didChange', { textDocument: { uri: URI, version: 99 }, contentChanges: 'abc' });
  c.notify('textDocument/didChange', null);
  c.notify('textDocument/didClose', {});
  c.notify('workspace/didChangeConfiguration', { settings: { kvmLens: { rules: 'bad', index: { include: 5 } } } });
  await alive();
});

test('malformed JSON-RPC messages do not take the server down', async () => {
  c.sendRaw('{ this is not json');
  c.sendRaw(JSON.stringify({ jsonrpc: '2.0', id: 777 }));
  c.sendRaw(JSON.stringify({ jsonrpc: '2.0', method: 42 }));
  c.sendRaw(JSON.stringify([1, 2, 3]));
  c.sendRaw(Buffer.from([0xff, 0xfe, 0x00, 0x80]));
  await alive();
});

test('requests for unopened documents answer empty', async () => {
  const uri = 'file:///never/opened.c';
  const p = { line: 0, character: 0 };
  assert.equal((await c.request('textDocument/hover', { textDocument: { uri }, position: p })).result, null);
  assert.deepEqual((await c.request('textDocument/codeAction', { textDocument: { uri }, range: { start: p, end: p }, context: { diagnostics: [] } })).result, []);
  assert.deepEqual((await c.request('textDocument/codeLens', { textDocument: { uri } })).result, []);
  assert.deepEqual((await c.request('textDocument/inlayHint', { textDocument: { uri }, range: { start: p, end: p } })).result, []);
  const sim = await c.request('kvmLens/simulate', { textDocument: { uri } });
  assert.equal(sim.error?.code, INVALID_PARAMS);
  c.notify('textDocument/didChange', { textDocument: { uri, version: 3 }, contentChanges: [{ text: 'x' }] });
  c.notify('textDocument/didClose', { textDocument: { uri } });
  await alive();
});

test('out-of-range positions are clamped', async () => {
  const positions = [
    { line: 1e9, character: 1e9 }, { line: -5, character: -5 }, { line: 2, character: 1e6 }, { line: 0, character: 0.5 },
    { line: Number.MAX_SAFE_INTEGER, character: 0 },
  ];
  for (const position of positions) {
    const r = await c.request('textDocument/hover', { textDocument: { uri: URI }, position });
    wellFormed(r, `hover ${JSON.stringify(position)}`);
    assert.equal(r.error, undefined, JSON.stringify(r));
  }
  // Reversed and huge ranges.
  const r = await c.request('textDocument/codeAction', { textDocument: { uri: URI }, range: { start: { line: 99, character: 0 }, end: { line: -1, character: 0 } }, context: { diagnostics: [] } });
  assert.ok(Array.isArray(r.result));
  const h = await c.request('textDocument/inlayHint', { textDocument: { uri: URI }, range: { start: { line: -9, character: 0 }, end: { line: 1e9, character: 0 } } });
  assert.ok(Array.isArray(h.result));
});

test('stale didChange versions are ignored (the text stays as it was)', async () => {
  // Version 5 is current; version 4 would delete the field name.
  const col = TEXT.split('\n')[2].indexOf('GUEST_PDPTR0');
  c.notify('textDocument/didChange', { textDocument: { uri: URI, version: 4 }, contentChanges: [{ range: { start: { line: 2, character: col }, end: { line: 2, character: col + 12 } }, text: '' }] });
  const h = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: { line: 2, character: col + 2 } });
  assert.match((h.result as { contents: { value: string } }).contents.value, /0x280a/);
  const stats = (await c.request('kvmLens/serverStats')).result as { staleChanges: number };
  assert.ok(stats.staleChanges >= 1);
});

test('$/cancelRequest → RequestCancelled', async () => {
  const id = c.newId();
  const response = c.expect(id);
  c.writeBatch([
    { jsonrpc: '2.0', id, method: 'textDocument/codeLens', params: { textDocument: { uri: URI } } },
    { jsonrpc: '2.0', method: '$/cancelRequest', params: { id } },
  ]);
  const r = await response;
  assert.equal(r.error?.code, REQUEST_CANCELLED, JSON.stringify(r));
});

test('a request superseded by an edit → ContentModified; the next one answers for the new text', async () => {
  const id = c.newId();
  const response = c.expect(id);
  const diag = c.diagnosticsFor(URI, 6);
  c.writeBatch([
    { jsonrpc: '2.0', id, method: 'textDocument/hover', params: { textDocument: { uri: URI }, position: { line: 2, character: 30 } } },
    { jsonrpc: '2.0', method: 'textDocument/didChange', params: { textDocument: { uri: URI, version: 6 }, contentChanges: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, text: '// edited\n' }] } },
  ]);
  const r = await response;
  assert.equal(r.error?.code, CONTENT_MODIFIED, JSON.stringify(r));
  await diag;
  const col = TEXT.split('\n')[2].indexOf('GUEST_PDPTR0');
  const h = await c.request('textDocument/hover', { textDocument: { uri: URI }, position: { line: 3, character: col + 1 } });
  assert.match((h.result as { contents: { value: string } }).contents.value, /0x280a/);
});

test('hostile documents: every request answered, server stays up', async () => {
  const variants = [
    ...oddFiles(),
    ...deepNesting(2000),
    ...fixtureSources().slice(0, 6).flatMap((s, i) => [...truncations(s, 3), ...byteFlips(s, 3, 900 + i), ...unbalanced(s, 3, 950 + i)]),
  ];
  let n = 0;
  for (const v of variants) {
    const uri = `file:///tmp/kvm-lens-robust/v${n++}.c`;
    const diag = c.diagnosticsFor(uri, 1, 60000);
    c.open(uri, v.text, 1);
    await diag;
    const lines = v.text.split('\n').length;
    const at = { line: Math.floor(lines / 2), character: 3 };
    const reqs: Array<[string, unknown]> = [
      ['textDocument/hover', { textDocument: { uri }, position: at }],
      ['textDocument/codeAction', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } }, context: { diagnostics: [] } }],
      ['textDocument/codeLens', { textDocument: { uri } }],
      ['textDocument/inlayHint', { textDocument: { uri }, range: { start: { line: 0, character: 0 }, end: { line: lines, character: 0 } } }],
      ['kvmLens/simulate', { textDocument: { uri } }],
    ];
    for (const [method, params] of reqs) {
      const r = await c.request(method, params);
      wellFormed(r, `${v.name} ${method}`);
      assert.equal(r.error, undefined, `${v.name} ${method}: ${JSON.stringify(r.error)}`);
    }
    const d2 = c.diagnosticsFor(uri, 2, 60000);
    c.notify('textDocument/didChange', { textDocument: { uri, version: 2 }, contentChanges: [{ range: { start: at, end: { line: at.line + 1, character: 0 } }, text: '}{(/*' }] });
    await d2;
    c.notify('textDocument/didClose', { textDocument: { uri } });
  }
  const stats = (await c.request('kvmLens/serverStats')).result as { internalErrors: number; documents: number };
  assert.equal(stats.internalErrors, 0, `internal errors logged: ${c.stderr.slice(-2000)}`);
  assert.equal(stats.documents, 1);
});
