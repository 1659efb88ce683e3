// Minimal LSP client over stdio for the benchmark and the soak script (JSON-RPC with Content-Length framing).
import { spawn } from 'node:child_process';

export class Lsp {
  constructor(serverJs, args = ['--stdio']) {
    // Started as the editors start it (client/src/extension.ts, docs/editors.md): a 4 MiB young generation.
    this.proc = spawn(process.execPath, ['--max-semi-space-size=4', serverJs, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.buf = Buffer.alloc(0);
    this.id = 1;
    this.pending = new Map();
    this.listeners = new Set();
    this.stderr = '';
    this.configuration = null;
    this.proc.stdout.on('data', (d) => this.onData(d));
    this.proc.stderr.on('data', (d) => { this.stderr = (this.stderr + d.toString()).slice(-20000); });
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => {
      for (const p of this.pending.values()) p.reject(new Error(`server exited (${code}): ${this.stderr.slice(-2000)}`));
      resolve(code);
    }));
  }

  onData(d) {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const h = this.buf.indexOf('\r\n\r\n');
      if (h < 0) return;
      const m = /Content-Length:\s*(\d+)/i.exec(this.buf.subarray(0, h).toString('ascii'));
      const len = Number(m[1]);
      if (this.buf.length < h + 4 + len) return;
      const msg = JSON.parse(this.buf.subarray(h + 4, h + 4 + len).toString('utf8'));
      this.buf = this.buf.subarray(h + 4 + len);
      this.onMessage(msg);
    }
  }

  onMessage(m) {
    if (m.method && m.id !== undefined) {
      const result = m.method === 'workspace/configuration' ? (m.params?.items ?? []).map(() => this.configuration) : null;
      this.write({ jsonrpc: '2.0', id: m.id, result });
    } else if (m.id !== undefined && this.pending.has(m.id)) {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      p.resolve(m);
    }
    if (m.method) for (const l of [...this.listeners]) l(m);
  }

  write(msg) {
    const b = Buffer.from(JSON.stringify(msg), 'utf8');
    this.proc.stdin.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]));
  }

  request(method, params) {
    const id = this.id++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Like request(), but also returns the id (to cancel it with $/cancelRequest). */
  requestWithId(method, params) {
    const id = this.id++;
    const promise = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
    return { id, promise };
  }

  notify(method, params) { this.write({ jsonrpc: '2.0', method, params }); }

  /** Resolves with the first notification from now on that satisfies pred. */
  next(pred, timeoutMs = 60000, what = 'notification') {
    return new Promise((resolve, reject) => {
      const l = (m) => { if (pred(m)) { this.listeners.delete(l); clearTimeout(t); resolve(m); } };
      const t = setTimeout(() => { this.listeners.delete(l); reject(new Error(`timeout waiting for ${what}: ${this.stderr.slice(-2000)}`)); }, timeoutMs);
      this.listeners.add(l);
    });
  }

  on(fn) { this.listeners.add(fn); return () => this.listeners.delete(fn); }

  async initialize(rootUri = null, initializationOptions = undefined, capabilities = {}) {
    const r = await this.request('initialize', { processId: process.pid, rootUri, capabilities, initializationOptions });
    this.notify('initialized', {});
    return r;
  }

  async close() {
    try {
      await Promise.race([this.request('shutdown'), new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 5000).unref())]);
      this.notify('exit');
    } catch {
      this.proc.kill();
    }
    const t = setTimeout(() => this.proc.kill(), 5000);
    t.unref();
    await this.exited;
    clearTimeout(t);
  }
}

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
