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
