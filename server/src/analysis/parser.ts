// tree-sitter C parser, loaded once. The wasm files come from installed npm packages (web-tree-sitter,
// tree-sitter-c); the bundles also carry copies in dist/ so the packaged extension needs no node_modules.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Language, Parser, type Tree } from 'web-tree-sitter';
import { applyMask, parseMask, type Mask } from './parseMask';

let ready: Promise<void> | undefined;
let language: Language | undefined;

function candidates(file: string, pkgFile: string): string[] {
  const out: string[] = [];
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    out.push(require.resolve(pkgFile));
  } catch {
    /* not installed next to us: fall back to the bundled copy */
  }
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  out.push(join(here, file), join(here, '..', 'dist', file), join(here, '..', '..', 'dist', file), join(process.cwd(), 'dist', file));
  return out;
}

function locate(file: string, pkgFile: string): string {
  for (const c of candidates(file, pkgFile)) if (existsSync(c)) return c;
  throw new Error(`kvm-lens: cannot find ${file} (looked in ${candidates(file, pkgFile).join(', ')})`);
}

/** Load the runtime and the C grammar once; later calls return the same promise. */
export function initParser(): Promise<void> {
  if (!ready) {
    ready = (async () => {
      const runtime = locate('tree-sitter.wasm', 'web-tree-sitter/tree-sitter.wasm');
      await Parser.init({ locateFile: () => runtime });
      language = await Language.load(locate('tree-sitter-c.wasm', 'tree-sitter-c/tree-sitter-c.wasm'));
    })();
  }
  return ready;
}

export function isParserReady(): boolean {
  return language !== undefined;
}

let shared: Parser | undefined;

/** A parser for the C grammar; initParser() must have resolved. */
export function cParser(): Parser {
  if (!language) throw new Error('kvm-lens: parser used before initParser() resolved');
  if (!shared) {
    shared = new Parser();
    shared.setLanguage(language);
  }
  return shared;
}

/** Characters handed to the parser per read: web-tree-sitter copies at most 10 KiB of UTF-16 (5 120 units) per callback. */
const CHUNK = 5119;

/** The read at `i`: up to CHUNK characters, never ending between the two halves of a surrogate pair. */
function chunkAt(text: string, i: number): string {
  if (i >= text.length) return '';
  let end = Math.min(text.length, i + CHUNK);
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff && end < text.length) end++;
  return text.slice(i, end);
}

/**
 * Parse `text` (re-using `old`, already edited, if given). The parser reads the text with `mask` (parseMask.ts: a few
 * kernel constructs the C grammar cannot parse, blanked); the tree's own reader, behind Node.text, is the real text.
 */
export function parseC(text: string, old?: Tree, mask: Mask = parseMask(text)): Tree {
  // Bounded chunks rather than the string: for a string, web-tree-sitter slices the whole rest of the text on every
  // read, which an incremental re-parse (many short reads at scattered offsets) pays for on each edit.
  const read = (i: number): string => chunkAt(text, i);
  const tree = cParser().parse(mask.length ? (i: number) => applyMask(chunkAt(text, i), i, mask) : read, old ?? null);
  if (!tree) throw new Error('kvm-lens: tree-sitter returned no tree');
  (tree as unknown as { textCallback: (i: number) => string }).textCallback = read;
  return tree;
}
