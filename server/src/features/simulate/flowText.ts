// Reading a written flow's text: MSR operations (`WRMSR IA32_XFD <- 0x40000`), VMCS fields and values of
// VMWRITE lines, and the machine configuration from `# config:` lines. Used by flow.ts, which re-exports it.
import {
  DEFAULT_CONFIG, XFD_INDEX, XFEATURE_XTILEDATA, hex, msrByIndex, msrByName, vmcsField, PAGING_MODES,
  type MachineConfig, type MsrOp, type PagingMode,
} from '../../model/machine/index';
import type { SimFinding } from '../../protocol/simulation';
import type { FlowLine } from './flowParse';

export function msrName(index: number): string {
  return (msrByIndex(index)?.name ?? `MSR ${hex(BigInt(index))}`).replace(/^MSR_/, '');
}

export function findMsrIn(text: string): number | undefined {
  const hexm = /\b(?:msr\s*)?(0x[0-9a-f]{2,8})\b/i.exec(text);
  for (const m of text.matchAll(/\b(?:MSR_)?((?:IA32_)?[A-Z][A-Z0-9_]{2,})\b/g)) {
    const info = msrByName(m[0]) ?? msrByName(`MSR_${m[1]}`) ?? msrByName(`MSR_IA32_${m[1]}`);
    if (info) return info.index;
  }
  if (/\bxfd_err\b/i.test(text)) return msrByName('MSR_IA32_XFD_ERR')?.index;
  if (/\bxfd\b/i.test(text)) return XFD_INDEX;
  return hexm ? Number(hexm[1]) : undefined;
}

/** "enables AMX" → XFD[18] = 0; "disables AMX" → XFD[18] = 1. */
export function xfdValueFromPhrase(t: string): bigint | undefined {
  if (/\bdisabl\w*\s+(the\s+)?amx|amx\s+disabl|xtiledata\s+disabl|\bset\w*\s+(xfd\s*)?\[?18/.test(t)) return XFEATURE_XTILEDATA;
  if (/\benabl\w*\s+(the\s+)?amx|amx\s+enabl|xtiledata\s+enabl|\bclear\w*\s+(xfd\s*)?\[?18/.test(t)) return 0n;
  return undefined;
}

export function parseMsrOp(text: string): { op: MsrOp; index: number; value?: bigint } | undefined {
  const m = /\b(wrmsr|rdmsr)\w*\b/i.exec(text);
  if (!m) return undefined;
  const op: MsrOp = m[1].toLowerCase() === 'wrmsr' ? 'write' : 'read';
  const rest = text.slice(m.index + m[0].length);
  const index = findMsrIn(rest) ?? findMsrIn(text);
  if (index === undefined) return undefined;
  const v = /(?:,|<-|=|:=|\bvalue\b)\s*(0x[0-9a-f]+|\d+)\b/i.exec(rest);
  let value = v ? BigInt(v[1]) : undefined;
  if (value === undefined && index === XFD_INDEX) value = xfdValueFromPhrase(text.toLowerCase());
  return value === undefined ? { op, index } : { op, index, value };
}

/** The value of `VMWRITE FIELD, 0x1234` / `VMWRITE FIELD 0x1234` / `VMWRITE FIELD <- 0x1234` (after the field name). */
export function vmwriteValue(text: string, field: string | undefined): RegExpExecArray | null {
  const at = field ? text.indexOf(field) + field.length : 0;
  return /^\s*(?:,|<-|=)?\s*(0x[0-9a-f]+|\d+)\b/i.exec(text.slice(at));
}

export function parseVmcsField(text: string): string | undefined {
  for (const m of text.matchAll(/\b[A-Z][A-Z0-9_]{3,}\b/g)) if (vmcsField(m[0])) return m[0];
  return undefined;
}

const BOOL: Record<string, boolean> = { on: true, yes: true, true: true, '1': true, off: false, no: false, false: false, '0': false };

/** Configuration from `# config:` lines plus what the text implies (SVM instructions, (L2) tags). */
export function flowConfig(lines: FlowLine[], text: string, issues: SimFinding[]): MachineConfig {
  const cfg: MachineConfig = { ...DEFAULT_CONFIG };
  if (/\b(vmrun|vmcb\w*|stgi|clgi|vmsave|vmload|#vmexit|msrpm)\b/i.test(text)) cfg.vendor = 'svm';
  if (lines.some((l) => l.kind === 'tagged' && l.tag === 'L2')) cfg.nested = true;
  for (const l of lines) {
    if (l.kind !== 'config') continue;
    for (const [k, v] of l.pairs) {
      const b = BOOL[v];
      switch (k) {
        case 'vendor': if (v === 'vmx' || v === 'svm') cfg.vendor = v; else bad(l.line, k, v); break;
        case 'ept': case 'npt': case 'tdp': if (b !== undefined) cfg.ept = b; else bad(l.line, k, v); break;
        case 'paging': if ((PAGING_MODES as readonly string[]).includes(v)) cfg.paging = v as PagingMode; else bad(l.line, k, v); break;
        case 'nested':
          if (b !== undefined) cfg.nested = b;
          else { cfg.nested = true; for (const f of v.split(/[+|/]/)) applyFeature(f, true); }
          break;
        case 'nested_ept': case 'nested-ept': case 'nested_npt': if (b !== undefined) cfg.nestedEpt = b; else bad(l.line, k, v); break;
        case 'amx': if (b !== undefined) cfg.amx = b; else bad(l.line, k, v); break;
        case 'cpus': if (/^\d+$/.test(v)) cfg.cpus = Number(v); else bad(l.line, k, v); break;
        default:
          if (b !== undefined && applyFeature(k, b)) break;
          issues.push({ line: l.line, severity: 'info', rule: 'flow-config', message: `unknown config key "${k}" (known: vendor, ept, npt, paging, nested, nested_ept, amx, vgif, vnmi, v_intr_masking, vmwrite_any_field, msr_bitmaps, cpus)` });
      }
    }
  }
  return cfg;

  function applyFeature(f: string, on: boolean): boolean {
    switch (f.replace(/-/g, '_')) {
      case 'ept': case 'nested_ept': case 'npt': cfg.nestedEpt = on; return true;
      case 'vgif': cfg.vgif = on; return true;
      case 'vnmi': cfg.vnmi = on; return true;
      case 'v_intr_masking': case 'vintr_masking': cfg.vIntrMasking = on; return true;
      case 'vmwrite_any_field': case 'vmwrite_any': cfg.vmwriteAnyField = on; return true;
      case 'msr_bitmaps': case 'msr_bitmap': case 'msr_prot': cfg.useMsrBitmaps = on; return true;
      case 'amx': cfg.amx = on; return true;
      default: return false;
    }
  }
  function bad(line: number, k: string, v: string): void {
    issues.push({ line, severity: 'warning', rule: 'flow-config', message: `bad value "${v}" for config key "${k}"` });
  }
}
