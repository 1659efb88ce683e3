// Where a rule's documentation lives: its own section of docs/rules.md shipped next to the bundles (repository
// checkout or .vsix), as a file: URI with a `#L<line>` fragment (VS Code and most editors open the file at that
// line); the public repository page with the section's anchor when the file is not there. Glue for the server and
// the CLI.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const PUBLIC_BASE = 'https://github.com/kvm-lens/kvm-lens/blob/main/docs/rules.md#';

let base: string | undefined;
let sections: Map<string, number> | undefined;

function localRulesFile(): string | undefined {
  const here = typeof __dirname === 'string' ? __dirname : process.cwd();
  return [join(here, '..', 'docs', 'rules.md'), join(here, '..', '..', 'docs', 'rules.md')].find((p) => existsSync(p));
}

export function ruleDocBase(): string {
  if (base === undefined) {
    const local = localRulesFile();
    base = local ? `${pathToFileURL(local).href}#` : PUBLIC_BASE;
    sections = new Map();
    if (local) {
      try {
        readFileSync(local, 'utf8').split('\n').forEach((l, i) => {
          const m = /^#{2,3}\s+`?([a-z0-9-]+)`?\s*$/.exec(l);
          if (m && !sections!.has(m[1])) sections!.set(m[1], i + 1);
        });
      } catch { /* unreadable: links go to the top */ }
    }
  }
  return base;
}

/** Link to the rule's section: `…/rules.md#L34` for the shipped file, `…/rules.md#vmcs-undefined-read` online. */
export function ruleDocUri(rule: string): string {
  const b = ruleDocBase();
  if (b === PUBLIC_BASE) return `${b}${rule}`;
  const line = sections?.get(rule);
  return line ? `${b}L${line}` : b.slice(0, -1);
}

let helpBase: string | undefined;

/**
 * Base of SARIF `helpUri`s: dist/rules.html (generated from docs/rules.md at build time, one `id` per rule) as a
 * file: URL, so `…/rules.html#vmcs-width` opens at the rule in a browser; docs/rules.md when the HTML is missing.
 * Not https: the project has no public documentation site (package.json's repository is a placeholder).
 */
export function ruleHelpBase(): string {
  if (helpBase === undefined) {
    const here = typeof __dirname === 'string' ? __dirname : process.cwd();
    const html = [join(here, 'rules.html'), join(here, '..', 'dist', 'rules.html')].find((p) => existsSync(p));
    helpBase = html ? `${pathToFileURL(html).href}#` : ruleDocBase();
  }
  return helpBase;
}
