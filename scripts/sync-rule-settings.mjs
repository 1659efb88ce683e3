// Writes the rule ids of dist/lib.js (RULES) into package.json as `kvmLens.rules` properties, so VS Code's Settings
// offers each rule with its severities. Run after adding a rule: `npm run build && node scripts/sync-rule-settings.mjs`.
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { RULES } = require('../dist/lib.js');
const path = new URL('../package.json', import.meta.url);
const pkg = JSON.parse(readFileSync(path, 'utf8'));
const severity = { type: 'string', enum: ['error', 'warning', 'info', 'hint', 'off'], enumDescriptions: ['Error', 'Warning', 'Information', 'Hint', 'Do not report'] };
const properties = {};
for (const r of RULES) {
  properties[r.id] = { ...severity, markdownDescription: `${r.description} (default: \`${r.defaultSeverity}\`). [docs/rules.md](https://github.com/kvm-lens/kvm-lens/blob/main/docs/rules.md#${r.id})` };
}
const rules = pkg.contributes.configuration.properties['kvmLens.rules'];
rules.properties = properties;
rules.additionalProperties = severity;
writeFileSync(path, `${JSON.stringify(pkg, null, 2)}\n`);
console.log(`kvmLens.rules: ${Object.keys(properties).length} rules`);
