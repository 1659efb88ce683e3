// Repository paths for tests, wherever the bundled test file runs from (out/test/...).
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

function findRoot(): string {
  let d = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(d, 'package.json')) && existsSync(join(d, 'server'))) return d;
    d = dirname(d);
  }
  return process.cwd();
}

export const ROOT = findRoot();
export const FIXTURES = join(ROOT, 'test', 'fixtures');
export const DIST = join(ROOT, 'dist');

/** The .c files under `dir`, recursively. */
export function cFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((e) => { const p = join(dir, e); return statSync(p).isDirectory() ? cFiles(p) : e.endsWith('.c') ? [p] : []; });
}
