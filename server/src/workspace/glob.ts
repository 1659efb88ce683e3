// Minimal glob and .gitignore matching for workspace indexing (no dependency): `**`, `*`, `?`, `[...]`, `{a,b}`.
// Paths are workspace-relative with forward slashes. Everything here is iterative and bounded.

const MAX_EXPANSIONS = 256;

/** `a/{b,c}/*.{c,h}` → [`a/b/*.c`, `a/b/*.h`, `a/c/*.c`, `a/c/*.h`] (innermost braces first; bounded). */
export function expandBraces(glob: string): string[] {
  const done: string[] = [];
  const work = [glob];
  while (work.length) {
    const g = work.pop()!;
    const close = g.indexOf('}');
    const open = close < 0 ? -1 : g.lastIndexOf('{', close);
    if (open < 0) {
      done.push(g);
    } else {
      const head = g.slice(0, open);
      const tail = g.slice(close + 1);
      for (const alt of g.slice(open + 1, close).split(',')) work.push(head + alt + tail);
    }
    if (done.length + work.length > MAX_EXPANSIONS) break;
  }
  return done.reverse();
}

/** A brace-free glob → RegExp over a whole relative path. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') {
      if (glob[i + 1] === '*') {
        const atSegStart = i === 0 || glob[i - 1] === '/';
        i++;
        if (glob[i + 1] === '/' && atSegStart) {
          i++;
          re += '(?:[^/]*/)*';
        } else re += '.*';
      } else re += '[^/]*';
    } else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        let body = glob.slice(i + 1, end).replace(/\\/g, '\\\\');
        if (body.startsWith('!')) body = `^${body.slice(1)}`;
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

export interface GlobMatcher { test(rel: string): boolean }

/** A matcher for a set of globs (with braces). */
export function globMatcher(globs: string[]): GlobMatcher {
  const res = globs.flatMap(expandBraces).map(globToRegExp);
  return { test: (rel) => res.some((r) => r.test(rel)) };
}

/** Leading path segments without wildcards: where a walk for this (brace-free) glob has to start. */
export function staticPrefix(glob: string): string {
  const segs = glob.split('/');
  const out: string[] = [];
  for (const s of segs) {
    if (/[*?[\]{}]/.test(s)) break;
    out.push(s);
  }
  return out.join('/');
}

/** Compiled .gitignore of one directory (`base`, workspace-relative, '' for the root). */
export interface IgnoreRules { base: string; rules: Array<{ re: RegExp; negate: boolean; dirOnly: boolean }> }

export function parseGitignore(base: string, content: string): IgnoreRules {
  const rules: IgnoreRules['rules'] = [];
  for (let line of content.split(/\r?\n/)) {
    if (!line || line.startsWith('#')) continue;
    line = line.replace(/(?<!\\)\s+$/, '');
    if (!line) continue;
    let negate = false;
    if (line.startsWith('!')) { negate = true; line = line.slice(1); }
    if (line.startsWith('\\')) line = line.slice(1);
    let dirOnly = false;
    if (line.endsWith('/')) { dirOnly = true; line = line.slice(0, -1); }
    if (!line) continue;
    const anchored = line.includes('/');
    if (line.startsWith('/')) line = line.slice(1);
    const pattern = anchored ? line : `**/${line}`;
    try {
      rules.push({ re: globToRegExp(pattern), negate, dirOnly });
    } catch {
      /* an unparsable pattern is skipped */
    }
  }
  return { base, rules };
}

/** Whether `rel` (workspace-relative) is ignored by the stack of .gitignore files from the root down. */
export function isIgnored(stack: IgnoreRules[], rel: string, isDir: boolean): boolean {
  let ignored = false;
  for (const g of stack) {
    let sub: string;
    if (g.base === '') sub = rel;
    else if (rel.startsWith(`${g.base}/`)) sub = rel.slice(g.base.length + 1);
    else continue;
    for (const r of g.rules) {
      if (r.dirOnly && !isDir) continue;
      if (r.re.test(sub)) ignored = !r.negate;
    }
  }
  return ignored;
}
