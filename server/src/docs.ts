// Where a rule's documentation lives: docs/rules.md shipped next to the bundles (repository checkout or .vsix),
// as a file: URI; the public repository page when the file is not there. Glue for the server and the CLI.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const PUBLIC_BASE = 'https://github.com/kvm-lens/kvm-lens/blob/main/docs/rules.md#';

let base: string | undefined;

export function ruleDocBase(): string {
  if (base === undefined) {
    const here = typeof __dirname === 'string' ? __dirname : process.cwd();
    const local = [join(here, '..', 'docs', 'rules.md'), join(here, '..', '..', 'docs', 'rules.md')].find((p) => existsSync(p));
    base = local ? `${pathToFileURL(local).href}#` : PUBLIC_BASE;
  }
  return base;
}

export function ruleDocUri(rule: string): string {
  return `${ruleDocBase()}${rule}`;
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
