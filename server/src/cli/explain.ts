import { allEntities, findEntity, suggestNames, type Entity } from '../model/index';
import { entityCard, markdownToText } from '../features/hover';
import { CliError, parseArgs, type CliIO } from './io';

/** The JSON shape of one entity for `explain --json` and `fields --json`. */
export function entityJson(e: Entity): Record<string, unknown> {
  const base: Record<string, unknown> = { name: e.name, kind: e.kind, aliases: e.aliases };
  switch (e.kind) {
    case 'vmcs':
      return { ...base, encoding: `0x${e.encoding.toString(16).padStart(4, '0')}`, width: e.width, type: e.type, access: e.access,
        linux: e.linux, vmcs12Member: e.vmcs12?.member ?? null, vmcs12Offset: e.vmcs12?.offset ?? null, readOnly: e.type === 'read-only',
        lifetime: e.lifetime ?? null, meaning: e.meaning, onEntry: e.onEntry ?? null, onExit: e.onExit ?? null,
        undefinedWhen: e.undefinedWhen ?? null, validForExitReasons: e.validForExitReasons ?? null, sources: e.sources };
    case 'vmcb':
      return { ...base, area: e.area, offset: `0x${e.offset.toString(16).padStart(3, '0')}`, size: e.size, cleanBit: e.cleanBit ?? null,
        writtenOnVmexit: e.writtenOnVmexit, vmsaveState: !!e.vmsaveState, meaning: e.meaning, sources: e.sources };
    case 'intctl':
      return { ...base, register: e.register, bit: e.bit, bits: e.bits, mask: `0x${e.mask.toString(16)}`, writeback: e.writeback,
        writebackCondition: e.writebackCondition ?? null, meaning: e.meaning, sources: e.sources };
    case 'msr':
      return { ...base, index: `0x${e.index.toString(16)}`, vmxBitmap: e.vmxBitmap ?? null, svmMsrpm: e.svmMsrpm ?? null, meaning: e.meaning, sources: e.sources };
    case 'exit-reason':
      return { ...base, vendor: e.vendor, code: e.code, meaning: e.meaning, defines: e.defines ?? [], sources: e.sources };
    case 'symbol':
      return { ...base, category: e.category, vendor: e.vendor, container: e.container, bit: e.bit ?? null, value: e.value, meaning: e.meaning,
        nested: e.nested ?? null, capability: e.capability ?? null, exitCode: e.exitCode ?? null, sources: e.sources };
    default:
      return { ...base, meaning: e.meaning, sources: e.sources };
  }
}

export function runExplain(args: string[], io: CliIO): number {
  const { flags, positional } = parseArgs(args, { bool: ['json'] });
  if (positional.length !== 1) throw new CliError('usage: kvm-lens explain NAME [--json]');
  const name = positional[0];
  const e = findEntity(name);
  if (!e) throw new CliError(`unknown name '${name}'. Did you mean: ${suggestNames(name).join(', ')}?`);
  if (flags.has('json')) io.out(JSON.stringify({ ...entityJson(e), card: entityCard(e) }, null, 2));
  else io.out(markdownToText(entityCard(e)));
  return 0;
}

export function runFields(args: string[], io: CliIO): number {
  const { flags } = parseArgs(args, { bool: ['json'] });
  const fields = allEntities().filter((e) => e.kind === 'vmcs' || e.kind === 'vmcb' || e.kind === 'intctl');
  if (flags.has('json')) io.out(JSON.stringify(fields.map(entityJson), null, 1));
  else for (const e of fields) {
    if (e.kind === 'vmcs') io.out(`vmcs  0x${e.encoding.toString(16).padStart(4, '0')}  ${String(e.width).padEnd(7)} ${e.type.padEnd(11)} ${e.name}${e.vmcs12 ? `  (vmcs12.${e.vmcs12.member})` : ''}`);
    else if (e.kind === 'vmcb') io.out(`vmcb  0x${e.offset.toString(16).padStart(3, '0')}   ${String(e.size).padEnd(7)} ${e.area.padEnd(11)} ${e.name}${e.cleanBit ? `  [${e.cleanBit}]` : ''}`);
    else io.out(`bit   ${e.register}:${e.bit}   ${String(e.bits).padEnd(7)} ${e.writeback.padEnd(11)} ${e.name}`);
  }
  return 0;
}
