// Interpretation runs of the sweep (sweep.ts), and how consecutive runs share work.
//
// A run is deterministic given its machine configuration and the values its configuration reader returns. So the
// state before a top-level statement of the simulated function depends only on the machine configuration and on the
// sweep variables read so far: a later configuration that agrees on them can resume from a copy of that state instead
// of running the prelude and every statement before it again. The sweep runs configurations grouped by machine
// configuration, each group in the order of its variables (the last varies fastest), so the checkpoints a run needs
// are those of the run before it: one chain of checkpoints, cut where the new run's assignment first differs.
import { BudgetError, Interp, type Call, type RunOptions } from './c';
import type { CFunction, Stmt } from './cir';
import type { Compiled } from './compiled';
import { baseConfig, postlude, prelude, type Surroundings } from './context';
import { configFor, machineVar, VARS, varValue, type ConfigReader, type VarValue } from './predicates';
import type { MachineConfig } from '../../model/machine/index';
import type { Frame, Signal } from './interpState';
import { defaultParam } from './values';
import { copyState } from '../../model/machine/machineCore';
import { consulted, guardedConfig, SymbolicAbort, SymbolicTrace } from './symbolic';

export interface Run { it: Interp; error?: string }

/** A symbolic run (interpretOpen): the interpreter, or why it was given up. */
export interface OpenRun { it?: Interp; why?: string; consulted?: string; forked?: ReadonlySet<string> }

const MACHINE_VARS = new Set(Object.keys(VARS).filter(machineVar));

/** Interpret the simulated function once, from the start: prelude, the function, postlude, whole-run checks. */
export function interpret(c: Compiled, s: Surroundings, a: ReadonlyMap<string, VarValue>, opts: RunOptions): Run {
  const { fn } = s;
  const it = new Interp(c, configFor(baseConfig(s.vendor, s.role), a), a, opts);
  let error: string | undefined;
  try {
    begin(it, s);
    it.invoke(fn, fn.params.map(defaultParam));
    end(it, s);
  } catch (e) {
    error = errorText(e);
  }
  return { it, error };
}

/**
 * Interpret the simulated function once with the variables `open` left open (symbolic.ts): the run forks where they are
 * tested. No `it` when the run cannot stand for the configurations (SymbolicAbort) or did not finish: `why`, the open
 * variable the model consulted if that was the reason, and the open variables forked on so far; the sweep then splits
 * or runs the configurations one by one, which also reports any error.
 */
export function interpretOpen(c: Compiled, s: Surroundings, a: ReadonlyMap<string, VarValue>, open: ReadonlySet<string>, opts: RunOptions): OpenRun {
  const { fn } = s;
  let it: Interp | undefined;
  try {
    // (open machine variables: the machine may not read their fields, symbolic.ts guardedConfig)
    it = new Interp(c, guardedConfig(configFor(baseConfig(s.vendor, s.role), a), open), a, opts);
    it.sym = new SymbolicTrace(open);
    it.reader.open = { keys: open, asked: consulted };
    begin(it, s);
    it.invoke(fn, fn.params.map(defaultParam));
    end(it, s);
  } catch (e) {
    return { why: (e as Error)?.message ?? String(e), consulted: e instanceof SymbolicAbort ? e.consulted : undefined, forked: it?.sym?.forked };
  }
  return { it };
}

/** What comes before the simulated function: the hardware events and KVM steps that lead into it (prelude). */
function begin(it: Interp, s: Surroundings): void {
  it.at(s.fn.line);
  prelude(it, s);
  it.at(s.fn.line);
}

/** What comes after it: the events that follow (postlude) and the whole-run checks. */
function end(it: Interp, s: Surroundings): void {
  it.at(s.fn.end);
  postlude(it, s);
  it.finish();
}

function errorText(e: unknown): string {
  return e instanceof BudgetError ? 'interpretation budget exhausted (very long or looping region); results are partial' : `internal error: ${(e as Error).message}`;
}

/** The state before top-level statement `at` of the body, and the sweep variables read to get there (with values). */
interface Checkpoint { at: number; it: Interp; call: Call; reads: Array<[string, VarValue]>; cfgKey: string }

/**
 * Runs, runs that resumed from a checkpoint, top-level statements they skipped, checkpoints taken; symbolic runs
 * (sweep.ts) that stood for their configurations, those given up because the model consulted an open machine variable
 * (the configurations are then split on it: `split`), and those given up otherwise (`aborted`, with why).
 */
export interface ResumeStats { runs: number; resumed: number; skipped: number; checkpoints: number; symbolic: number; split: number; aborted: number; abortedWhy: string[] }

/**
 * Whether a configuration the sweep runs after `a` can agree with `a` on the variables `read` (so a checkpoint taken
 * with those reads can serve it). Undefined: no later configuration is known (nothing is kept).
 */
export type Later = (a: ReadonlyMap<string, VarValue>, read: ReadonlySet<string>) => boolean;

/**
 * Runs of one simulated function that share their common prefixes. `run(a)` gives the same interpreter state as
 * interpret() (test/unit/sim-resume.test.ts compares the outputs of whole sweeps with and without resuming).
 */
export class Resumer {
  private chain: Checkpoint[] = [];
  /** Top-level statements where a run first read a variable: the states before them are worth keeping. */
  private readonly marks = new Set<number>();
  private readonly base;
  private readonly body: readonly Stmt[] | undefined;
  readonly stats: ResumeStats = { runs: 0, resumed: 0, skipped: 0, checkpoints: 0, symbolic: 0, split: 0, aborted: 0, abortedWhy: [] };

  constructor(private readonly c: Compiled, private readonly s: Surroundings, private readonly opts: RunOptions) {
    this.base = baseConfig(s.vendor, s.role);
    this.body = s.fn.body.k === 'block' ? s.fn.body.body : undefined;
  }

  private readonly cfgs = new Map<string, MachineConfig>();

  /**
   * The machine configuration of an assignment, as a key: its machine variables (the others do not change it, see
   * predicates.ts machineVar). Runs share checkpoints only under the same key.
   */
  cfgKey(a: ReadonlyMap<string, VarValue>): string {
    let key = '';
    for (const [k, v] of a) if (MACHINE_VARS.has(k)) key += `${k}=${v};`;
    return key;
  }

  /** The machine configuration of an assignment whose cfgKey is `key` (one object per key). */
  configOf(a: ReadonlyMap<string, VarValue>, key: string): MachineConfig {
    let cfg = this.cfgs.get(key);
    if (!cfg) this.cfgs.set(key, cfg = configFor(this.base, a));
    return cfg;
  }

  /** Run under `a` (machine configuration `cfgKey`), resuming from the deepest checkpoint that agrees with it. */
  run(a: ReadonlyMap<string, VarValue>, cfgKey = this.cfgKey(a), later?: Later): Run {
    this.stats.runs++;
    const body = this.body;
    if (!body) return interpret(this.c, this.s, a, this.opts);
    const fn = this.s.fn;
    const cfg = this.configOf(a, cfgKey);
    let k = this.chain.length - 1;
    while (k >= 0 && !(this.chain[k].cfgKey === cfgKey && this.chain[k].reads.every(([v, x]) => varValue(a, cfg, v) === x))) k--;
    const from = this.chain[k];
    let it: Interp;
    let call: Call | undefined;
    let start = 0;
    let error: string | undefined;
    if (from) {
      // The last configuration this checkpoint can serve takes it over; the others work on a copy.
      const last = !later?.(a, new Set(from.reads.map(([v]) => v)));
      this.chain.length = last ? k : k + 1;
      ({ it, call } = last ? { it: from.it, call: from.call } : copyRun(from.it, from.call, fn));
      rebind(it, a);
      start = from.at;
      this.stats.resumed++;
      this.stats.skipped += start;
    } else {
      this.chain.length = 0;
      it = new Interp(this.c, cfg, a, this.opts);
    }
    try {
      if (!call) {
        begin(it, this.s);
        call = it.enter(fn, fn.params.map(defaultParam));
        it.enterBlock();
      }
      let sig: Signal = 'normal';
      try {
        for (let i = start; i < body.length; i++) {
          if (later && this.marks.has(i) && !(from && i === start) && later(a, it.reader.read)) this.chain.push(this.checkpoint(it, call, i, a, cfgKey));
          const before = it.reader.read.size;
          sig = it.exec(body[i]);
          if (it.reader.read.size > before) this.marks.add(i);
          if (sig !== 'normal') break;
        }
        it.leave(call, sig);
      } finally {
        it.exitCall(call);
      }
      end(it, this.s);
    } catch (e) {
      error = errorText(e);
    }
    return { it, error };
  }

  private checkpoint(it: Interp, call: Call, at: number, a: ReadonlyMap<string, VarValue>, cfgKey: string): Checkpoint {
    this.stats.checkpoints++;
    const copy = copyRun(it, call, this.s.fn);
    const reads: Array<[string, VarValue]> = [...it.reader.read].map((v) => [v, varValue(a, it.m.cfg, v)]);
    return { at, it: copy.it, call: copy.call, reads, cfgKey };
  }
}

/**
 * Copy of an interpreter stopped between two top-level statements of `fn` (one frame, no call being followed): the
 * machine, the frame, findings, flows and stores are its own.
 */
function copyRun(src: Interp, call: Call, fn: CFunction): { it: Interp; call: Call } {
  const frames = (src as unknown as { frames: Frame[] }).frames;
  if (frames.length !== 1 || frames[0] !== call.frame) throw new Error('copyRun: the interpreter is not between top-level statements');
  // Constructed, not Object.create()d: the copy keeps the class's object layout (property access stays fast).
  const m = src.m.copy();
  const it = copyState(src, new Interp(src.c, src.m.cfg, src.reader.assignment, src.opts, m));
  const dst = it as unknown as Record<string, unknown>;
  dst.m = m;
  dst.reader = src.reader.with(src.reader.assignment);
  const frame: Frame = { locals: new Map(call.frame.locals), exits: call.frame.exits.slice(), ret: call.frame.ret };
  dst.frames = [frame];
  const frameOf = new WeakMap<CFunction, Frame>();
  frameOf.set(fn, frame);
  dst.frameOf = frameOf;
  return { it, call: { ...call, frame } };
}

/** The interpreter goes on under assignment `a` (same machine configuration): its reader keeps the variables read. */
function rebind(it: Interp, a: ReadonlyMap<string, VarValue>): void {
  (it as unknown as { reader: ConfigReader }).reader = it.reader.with(a);
}
