// A minimal LSP client for protocol-level tests: spawns `node dist/server.js --stdio` and speaks JSON-RPC with
// Content-Length framing. Raw access (sendRaw) lets tests send malformed messages.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DIST, ROOT } from '../paths';

export { ROOT };
export const SERVER = join(DIST, 'server.js');

export interface RpcMessage {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: { code: number; message: string; data?: unknown };
}

type Waiter = { pred: (m: RpcMessage) => boolean; resolve: (m: RpcMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };

export class LspClient {
  readonly proc: ChildProcess;
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private readonly pendingReq = new Map<number | string, { resolve: (m: RpcMessage) => void; reject: (e: Error) => void }>();
  private waiters: Waiter[] = [];
  readonly notifications: RpcMessage[] = [];
  stderr = '';
  exited: Promise<number | null>;

  constructor(args: string[] = ['--stdio'], env: NodeJS.ProcessEnv = process.env) {
    this.proc = spawn(process.execPath, [SERVER, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env });
    this.proc.stdout!.on('data', (d: Buffer) => this.onData(d));
    this.proc.stderr!.on('data', (d: Buffer) => { this.stderr += d.toString(); });
    this.proc.stdin!.on('error', () => undefined);
    this.exited = new Promise((resolve) => this.proc.on('exit', (code) => {
      for (const p of this.pendingReq.values()) p.reject(new Error(`server exited (${code}) with a request pending; stderr: ${this.stderr.slice(-2000)}`));
      this.pendingReq.clear();
      resolve(code);
    }));
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      const headerEnd = this.buf.indexOf('\r\n\r\n');
      if (headerEnd < 0) return;
      const header = this.buf.subarray(0, headerEnd).toString('ascii');
      const m = /Content-Length:\s*(\d+)/i.exec(header);
      if (!m) throw new Error(`bad header from server: ${header}`);
      const len = Number(m[1]);
      if (this.buf.length < headerEnd + 4 + len) return;
      const body = this.buf.subarray(headerEnd + 4, headerEnd + 4 + len).toString('utf8');
      this.buf = this.buf.subarray(headerEnd + 4 + len);
      this.onMessage(JSON.parse(body) as RpcMessage);
    }
  }

  private onMessage(m: RpcMessage): void {
    if (m.method && m.id !== undefined && m.id !== null) {
      // Server → client request: answer the usual ones.
      let result: unknown = null;
      if (m.method === 'workspace/configuration') {
        const items = ((m.params as { items?: unknown[] })?.items ?? []);
        result = items.map(() => this.configuration);
      }
      this.write({ jsonrpc: '2.0', id: m.id, result });
      this.notifications.push(m);
    } else if (m.method) {
      this.notifications.push(m);
    } else if (m.id !== undefined && m.id !== null && this.pendingReq.has(m.id)) {
      const p = this.pendingReq.get(m.id)!;
      this.pendingReq.delete(m.id);
      p.resolve(m);
    }
    for (const w of [...this.waiters]) {
      if (w.pred(m)) {
        clearTimeout(w.timer);
        this.waiters = this.waiters.filter((x) => x !== w);
        w.resolve(m);
      }
    }
  }

  /** What `workspace/configuration` answers for each item. */
  configuration: unknown = null;

  write(msg: unknown): void {
    this.sendRaw(JSON.stringify(msg));
  }

  sendRaw(body: string | Buffer): void {
    const b = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
    this.proc.stdin!.write(Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]));
  }

  /** Several messages in one write, so the server reads them in one chunk (before it dispatches any). */
  writeBatch(msgs: unknown[]): void {
    const parts = msgs.map((m) => {
      const b = Buffer.from(JSON.stringify(m), 'utf8');
      return Buffer.concat([Buffer.from(`Content-Length: ${b.length}\r\n\r\n`, 'ascii'), b]);
    });
    this.proc.stdin!.write(Buffer.concat(parts));
  }

  /** Register a pending request id (for requests sent through writeBatch). */
  expect(id: number): Promise<RpcMessage> {
    return new Promise((resolve, reject) => this.pendingReq.set(id, { resolve, reject }));
  }

  newId(): number {
    return this.nextId++;
  }

  /** Send a request; resolves with the whole response message (result or error). */
  request(method: string, params?: unknown, id: number | string = this.nextId++): Promise<RpcMessage> {
    return new Promise((resolve, reject) => {
      this.pendingReq.set(id, { resolve, reject });
      this.write({ jsonrpc: '2.0', id, method, params });
    });
  }

  /** Send a request without waiting; returns the id. */
  requestNoWait(method: string, params?: unknown): { id: number; response: Promise<RpcMessage> } {
    const id = this.nextId++;
    return { id, response: this.request(method, params, id) };
  }

  notify(method: string, params?: unknown): void {
    this.write({ jsonrpc: '2.0', method, params });
  }

  waitFor(pred: (m: RpcMessage) => boolean, timeoutMs = 10000, what = 'message'): Promise<RpcMessage> {
    const seen = this.notifications.find(pred);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const w: Waiter = { pred, resolve, reject, timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timeout waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs) };
      this.waiters.push(w);
    });
  }

  /** Wait for a *new* notification matching pred (ignores ones already received). */
  next(pred: (m: RpcMessage) => boolean, timeoutMs = 10000, what = 'notification'): Promise<RpcMessage> {
    return new Promise((resolve, reject) => {
      const w: Waiter = { pred, resolve, reject, timer: setTimeout(() => {
        this.waiters = this.waiters.filter((x) => x !== w);
        reject(new Error(`timeout waiting for ${what}; stderr: ${this.stderr.slice(-2000)}`));
      }, timeoutMs) };
      this.waiters.push(w);
    });
  }

  diagnosticsFor(uri: string, version?: number, timeoutMs = 10000): Promise<RpcMessage> {
    return this.next((m) => m.method === 'textDocument/publishDiagnostics' && (m.params as { uri: string }).uri === uri &&
      (version === undefined || (m.params as { version?: number }).version === version), timeoutMs, `diagnostics for ${uri} v${version}`);
  }

  async initialize(opts: { rootUri?: string | null; initializationOptions?: unknown; capabilities?: unknown } = {}): Promise<RpcMessage> {
    const r = await this.request('initialize', {
      processId: process.pid, rootUri: opts.rootUri ?? null, capabilities: opts.capabilities ?? {},
      initializationOptions: opts.initializationOptions,
    });
    this.notify('initialized', {});
    return r;
  }

  open(uri: string, text: string, version = 1, languageId = 'c'): void {
    this.notify('textDocument/didOpen', { textDocument: { uri, languageId, version, text } });
  }

  async shutdown(timeoutMs = 5000): Promise<number | null> {
    if (this.proc.exitCode !== null) return this.proc.exitCode;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await Promise.race([this.request('shutdown'), new Promise((_, rej) => { timer = setTimeout(() => rej(new Error('shutdown timeout')), timeoutMs); })]);
      this.notify('exit');
    } catch {
      this.proc.kill();
    } finally {
      clearTimeout(timer);
    }
    const t = setTimeout(() => this.proc.kill(), timeoutMs);
    const code = await this.exited;
    clearTimeout(t);
    return code;
  }
}

export function fileUri(path: string): string {
  return pathToFileURL(path).href;
}
