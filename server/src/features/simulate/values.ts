// Values of the C interpreter (features/simulate/c.ts): numbers, pointers to machine objects, undefined/stale values
// with why, and the machine bits they carry; and how two paths' values join.
import { hex } from '../../model/machine/index';
import type { Expr } from './cir';

// ---- values -----------------------------------------------------------------------------------------------------

export interface Src { loc: string; mask: bigint }
export interface Val {
  n?: bigint;
  /** Pointer to a machine object (`vmcs12`, `vmcb02`, ...) or a KVM context struct (`ctx`). */
  ptr?: string;
  arr?: Val[];
  /** The value is undefined (why). */
  undef?: string;
  stale?: string;
  /** Machine locations whose bits the value carries. */
  src?: Src[];
  /** Per-CPU value: which CPU it describes. */
  cpu?: number;
  /** Where it was read from (display form), for flow descriptions. */
  from?: string;
  desc?: string;
  /** Field name (for VMCS enum constants) / symbol. */
  sym?: string;
  /** Configuration variables individual bits depend on (int_ctl values built from the configuration). */
  bitDeps?: Array<[bigint, string[]]>;
}

export const ALL = (1n << 64n) - 1n;
export const UNKNOWN: Val = {};

export function known(v: Val): v is Val & { n: bigint } {
  return v.n !== undefined;
}

export function describe(v: Val): string {
  if (v.undef) return `${v.from ?? 'value'} (undefined: ${v.undef})`;
  if (v.stale) return `${v.from ?? 'value'} (stale: ${v.stale})`;
  let s = v.from ?? '';
  if (v.n !== undefined) s = s ? `${s} ${hex(v.n)}` : hex(v.n);
  if (!v.from && v.desc) s = s ? `${s} ${v.desc}` : v.desc;
  if (v.cpu !== undefined) s += ` (CPU ${v.cpu})`;
  return s || 'value';
}

export function maskSrc(src: Src[] | undefined, mask: bigint): Src[] | undefined {
  if (!src) return undefined;
  const out = src.map((s) => ({ loc: s.loc, mask: s.mask & mask })).filter((s) => s.mask !== 0n);
  return out.length ? out : undefined;
}

export function mergeSrc(a?: Src[], b?: Src[]): Src[] | undefined {
  if (!a) return b;
  if (!b) return a;
  const m = new Map<string, bigint>();
  for (const s of [...a, ...b]) m.set(s.loc, (m.get(s.loc) ?? 0n) | s.mask);
  return [...m].map(([loc, mask]) => ({ loc, mask }));
}

/** Join of a value on two paths (`cond` names the path on which `a` holds, for the reason of an undefined result). */
export function joinVal(a: Val | undefined, b: Val | undefined, condA: string, condB: string): Val {
  if (!a) return b ?? {};
  if (!b) return a;
  if (a.undef || b.undef) {
    const u = a.undef ? a : b;
    const cond = a.undef ? condA : condB;
    return { ...u, undef: cond ? `${u.undef}, on the path where ${cond}` : u.undef!, src: mergeSrc(a.src, b.src) };
  }
  if (a.stale || b.stale) return a.stale ? a : b;
  if (a.ptr && a.ptr === b.ptr) return a;
  const r: Val = { src: mergeSrc(a.src, b.src), from: a.from === b.from ? a.from : a.from && b.from ? `${a.from} or ${b.from}` : a.from ?? b.from };
  if (a.n !== undefined && a.n === b.n) r.n = a.n;
  if (a.cpu !== undefined && a.cpu === b.cpu) r.cpu = a.cpu;
  if (a.bitDeps || b.bitDeps) r.bitDeps = [...(a.bitDeps ?? []), ...(b.bitDeps ?? [])];
  if (a.desc && a.desc === b.desc) r.desc = a.desc;
  else if (!r.from && r.n === undefined) r.desc = `${describe(a)} or ${describe(b)}`;
  return r;
}

export function sameVal(a: Val, b: Val): boolean {
  return a === b || (a.n === b.n && a.ptr === b.ptr && a.undef === b.undef && a.stale === b.stale && a.from === b.from && a.desc === b.desc && a.cpu === b.cpu && !a.arr && !b.arr);
}

export function defaultParam(name: string): Val {
  if (/^(shadow_)?vmcs12$/.test(name)) return { ptr: 'vmcs12' };
  if (/^vmcb12$/.test(name)) return { ptr: 'vmcb12' };
  if (/^vmcb0[12]$/.test(name)) return { ptr: name };
  return { ptr: 'ctx', desc: name };
}

export function exprText(e: Expr): string {
  switch (e.k) {
    case 'id': return e.name;
    case 'path': case 'index': return e.text;
    case 'call': return e.text;
    case 'un': return `${e.op}${exprText(e.e)}`;
    case 'num': return e.v.toString();
    default: return '…';
  }
}

/** Conditions are attached by source position (compiled.ts attachConditionPositions). */
export function condPos(e: Expr): string | undefined {
  return (e as { pos?: string }).pos;
}
