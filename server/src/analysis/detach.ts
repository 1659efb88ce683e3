// Strings cut out of a document (an identifier, a match, a message built around one) are, in V8, often slices that
// keep the whole text of their version alive. Values that outlive their version — references reused by the next
// analysis, per-function memo entries, values carried to the next version — would then keep one full copy of the
// document per version they came from, and memory would grow with every edit. `detached()` copies a string so it
// holds only its own characters; `detachStrings()` does it for every string inside a freshly computed value.

/** V8 copies substrings shorter than this instead of slicing them (SlicedString::kMinLength). */
const MIN_SLICE = 13;

/** A copy of `s` that does not keep a larger string alive (short strings are already copies). */
export function detached(s: string): string {
  // ' ' + s is a cons string; slicing it flattens it into a fresh string of s.length + 1 characters.
  return s.length < MIN_SLICE ? s : (` ${s}`).slice(1);
}

const walked = new WeakSet<object>();

/**
 * Replace, in place, every string reachable from `value` through arrays, plain objects, Maps and Sets by a detached
 * copy (Map and Set entries keep their order). Class instances (tree nodes, for one) are left alone, and so are
 * objects already walked. Returns `value`.
 */
export function detachStrings<T>(value: T): T {
  const stack: unknown[] = [value];
  while (stack.length) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || walked.has(v)) continue;
    walked.add(v);
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x: unknown = v[i];
        if (typeof x === 'string') { if (x.length >= MIN_SLICE) v[i] = detached(x); } else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    } else if (v instanceof Map) {
      const entries = [...(v as Map<unknown, unknown>)];
      if (entries.some(([k, x]) => (typeof k === 'string' && k.length >= MIN_SLICE) || (typeof x === 'string' && x.length >= MIN_SLICE))) {
        v.clear();
        for (const [k, x] of entries) v.set(typeof k === 'string' ? detached(k) : k, typeof x === 'string' ? detached(x) : x);
      }
      for (const [k, x] of entries) { if (typeof k === 'object') stack.push(k); if (typeof x === 'object') stack.push(x); }
    } else if (v instanceof Set) {
      const items = [...(v as Set<unknown>)];
      if (items.some((x) => typeof x === 'string' && x.length >= MIN_SLICE)) {
        v.clear();
        for (const x of items) v.add(typeof x === 'string' ? detached(x) : x);
      }
      for (const x of items) if (typeof x === 'object') stack.push(x);
    } else {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) continue;
      if (Object.isFrozen(v)) continue;
      const o = v as Record<string, unknown>;
      for (const k of Object.keys(o)) {
        const d = Object.getOwnPropertyDescriptor(o, k);
        if (!d || !('value' in d)) continue; // accessors (a lazy getter) are not read
        const x: unknown = d.value;
        if (typeof x === 'string') { if (x.length >= MIN_SLICE && d.writable) o[k] = detached(x); } else if (typeof x === 'object' && x !== null) stack.push(x);
      }
    }
  }
  return value;
}
