// Abstract field values and the conditions under which they hold.
//
// Every VMCS/VMCB field the engine tracks is, at a program point, one of
//   written     KVM or L1 stored a value (provenance: the statement / instruction and its line)
//   cleared     the hardware cleared it (e.g. an exit-information field an exit does not define but clears)
//   undefined   the hardware left it undefined (why, from model/semantics.ts)
//   unmodified  nothing on this path changed it since the function started
//   unknown     the paths that reach here disagree, or the value depends on what the engine does not model
// together with the configuration and path condition under which that holds. The configuration part is minimised over
// the sweep: `minimalCondition` names the fewest variable values that make a verdict hold in every configuration.

export type FieldStatus = 'written' | 'cleared' | 'undefined' | 'unmodified' | 'unknown';

export interface FieldValue {
  location: string;
  status: FieldStatus;
  /** Line of the statement or event that produced the value. */
  line?: number;
  /** The statement / instruction / hardware event, or why the value is undefined. */
  by?: string;
  /** Path condition (the part the configuration does not decide), e.g. `?(vmx->nested.need_sync)`. */
  path?: string;
}

export type ConfigValue = boolean | string;
export type Config = ReadonlyMap<string, ConfigValue>;

/**
 * The fewest variable values under which a verdict holds: `configs` are the feasible configurations swept, `hit[i]`
 * whether the verdict holds in configs[i]. Greedy cover: each cube starts from an uncovered hit configuration and
 * widens one variable at a time (to any value, else to the largest set of values) while every configuration inside
 * the cube is a hit. Returns the cubes as text (`enable_ept=true ∧ paging≠pae`), '' when the verdict always holds.
 */
export function minimalCondition(configs: readonly Config[], hit: readonly boolean[], vars: readonly string[],
  domains: Readonly<Record<string, readonly ConfigValue[]>>): string {
  const hits = configs.map((_, i) => i).filter((i) => hit[i]);
  if (!hits.length) return 'false';
  if (hits.length === configs.length) return '';
  type Cube = Map<string, Set<ConfigValue>>;
  const inCube = (c: Config, cube: Cube): boolean => {
    for (const [k, vs] of cube) if (!vs.has(c.get(k) ?? '')) return false;
    return true;
  };
  const allHit = (cube: Cube): boolean => configs.every((c, i) => !inCube(c, cube) || hit[i]);
  const cubes: Cube[] = [];
  const covered = new Set<number>();
  for (const i of hits) {
    if (covered.has(i)) continue;
    const cube: Cube = new Map(vars.map((k) => [k, new Set([configs[i].get(k) ?? ''])]));
    for (const k of vars) {
      const keep = cube.get(k)!;
      cube.delete(k);
      if (allHit(cube)) continue;
      const widened = new Set(keep);
      for (const v of domains[k] ?? []) {
        if (widened.has(v)) continue;
        widened.add(v);
        cube.set(k, widened);
        if (!allHit(cube)) widened.delete(v);
      }
      cube.set(k, widened);
    }
    cubes.push(cube);
    configs.forEach((c, j) => { if (hit[j] && inCube(c, cube)) covered.add(j); });
  }
  return cubes.map((cube) => cubeText(cube, domains)).join(' ∨ ');
}

function cubeText(cube: Map<string, Set<ConfigValue>>, domains: Readonly<Record<string, readonly ConfigValue[]>>): string {
  const lits: string[] = [];
  for (const [k, vs] of cube) {
    const dom = domains[k] ?? [];
    if (vs.size === 1) {
      const [v] = vs;
      lits.push(v === true ? k : v === false ? `!${k}` : `${k}=${String(v)}`);
    } else if (dom.length && vs.size === dom.length - 1) {
      lits.push(`${k}≠${String(dom.find((d) => !vs.has(d)))}`);
    } else lits.push(`${k}∈{${[...vs].map(String).join(',')}}`);
  }
  return lits.length ? lits.join(' ∧ ') : 'true';
}

/** Status of a machine cell as the engine reports it. */
export function statusOf(cell: { status: 'value' | 'undefined' | 'stale'; why?: string; n?: bigint; cleared?: boolean }, written: boolean): FieldStatus {
  if (cell.status === 'undefined') return 'undefined';
  if (cell.status === 'stale') return 'unknown';
  if (cell.cleared) return 'cleared';
  return written ? 'written' : 'unmodified';
}
