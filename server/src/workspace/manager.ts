// Server side of workspace indexing: runs the indexer in a worker thread (the second core), feeds the facts into
// analysis/workspace.ts and reports progress. The worker exits when a run is done (its parser memory goes with
// it); saved files are re-indexed in small batches by a fresh worker.
import { Worker } from 'node:worker_threads';
import { workspaceFactsWriter } from '../analysis/workspace';
import type { IndexMessage, IndexRequest } from './indexer';

export const INDEX_WORKER_TAG = 'kvm-lens-index-worker';

export interface IndexEvents {
  onStart(total: number): void;
  onProgress(done: number, total: number): void;
  onDone(summary: { files: number; lines: number; ms: number; errors: string[] }): void;
  onError(message: string): void;
}

export class WorkspaceIndexer {
  private worker: Worker | undefined;
  private queued: IndexRequest | undefined;
  private generation = 0;
  private pendingPaths = new Set<string>();
  private saveTimer: ReturnType<typeof setTimeout> | undefined;
  private base: Omit<IndexRequest, 'only'> | undefined;
  /** Resolves when the current full run (if any) has finished. */
  private idle: Promise<void> = Promise.resolve();
  private resolveIdle: (() => void) | undefined;

  constructor(private readonly script: string, private readonly events: IndexEvents) {}

  get running(): boolean { return this.worker !== undefined; }

  whenIdle(): Promise<void> { return this.idle; }

  /** Index the workspace from scratch (replaces earlier facts). */
  indexAll(req: Omit<IndexRequest, 'only'>): void {
    this.base = req;
    workspaceFactsWriter.clear();
    this.run({ ...req });
  }

  /** Re-index files after they were saved/changed on disk (debounced, batched). */
  reindex(paths: string[]): void {
    if (!this.base) return;
    for (const p of paths) this.pendingPaths.add(p);
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.saveTimer = setTimeout(() => {
      this.saveTimer = undefined;
      const only = [...this.pendingPaths];
      this.pendingPaths.clear();
      if (this.base && only.length) this.run({ ...this.base, only });
    }, 300);
  }

  private run(req: IndexRequest): void {
    if (this.worker) {
      // A full run supersedes everything queued; re-index batches wait for the current run.
      if (!req.only) {
        this.queued = req;
        this.generation++; // drop whatever the superseded worker still posts
        void this.worker.terminate();
      } else if (!this.queued) this.queued = req;
      else if (this.queued.only) this.queued = { ...this.queued, only: [...new Set([...this.queued.only, ...req.only])] };
      return;
    }
    if (!this.resolveIdle) this.idle = new Promise((r) => { this.resolveIdle = r; });
    const gen = ++this.generation;
    let worker: Worker;
    try {
      worker = new Worker(this.script, { workerData: { tag: INDEX_WORKER_TAG, request: req }, stdout: false, stderr: false });
    } catch (e) {
      this.events.onError(`cannot start the index worker: ${e instanceof Error ? e.message : String(e)}`);
      this.finish();
      return;
    }
    this.worker = worker;
    if (req.only) for (const p of req.only) workspaceFactsWriter.remove(p);
    worker.on('message', (m: IndexMessage) => {
      if (gen !== this.generation) return;
      switch (m.type) {
        case 'start': if (!req.only) this.events.onStart(m.total); break;
        case 'files':
          for (const f of m.facts) workspaceFactsWriter.set(f);
          if (!req.only) this.events.onProgress(m.done, m.total);
          break;
        case 'done':
          if (!req.only) workspaceFactsWriter.setReady(true);
          this.events.onDone({ files: m.files, lines: m.lines, ms: m.ms, errors: m.errors });
          void worker.terminate();
          break;
        default: break;
      }
    });
    worker.on('error', (e) => this.events.onError(`index worker failed: ${e.message}`));
    worker.on('exit', () => {
      if (this.worker === worker) this.worker = undefined;
      const next = this.queued;
      this.queued = undefined;
      if (next) this.run(next);
      else this.finish();
    });
  }

  private finish(): void {
    const r = this.resolveIdle;
    this.resolveIdle = undefined;
    r?.();
  }

  dispose(): void {
    if (this.saveTimer) clearTimeout(this.saveTimer);
    this.queued = undefined;
    this.generation++;
    if (this.worker) void this.worker.terminate();
    this.worker = undefined;
    this.finish();
  }
}
