// Line diff (Myers' O(ND) greedy algorithm, E. Myers, "An O(ND) Difference Algorithm and Its Variations",
// Algorithmica 1986): which lines of `a` are gone and which lines of `b` are new. Used to find the changed lines of a
// file after a whole patch series has been applied, whatever the hunks did in between.

export interface LineChanges {
  /** 1-based lines of `a` not in `b`, and of `b` not in `a`. */
  removed: number[];
  added: number[];
}

const MAX_D = 20000;

export function diffLines(aText: string, bText: string): LineChanges {
  const a = aText.split('\n');
  const b = bText.split('\n');
  // Common prefix/suffix first: patches change little of a file.
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const A = a.slice(pre, a.length - suf);
  const B = b.slice(pre, b.length - suf);
  const n = A.length;
  const m = B.length;
  const removed: number[] = [];
  const added: number[] = [];
  const max = n + m;
  const off = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = n === 0 && m === 0;
  for (let d = 0; d <= max && !found && d <= MAX_D; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x = k === -d || (k !== d && v[off + k - 1] < v[off + k + 1]) ? v[off + k + 1] : v[off + k - 1] + 1;
      let y = x - k;
      while (x < n && y < m && A[x] === B[y]) { x++; y++; }
      v[off + k] = x;
      if (x >= n && y >= m) { found = true; break; }
    }
  }
  if (!found) {
    // Too different to align cheaply: everything in the middle changed.
    for (let i = 0; i < n; i++) removed.push(pre + i + 1);
    for (let j = 0; j < m; j++) added.push(pre + j + 1);
    return { removed, added };
  }
  // Walk back through the trace.
  let x = n;
  let y = m;
  const ops: Array<{ op: '-' | '+'; i: number }> = [];
  for (let d = trace.length - 1; d > 0; d--) {
    const vd = trace[d];
    const k = x - y;
    const prevK = k === -d || (k !== d && vd[off + k - 1] < vd[off + k + 1]) ? k + 1 : k - 1;
    const px = vd[off + prevK];
    const py = px - prevK;
    while (x > px && y > py) { x--; y--; }
    if (x === px) ops.push({ op: '+', i: py });
    else ops.push({ op: '-', i: px });
    x = px;
    y = py;
  }
  ops.reverse();
  for (const o of ops) {
    if (o.op === '-') removed.push(pre + o.i + 1);
    else added.push(pre + o.i + 1);
  }
  return { removed, added };
}
