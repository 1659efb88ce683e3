// Executes a written flow (seed 004 notation) on the machine, line by line. The model decides every transition
// itself (does this WRMSR exit? is the fpstate big enough?) and checks the ones the author wrote.
import {
  DEFAULT_CONFIG, Machine, hwMsrName, XFD_INDEX, XFEATURE_XTILEDATA, displayLocation, formatCell, hex, msrByIndex, msrByName,
  registersFor, valueCell, vmcsField, PAGING_MODES,
  type MachineConfig, type MachineLevel, type MsrOp, type PagingMode,
} from '../../model/machine/index';
import type { Actor, SimFinding, SimStep, SimulationResult } from '../../protocol/simulation';
import { parseFlowLines, type FlowLine, type FlowTag } from './flowParse';

interface PendingExit { line: number; reason: string; code?: number; what: string; msr?: { op: MsrOp; index: number; value?: bigint } }

const GUEST_TAGS = new Set<FlowTag>(['G', 'L1', 'L2']);

class FlowRun {
  readonly m: Machine;
  readonly steps: SimStep[] = [];
  readonly findings: SimFinding[] = [];
  private pending?: PendingExit;
  /** The last guest instruction the model executed (for checking a written trap). */
  private lastGuest?: { line: number; op: string; exited: boolean; why: string };
  /** Guest MSR write that trapped and is being emulated by the host. */
  private trapped?: { index: number; value?: bigint; line: number };
  private passthroughLine?: number;
  private firstDirectXfdLine?: number;
  private synced = false;

  constructor(cfg: MachineConfig) {
    this.m = new Machine(cfg);
    this.m.level = cfg.nested ? 'L2' : 'L1';
  }

  /** The vCPU starts where the flow's first tagged line runs: (L1) in L1 even on a nested config, (HK) in the host. */
  startAt(tag: FlowTag | undefined): void {
    if (tag === 'L1') this.m.level = 'L1';
    else if (tag === 'L2') this.m.level = 'L2';
    else if (tag === 'HK') this.m.level = 'L0';
    else if (tag === 'HU') this.m.level = 'HU';
  }

  private get guestLevel(): 'L1' | 'L2' {
    return this.m.cfg.nested ? 'L2' : 'L1';
  }

  find(line: number, severity: SimFinding['severity'], rule: string, message: string): void {
    this.findings.push({ line, severity, rule, message });
  }

  /** Run `fn` as one step on `line`; collects the machine's changes and findings. */
  step(line: number, actor: Actor, op: string, fn: () => { vmExit?: boolean; explanation?: string; source?: string } | void, simulated = true): SimStep {
    this.m.begin(this.steps.length + 1);
    const r = fn() ?? {};
    const s: SimStep = {
      index: this.steps.length + 1, line, actor, op, simulated,
      changes: this.m.changes.map((c) => ({ ...c, location: displayLocation(c.location) })),
      level: this.m.level,
    };
    if (r.vmExit !== undefined) s.vmExit = r.vmExit;
    if (r.explanation) s.explanation = r.explanation;
    if (r.source) s.source = r.source;
    this.steps.push(s);
    for (const f of this.m.findings) this.find(line, f.severity, f.rule, f.source ? `${f.message} [${f.source}]` : f.message);
    return s;
  }

  narration(line: number, actor: Actor, text: string): void {
    this.step(line, actor, text, () => undefined, false);
  }

  // ---- transitions ------------------------------------------------------------------------------------------------

  vmExit(line: number, written: boolean, reason?: string, code?: number): void {
    const vendor = this.m.cfg.vendor;
    this.step(line, 'HW', `${vendor === 'vmx' ? 'VM exit' : '#VMEXIT'}${reason ? ` (${reason})` : ''}${written ? '' : ' [inserted by the model]'}`, () => {
      if (vendor === 'vmx') this.m.vmxExit(code);
      else this.m.svmVmexit(code);
      return {
        explanation: `${this.m.exitedFromL2 ? 'L2' : 'guest'} → L0: guest state saved, exit information recorded, host state loaded${vendor === 'svm' ? ', GIF cleared' : ''}`,
        source: Machine.source(vendor === 'vmx' ? 'vmexit' : 'vmexit-svm'),
      };
    });
  }

  vmEntry(line: number, target: 'L1' | 'L2', written: boolean): void {
    const vendor = this.m.cfg.vendor;
    this.step(line, 'HW', `${vendor === 'vmx' ? 'VM entry' : 'VMRUN'} into ${target}${written ? '' : ' [inserted by the model]'}`, () => {
      if (vendor === 'vmx') this.m.vmxEntry(target);
      else this.m.svmVmrun(target);
      return { explanation: `guest state loaded from ${vendor === 'vmx' ? (target === 'L2' ? 'vmcs02' : 'vmcs01') : (target === 'L2' ? 'vmcb02' : 'vmcb01')}`, source: Machine.source(vendor === 'vmx' ? 'vmentry' : 'vmrun') };
    });
  }

  /** A written line needs the vCPU in `want`; if it is elsewhere, report and let the model move it there. */
  ensureLevel(line: number, want: 'host' | 'user' | 'guest', label: string): void {
    const lvl = this.m.level;
    const isGuest = lvl === 'L1' || lvl === 'L2';
    if (want === 'guest' && isGuest) return;
    if (want === 'host' && lvl === 'L0') return;
    if (want === 'user' && lvl === 'HU') return;
    if (want === 'host' && isGuest) {
      if (this.pending) { this.resolvePendingExit(line, false); return; }
      this.find(line, 'warning', 'flow-missing-transition', `${label} runs in the host kernel, but the vCPU is still in the guest: a trap/VM exit transition is missing before this line`);
      this.vmExit(line, false);
      return;
    }
    if (want === 'guest') {
      if (lvl === 'HU') this.step(line, 'HU', 'KVM_RUN ioctl [inserted by the model]', () => { this.m.level = 'L0'; });
      this.find(line, 'warning', 'flow-missing-transition', `${label} runs in the guest, but the vCPU is in ${lvl === 'HU' ? 'host user space' : 'the host kernel'}: an "--enter guest--" transition is missing before this line`);
      this.vmEntry(line, this.guestLevel, false);
      return;
    }
    if (want === 'user') {
      this.find(line, 'warning', 'flow-missing-transition', `${label} runs in host user space, but the vCPU is ${isGuest ? 'in the guest' : 'in the host kernel'}: "--exit to userspace--" is missing before this line`);
      if (isGuest) this.vmExit(line, false);
      this.step(line, 'KVM', 'return to user space [inserted by the model]', () => { this.m.level = 'HU'; });
      return;
    }
    // want host, in user space
    this.find(line, 'warning', 'flow-missing-transition', `${label} runs in the host kernel, but the vCPU is in host user space: "--back to kernel via kvm_run--" is missing before this line`);
    this.step(line, 'HU', 'KVM_RUN ioctl [inserted by the model]', () => { this.m.level = 'L0'; });
  }

  /** The guest did something the model says exits, and the next line is not a trap. */
  private resolvePendingExit(nextLine: number, continuesInGuest: boolean): void {
    const p = this.pending!;
    this.pending = undefined;
    this.find(p.line, 'warning', 'flow-missing-trap',
      `the model says ${p.what} causes a VM exit (${p.reason}), but the flow ${continuesInGuest ? 'continues in the guest' : 'has no trap'} after it`);
    this.vmExit(nextLine, false, p.reason, p.code);
    if (p.msr && p.msr.op === 'write') {
      this.trapped = { index: p.msr.index, value: p.msr.value, line: p.line };
      if (continuesInGuest) {
        this.step(nextLine, 'KVM', `emulate WRMSR ${msrName(p.msr.index)} [inserted by the model]`, () => {
          const r = this.m.emulateWrmsr(p.msr!.index, p.msr!.value);
          if (r.fpstate === 'too-small') { this.m.reallocFpstate(); this.m.completeWrmsr(); }
        });
      }
    }
    if (continuesInGuest) this.vmEntry(nextLine, this.guestLevel, false);
  }

  transition(l: Extract<FlowLine, { kind: 'transition' }>): void {
    const t = l.transition;
    if (!t) { this.narration(l.line, 'KVM', `--${l.text}--`); return; }
    const lvl = this.m.level;
    const inGuest = lvl === 'L1' || lvl === 'L2';
    switch (t) {
      case 'exit': case 'exit-to-l1': {
        if (!inGuest) {
          this.find(l.line, 'warning', 'flow-unexpected-trap', `"--${l.text}--" but the vCPU is not in a guest (it is in ${lvl === 'HU' ? 'host user space' : 'the host kernel'})`);
          this.narration(l.line, 'HW', `--${l.text}-- (no guest running)`);
          return;
        }
        const p = this.pending;
        this.pending = undefined;
        if (!p && this.lastGuest && !this.lastGuest.exited) {
          this.find(l.line, 'warning', 'flow-unexpected-trap',
            `"--${l.text}--" is written, but the model says the preceding ${this.lastGuest.op} (line ${this.lastGuest.line}) does not exit: ${this.lastGuest.why}`);
        }
        if (p?.msr?.op === 'write') this.trapped = { index: p.msr.index, value: p.msr.value, line: p.line };
        this.vmExit(l.line, true, p?.reason ?? (this.lastGuest && !this.lastGuest.exited ? 'no exit condition in the model; reason not stated' : 'reason not stated'), p?.code);
        this.lastGuest = undefined;
        if (t === 'exit-to-l1') this.reflectToL1(l.line);
        return;
      }
      case 'to-user':
        if (this.pending) this.resolvePendingExit(l.line, false);
        if (this.m.level !== 'L0') this.ensureLevel(l.line, 'host', `"--${l.text}--"`);
        this.step(l.line, 'KVM', 'exit to user space (KVM_RUN returns)', () => {
          this.m.hostUsesFpstate('exit to user space');
          this.m.level = 'HU';
        });
        return;
      case 'to-kernel':
        if (lvl !== 'HU') this.find(l.line, 'warning', 'flow-unexpected-transition', `"--${l.text}--" but the vCPU is not in host user space`);
        this.step(l.line, 'HU', 'KVM_RUN ioctl: back to the host kernel', () => { this.m.level = 'L0'; });
        return;
      case 'enter': case 'enter-l2': {
        if (this.pending) this.resolvePendingExit(l.line, false);
        if (inGuest) {
          this.find(l.line, 'warning', 'flow-unexpected-transition', `"--${l.text}--" but the vCPU is already in the guest`);
          this.narration(l.line, 'HW', `--${l.text}--`);
          return;
        }
        if (lvl === 'HU') this.ensureLevel(l.line, 'host', `"--${l.text}--"`);
        const target: 'L1' | 'L2' = t === 'enter-l2' || (this.m.cfg.nested && this.m.level === 'L0' && !/\bl1\b/i.test(l.text)) ? 'L2' : 'L1';
        if (this.trapped && this.m.pendingWrmsr) {
          this.find(l.line, 'info', 'flow-incomplete-emulation', `the guest is re-entered while the WRMSR from line ${this.trapped.line} is still waiting for completion`);
        }
        this.vmEntry(l.line, target, true);
        return;
      }
      case 'migrate':
        this.step(l.line, 'KVM', `vCPU migrates to another physical CPU`, () => {
          this.m.migrate();
          return { explanation: 'per-CPU host state (HOST_TR_BASE, HOST_GDTR_BASE) must be rewritten for the new CPU (vmx_vcpu_load_vmcs)', source: Machine.source('migrate') };
        });
        return;
    }
  }

  private reflectToL1(line: number): void {
    this.step(line, 'KVM', this.m.cfg.vendor === 'vmx' ? 'nested_vmx_vmexit: sync vmcs02 → vmcs12, load vmcs12 host state' : 'nested_svm_vmexit: sync vmcb02 → vmcb12, GIF = 0', () => {
      if (this.m.cfg.vendor === 'vmx') this.m.nestedVmxVmexit();
      else this.m.nestedSvmVmexit();
      return { source: Machine.source(this.m.cfg.vendor === 'vmx' ? 'vmexit' : 'vmexit-svm') };
    });
  }

  // ---- tagged lines -----------------------------------------------------------------------------------------------

  tagged(l: Extract<FlowLine, { kind: 'tagged' }>): void {
    const text = l.text.trim();
    if (GUEST_TAGS.has(l.tag)) {
      if (this.pending) this.resolvePendingExit(l.line, true);
      if (l.tag === 'L2' && !this.m.cfg.nested) this.find(l.line, 'info', 'flow-config', '(L2) line in a flow without nested=on; treating the guest as L2 of a nested setup is not possible, simulated as the guest');
      this.ensureLevel(l.line, 'guest', `(${l.tag}) line`);
      this.guestOp(l.line, l.tag, text);
      return;
    }
    if (l.tag === 'HU') {
      if (this.pending) this.resolvePendingExit(l.line, false);
      this.ensureLevel(l.line, 'user', '(HU) line');
      this.narration(l.line, 'HU', text);
      return;
    }
    if (this.pending) this.resolvePendingExit(l.line, false);
    this.ensureLevel(l.line, 'host', '(HK) line');
    this.hostOp(l.line, text);
  }

  private guestOp(line: number, tag: FlowTag, text: string): void {
    const actor: Actor = tag;
    const msr = parseMsrOp(text);
    if (msr) {
      const d = this.m.msrExits(msr.op, msr.index);
      const what = `${msr.op === 'write' ? 'WRMSR' : 'RDMSR'} ${msrName(msr.index)}${msr.value !== undefined ? ` <- ${hex(msr.value)}` : ''}`;
      this.step(line, actor, what, () => {
        if (!d.exit) this.m.guestMsrDirect(msr.op, msr.index, msr.value);
        return { vmExit: d.exit, explanation: d.exit ? `exits: ${d.why}` : `no exit: ${d.why}; the guest accesses the MSR directly`, source: d.source };
      });
      if (!d.exit && msr.op === 'write' && msr.index === XFD_INDEX) this.firstDirectXfdLine ??= line;
      this.lastGuest = { line, op: what, exited: d.exit, why: d.why };
      if (d.exit) {
        const vmx = this.m.cfg.vendor === 'vmx';
        this.pending = { line, what, msr, reason: vmx ? (msr.op === 'write' ? 'EXIT_REASON_MSR_WRITE (32)' : 'EXIT_REASON_MSR_READ (31)') : `SVM_EXIT_MSR (0x7c), EXITINFO1 = ${msr.op === 'write' ? 1 : 0}`, code: vmx ? (msr.op === 'write' ? 32 : 31) : 0x7c };
      }
      return;
    }
    const cr = /\bmov\s+(?:to\s+)?cr([04])\b|\bcr([04])\s*(?:<-|=|:=)|\b(set|clear)s?\s+cr([04])\.(\w+)/i.exec(text);
    if (cr) { this.guestCrWrite(line, actor, text, Number(cr[1] ?? cr[2] ?? cr[4])); return; }
    const vmx = /\b(vmwrite|vmread|vmlaunch|vmresume|vmrun|stgi|clgi|vmsave|vmload)\b/i.exec(text);
    if (vmx) { this.guestVirtInsn(line, tag, vmx[1].toLowerCase(), text); return; }
    if (/\b(amx|tile\w*|tmul|xsave\w*|ldtilecfg|tileloadd)\b/i.test(text) && !/wrmsr|xfd/i.test(text)) {
      const xfd = this.m.get('hw.IA32_XFD').n ?? 0n;
      const armed = (xfd & XFEATURE_XTILEDATA) !== 0n;
      const nmIntercepted = armed && this.m.xfdPassthrough;
      this.step(line, actor, `use AMX (${text})`, () => ({
        vmExit: nmIntercepted,
        explanation: !armed ? 'IA32_XFD[18] = 0: AMX instructions execute without a fault' :
          nmIntercepted ? 'IA32_XFD[18] = 1: #NM (XFD fault); KVM intercepts #NM while XFD is passed through, to read XFD_ERR' :
            'IA32_XFD[18] = 1: #NM delivered to the guest (KVM does not intercept #NM while it intercepts XFD writes)',
        source: Machine.source('xfd'),
      }));
      this.lastGuest = { line, op: 'AMX use', exited: nmIntercepted, why: armed ? '#NM not intercepted' : 'no fault' };
      if (nmIntercepted) this.pending = { line, what: 'AMX use with IA32_XFD[18] = 1', reason: 'EXIT_REASON_EXCEPTION_NMI (0), #NM', code: 0 };
      return;
    }
    if (/\b(cpuid|hlt|vmcall|vmmcall)\b/i.test(text)) {
      const insn = /\b(cpuid|hlt|vmcall|vmmcall)\b/i.exec(text)![1].toUpperCase();
      const code = this.m.cfg.vendor === 'vmx' ? { CPUID: 10, HLT: 12, VMCALL: 18, VMMCALL: 18 }[insn] : { CPUID: 0x72, HLT: 0x78, VMCALL: 0x81, VMMCALL: 0x81 }[insn];
      this.step(line, actor, insn, () => ({ vmExit: true, explanation: `${insn} exits unconditionally (KVM intercepts it)`, source: Machine.source(this.m.cfg.vendor === 'vmx' ? 'vmexit' : 'vmexit-svm') }));
      this.lastGuest = { line, op: insn, exited: true, why: 'unconditional' };
      this.pending = { line, what: insn, reason: insn, code };
      return;
    }
    this.narration(line, actor, text);
    this.lastGuest = undefined;
  }

  private guestCrWrite(line: number, actor: Actor, text: string, crn: number): void {
    const t = text.toLowerCase();
    let mode: PagingMode | undefined;
    for (const p of PAGING_MODES) if (t.includes(p)) mode = p;
    const val = /0x[0-9a-f]+/i.exec(text);
    if (!mode && crn === 4 && /pae/.test(t)) mode = /clear/.test(t) ? '32-bit' : 'pae';
    if (!mode && crn === 0 && /\bpg\b/.test(t)) mode = /clear/.test(t) ? 'none' : (this.m.cfg.paging === 'none' ? 'pae' : this.m.cfg.paging);
    if (!mode && val) {
      const v = BigInt(val[0]);
      const regs = registersFor(this.m.cfg.paging);
      const cr0 = crn === 0 ? v : regs.cr0;
      const cr4 = crn === 4 ? v : regs.cr4;
      mode = !((cr0 >> 31n) & 1n) ? 'none' : !((cr4 >> 5n) & 1n) ? '32-bit' : regs.efer ? ((cr4 >> 12n) & 1n ? '5-level' : '4-level') : 'pae';
    }
    const changesMode = mode !== undefined && mode !== this.m.cfg.paging;
    // KVM owns CR0.PG/PE/CD/NW and CR4.PAE/PSE/LA57 (not in KVM_POSSIBLE_CR0/CR4_GUEST_BITS) → writes changing them exit.
    const exits = changesMode || mode === undefined;
    this.step(line, actor, `MOV to CR${crn}${val ? ` <- ${val[0]}` : ''}`, () => {
      if (mode && !exits) return { vmExit: false, explanation: 'only guest-owned bits change' };
      return {
        vmExit: exits,
        explanation: exits ? `exits: CR${crn} bits owned by the host change (guest/host mask; KVM keeps PG/PE/PAE/PSE/LA57 host-owned)${mode ? `; paging mode becomes ${mode}` : ''}` : 'no exit',
        source: 'Intel SDM Vol.3C §25.6.6 (guest/host masks and read shadows for CR0 and CR4); Linux arch/x86/kvm/kvm_cache_regs.h KVM_POSSIBLE_CR0_GUEST_BITS/KVM_POSSIBLE_CR4_GUEST_BITS',
      };
    });
    if (mode) this.m.cfg.paging = mode;
    this.lastGuest = { line, op: `MOV to CR${crn}`, exited: exits, why: 'only guest-owned bits change' };
    if (exits) this.pending = { line, what: `MOV to CR${crn}`, reason: this.m.cfg.vendor === 'vmx' ? 'EXIT_REASON_CR_ACCESS (28)' : `SVM_EXIT_WRITE_CR${crn}`, code: this.m.cfg.vendor === 'vmx' ? 28 : 0x10 + crn };
  }

  private guestVirtInsn(line: number, tag: FlowTag, insn: string, text: string): void {
    // VMX/SVM instructions executed by a guest (L1) always exit to L0, which emulates them (nested virtualization).
    const vendor = this.m.cfg.vendor;
    if (insn === 'vmwrite' || insn === 'vmread') {
      const field = parseVmcsField(text);
      const val = vmwriteValue(text, field);
      this.step(line, tag, `${insn.toUpperCase()} ${field ?? '?'}${val ? `, ${val[1]}` : ''}`, () => {
        if (!field) return { vmExit: true, explanation: 'VMCS field not recognised' };
        if (insn === 'vmread') {
          const c = this.m.vmread('vmcs12', field);
          if (c.status !== 'value') this.m.finding('vmread-undefined', 'info', `VMREAD ${field} returns ${formatCell(c)}`);
          return { vmExit: true, explanation: `exits (VMREAD, reason 23); KVM emulates it from vmcs12: ${formatCell(c)}`, source: Machine.source('vmwrite') };
        }
        const err = this.m.vmwrite('vmcs12', field, valueCell(val ? BigInt(val[1]) : undefined, `written by ${tag}`));
        if (err) this.m.finding('vmwrite-fails', 'info', `VMWRITE ${field} fails: VMfailValid, VM-instruction error ${err}${err === 13 ? ' (read-only component; IA32_VMX_MISC[29] "VMWRITE to any field" not enabled)' : ' (unsupported component)'}`, Machine.source('vmwrite'));
        return { vmExit: true, explanation: `exits (VMWRITE, reason 25); KVM emulates it on vmcs12: ${err ? `VMfailValid error ${err}` : 'success'}`, source: Machine.source('vmwrite') };
      });
      this.lastGuest = undefined;
      this.step(line, 'KVM', `${insn === 'vmwrite' ? 'handle_vmwrite' : 'handle_vmread'} + resume L1 [model]`, () => undefined);
      return;
    }
    if (insn === 'vmlaunch' || insn === 'vmresume' || insn === 'vmrun') {
      if (!this.m.cfg.nested) this.find(line, 'info', 'flow-config', `${insn.toUpperCase()} executed by the guest: simulated as nested virtualization (set "# config: nested=on" to make this explicit)`);
      this.m.cfg.nested = true;
      this.step(line, tag, insn.toUpperCase(), () => ({ vmExit: true, explanation: `exits to L0 (${vendor === 'vmx' ? `reason ${insn === 'vmlaunch' ? 20 : 24}` : 'SVM_EXIT_VMRUN'}); KVM emulates the nested entry` }));
      this.vmExit(line, false, insn.toUpperCase(), vendor === 'vmx' ? (insn === 'vmlaunch' ? 20 : 24) : 0x80);
      this.step(line, 'KVM', vendor === 'vmx' ? 'prepare_vmcs02' : 'nested_vmcb02_prepare_control', () => {
        if (vendor === 'vmx') this.m.prepareVmcs02();
        else this.m.nestedVmcb02PrepareControl();
      });
      this.vmEntry(line, 'L2', false);
      this.lastGuest = undefined;
      return;
    }
    if (insn === 'stgi' || insn === 'clgi') {
      const vgif = ((this.m.get(`${this.m.currentVmcb()}.int_ctl`).n ?? 0n) & (1n << 25n)) !== 0n;
      this.step(line, tag, insn.toUpperCase(), () => {
        if (vgif) { if (insn === 'stgi') this.m.stgi(); else this.m.clgi(); }
        return { vmExit: !vgif, explanation: vgif ? 'vGIF enabled: updates V_GIF without an exit' : 'intercepted by KVM (no vGIF)', source: Machine.source('gif') };
      });
      this.lastGuest = { line, op: insn.toUpperCase(), exited: !vgif, why: 'vGIF' };
      if (!vgif) this.pending = { line, what: insn.toUpperCase(), reason: `SVM_EXIT_${insn.toUpperCase()}`, code: insn === 'stgi' ? 0x84 : 0x85 };
      return;
    }
    // vmsave/vmload by a guest: intercepted unless virtual VMLOAD/VMSAVE.
    this.step(line, tag, insn.toUpperCase(), () => ({ vmExit: true, explanation: 'intercepted (virtual VMLOAD/VMSAVE not modelled as enabled)', source: Machine.source('vmsave') }));
    this.pending = { line, what: insn.toUpperCase(), reason: `SVM_EXIT_${insn.toUpperCase()}`, code: insn === 'vmload' ? 0x82 : 0x83 };
  }

  private hostOp(line: number, text: string): void {
    const t = text.toLowerCase();
    const msrName0 = findMsrIn(text);
    if (/\b(disable|clear|drop|stop)\b.*\bintercept/.test(t) || /\bpass(?:-|\s)?through\b/.test(t) && !/\bafter\b/.test(t)) {
      const index = msrName0 ?? this.trapped?.index;
      if (index === undefined) { this.narration(line, 'HK', text); this.find(line, 'info', 'flow-unknown-msr', 'interception change without a recognisable MSR name'); return; }
      const ops: MsrOp[] = /\bwrmsr\b|\bwrite/.test(t) && !/\brdmsr\b|\bread/.test(t) ? ['write'] : /\brdmsr\b|\bread/.test(t) && !/\bwrmsr\b|\bwrite/.test(t) ? ['read'] : ['read', 'write'];
      this.step(line, 'HK', `disable ${ops.map((o) => (o === 'write' ? 'WRMSR' : 'RDMSR')).join('/')} interception for ${msrName(index)}`, () => {
        this.m.disableMsrInterception(index, ops);
        return { explanation: `${this.m.cfg.vendor === 'vmx' ? 'MSR-bitmap' : 'MSRPM'} bit(s) cleared: guest accesses no longer exit`, source: Machine.source('xfd') };
      });
      if (index === XFD_INDEX && ops.includes('write')) this.passthroughLine = line;
      return;
    }
    if (/\b(enable|set|restore)\b.*\bintercept/.test(t)) {
      const index = msrName0 ?? this.trapped?.index;
      if (index === undefined) { this.narration(line, 'HK', text); return; }
      this.step(line, 'HK', `enable interception for ${msrName(index)}`, () => { this.m.enableMsrInterception(index); });
      return;
    }
    if (/\bcomplete\w*\b.*\b(wrmsr|emulation|msr)/.test(t)) {
      this.step(line, 'HK', 'complete WRMSR emulation', () => {
        if (!this.m.completeWrmsr()) return { explanation: 'nothing pending (the write already completed)' };
        return { explanation: 'pending guest WRMSR committed', source: Machine.source('xfd') };
      });
      return;
    }
    if (/\bemulat\w*\b.*\b(wrmsr|rdmsr|msr)\b|\b(wrmsr|msr write)\b.*\bemulat/.test(t)) {
      const index = msrName0 ?? this.trapped?.index;
      let value = this.trapped && (index === undefined || index === this.trapped.index) ? this.trapped.value : undefined;
      const stated = xfdValueFromPhrase(t);
      if (stated !== undefined && index === XFD_INDEX) value ??= stated;
      if (index === undefined) { this.narration(line, 'HK', text); return; }
      if (!this.trapped) this.find(line, 'info', 'flow-no-trapped-wrmsr', 'WRMSR emulation without a preceding trapped guest WRMSR');
      this.step(line, 'HK', `emulate WRMSR ${msrName(index)}${value !== undefined ? ` <- ${hex(value)}` : ''}`, () => {
        const r = this.m.emulateWrmsr(index, value);
        let explanation = r.fpstate === 'too-small' ? 'the guest fpstate has no room for XTILEDATA: reallocation needed, the write completes later' :
          r.fpstate === 'sufficient' ? 'fpstate can hold every feature the new XFD value enables: write completed (fpstate->xfd, per-CPU cache and IA32_XFD updated)' : 'emulated';
        const claimSmall = /too small|insufficient|not (big|large) enough/.test(t);
        const claimOk = /sufficient|big enough|large enough|enough room/.test(t) && !claimSmall;
        if (r.fpstate && ((claimSmall && r.fpstate !== 'too-small') || (claimOk && r.fpstate !== 'sufficient'))) {
          this.m.finding('flow-claim-mismatch', 'warning', `the flow says fpstate is ${claimSmall ? 'too small' : 'sufficient'}, the model computes ${r.fpstate === 'too-small' ? 'too small' : 'sufficient'} (fpstate xfeatures ${formatCell(this.m.get('host.fpstate.xfeatures'))})`);
        }
        if (/disable amx|disables amx/.test(t)) explanation += '; IA32_XFD[18] = 1 (AMX disabled)';
        return { explanation, source: Machine.source('xfd') };
      });
      return;
    }
    if (/\brealloc/.test(t)) {
      this.step(line, 'HK', 'reallocate guest fpstate', () => { this.m.reallocFpstate(); return { explanation: 'fpstate enlarged for XTILEDATA; permitted features extended', source: Machine.source('xfd') }; });
      return;
    }
    if (/xfd_sync_state|fpu_sync_guest_vmexit_xfd_state|\bre-?sync|\bsync\w*\b.*\bxfd|\bxfd\b.*\bsync/.test(t)) {
      this.step(line, 'HK', 'sync host XFD state from IA32_XFD (fpu_sync_guest_vmexit_xfd_state)', () => {
        this.m.xfdSync();
        return { explanation: 'rdmsr(IA32_XFD) into fpstate->xfd and the per-CPU xfd cache', source: Machine.source('xfd') };
      });
      this.synced = true;
      return;
    }
    if (/\bxsaves?\b|save (the )?guest fpu|kvm_put_guest_fpu|preempt|schedule\b|context switch/.test(t)) {
      this.step(line, 'HK', text, () => { this.m.hostUsesFpstate(text); });
      return;
    }
    if (/migrat|another (physical )?cpu|moves? to cpu/.test(t)) {
      const to = /cpu\s*(\d+)/i.exec(text);
      this.step(line, 'HK', 'vCPU migrates to another physical CPU', () => {
        this.m.migrate(to ? Number(to[1]) : undefined);
        return { source: Machine.source('migrate') };
      });
      return;
    }
    if (/vmx_vcpu_load|vcpu_load/.test(t)) {
      this.step(line, 'HK', 'vmx_vcpu_load_vmcs: rewrite per-CPU host state', () => {
        for (const f of ['HOST_TR_BASE', 'HOST_GDTR_BASE']) this.m.writeHostField('vmcs01', f, valueCell(undefined, `${f === 'HOST_TR_BASE' ? 'TSS' : 'GDT'} of CPU ${this.m.cpu}`));
        return { source: Machine.source('migrate') };
      });
      return;
    }
    if (/vmx_set_constant_host_state|constant host state/.test(t)) {
      this.step(line, 'HK', 'vmx_set_constant_host_state', () => {
        this.m.writeHostField('vmcs01', 'HOST_IDTR_BASE', valueCell(undefined, 'host IDT (one for all CPUs)'));
        return { source: Machine.source('migrate') };
      });
      return;
    }
    if (/\bprepare_vmcs02\b/.test(t)) { this.step(line, 'HK', 'prepare_vmcs02', () => { this.m.prepareVmcs02(); }); return; }
    if (/\bsync_vmcs02_to_vmcs12\b/.test(t)) { this.step(line, 'HK', 'sync_vmcs02_to_vmcs12', () => { this.m.syncVmcs02ToVmcs12(); }); return; }
    if (/nested_vmcb02_prepare_control/.test(t)) { this.step(line, 'HK', 'nested_vmcb02_prepare_control', () => { this.m.nestedVmcb02PrepareControl(); }); return; }
    if (/nested_sync_(control|int_ctl)_from_vmcb02/.test(t)) { this.step(line, 'HK', 'nested_sync_control_from_vmcb02', () => { this.m.nestedSyncControlFromVmcb02(); }); return; }
    const insn = /\b(vmwrite|vmread|vmsave|vmload|stgi|clgi|vmlaunch|vmresume|vmrun)\b/i.exec(text);
    if (insn) { this.hostInsn(line, insn[1].toLowerCase(), text); return; }
    const msr = parseMsrOp(text);
    if (msr) {
      this.step(line, 'HK', `${msr.op === 'write' ? 'WRMSR' : 'RDMSR'} ${msrName(msr.index)} (host)`, () => {
        if (msr.op === 'write') this.m.set(`hw.${hwMsrName(msr.index)}`, valueCell(msr.value, 'written by the host'));
        this.m.handSaved.set(msrName(msr.index), this.steps.length + 1);
      });
      return;
    }
    this.narration(line, 'HK', text);
  }

  private hostInsn(line: number, insn: string, text: string): void {
    const vendor = this.m.cfg.vendor;
    switch (insn) {
      case 'vmwrite': case 'vmread': {
        const field = parseVmcsField(text);
        const vmcs = this.m.currentVmcs();
        const val = vmwriteValue(text, field);
        this.step(line, 'HK', `${insn.toUpperCase()} ${field ?? '?'} (${vmcs})`, () => {
          if (!field) return { explanation: 'VMCS field not recognised' };
          if (insn === 'vmread') {
            const c = this.m.vmread(vmcs, field);
            if (c.status !== 'value') this.m.finding('vmread-undefined', 'warning', `VMREAD ${field} returns ${formatCell(c)}`);
            return { explanation: formatCell(c), source: Machine.source('vmwrite') };
          }
          const cell = valueCell(val ? BigInt(val[1]) : undefined, 'written by KVM');
          // Host-state fields carry the CPU they were written on (per-CPU ones go stale when the vCPU migrates).
          if (vmcsField(field)?.type === 'host-state') {
            this.m.writeHostField(vmcs, field, cell);
            return { explanation: `written on CPU ${this.m.cpu}`, source: Machine.source('vmwrite') };
          }
          const err = this.m.vmwrite(vmcs, field, cell);
          if (err) this.m.finding('vmwrite-fails', 'warning', `VMWRITE ${field} fails: VMfailValid, VM-instruction error ${err}`, Machine.source('vmwrite'));
          return { explanation: err ? `VMfailValid, error ${err}` : 'written', source: Machine.source('vmwrite') };
        });
        return;
      }
      case 'vmsave': case 'vmload': {
        // The operand names the VMCB: "to/from vmcb01|vmcb02|vmcb12|guest VMCB", else the per-CPU host save area.
        const m = /\b(vmcb0?1|vmcb0?2|vmcb12)\b/i.exec(text);
        const area = m ? m[1].toLowerCase().replace(/^vmcb(\d)$/, 'vmcb0$1') : /\bguest\b/i.test(text) ? 'vmcb01' : 'host_save_area';
        const label = area === 'host_save_area' ? 'host save area' : area;
        this.step(line, 'HK', `${insn.toUpperCase()} ${insn === 'vmsave' ? 'to' : 'from'} ${label}`, () => {
          if (insn === 'vmsave') this.m.vmsave(area);
          else this.m.vmload(area);
          return {
            explanation: `${insn === 'vmsave' ? 'stores' : 'loads'} FS/GS/TR/LDTR with hidden state, KernelGsBase, STAR/LSTAR/CSTAR/SFMASK, SYSENTER_CS/ESP/EIP ${insn === 'vmsave' ? 'into' : 'from'} ${label}`,
            source: Machine.source('vmsave'),
          };
        });
        return;
      }
      case 'stgi': case 'clgi':
        this.step(line, 'HK', insn.toUpperCase(), () => { if (insn === 'stgi') this.m.stgi(); else this.m.clgi(); return { source: Machine.source('gif') }; });
        return;
      default: {
        const target: 'L1' | 'L2' = this.m.cfg.nested ? 'L2' : 'L1';
        if (vendor === 'vmx' && insn === 'vmrun') this.find(line, 'info', 'flow-config', 'VMRUN in a VMX flow (set "# config: vendor=svm")');
        this.vmEntry(line, target, true);
      }
    }
  }

  finish(lastLine: number): void {
    if (this.pending) {
      const p = this.pending;
      this.pending = undefined;
      this.find(p.line, 'warning', 'flow-missing-trap', `the model says ${p.what} causes a VM exit (${p.reason}), but the flow ends without a trap`);
    }
    if (this.m.xfdOutOfSyncSince !== undefined && !this.synced) {
      const anchor = this.passthroughLine ?? this.firstDirectXfdLine ?? lastLine;
      this.find(anchor, 'warning', 'msr-passthrough-sync',
        `after WRMSR interception for IA32_XFD is disabled${this.passthroughLine ? ` (line ${this.passthroughLine})` : ''}, guest writes${this.firstDirectXfdLine ? ` from line ${this.firstDirectXfdLine} on` : ''} change IA32_XFD without a VM exit; the host software state (fpstate->xfd and the per-CPU xfd cache) stays stale until KVM re-reads the MSR after the next VM exit (fpu_sync_guest_vmexit_xfd_state()); the flow never re-syncs it [${Machine.source('xfd')}]`);
    }
  }
}

function msrName(index: number): string {
  return (msrByIndex(index)?.name ?? `MSR ${hex(BigInt(index))}`).replace(/^MSR_/, '');
}

function findMsrIn(text: string): number | undefined {
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
function xfdValueFromPhrase(t: string): bigint | undefined {
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
function vmwriteValue(text: string, field: string | undefined): RegExpExecArray | null {
  const at = field ? text.indexOf(field) + field.length : 0;
  return /^\s*(?:,|<-|=)?\s*(0x[0-9a-f]+|\d+)\b/i.exec(text.slice(at));
}

function parseVmcsField(text: string): string | undefined {
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

export function simulateFlowLines(text: string, opts: { lineOffset?: number; title?: string } = {}): SimulationResult {
  const { lines, issues } = parseFlowLines(text, opts.lineOffset ?? 0);
  const findings: SimFinding[] = issues.map((i) => ({ ...i }));
  const cfg = flowConfig(lines, text, findings);
  const run = new FlowRun(cfg);
  run.startAt(lines.find((l): l is Extract<FlowLine, { kind: 'tagged' }> => l.kind === 'tagged')?.tag);
  run.findings.push(...findings);
  let last = (opts.lineOffset ?? 0) + 1;
  for (const l of lines) {
    try {
      last = l.line;
      switch (l.kind) {
        case 'blank': case 'config': break;
        case 'transition': run.transition(l); break;
        case 'tagged': run.tagged(l); break;
        case 'narration': run.narration(l.line, actorForLevel(run.m.level), l.text); break;
      }
    } catch (e) {
      run.find(l.line, 'error', 'simulator-error', `internal error while simulating this line: ${(e as Error).message}`);
    }
  }
  run.finish(last);
  const tagged = lines.filter((l) => l.kind === 'tagged').length;
  const summary: string[] = [];
  const exits = run.steps.filter((s) => s.vmExit === true).length;
  const noExits = run.steps.filter((s) => s.vmExit === false).length;
  summary.push(`${run.steps.filter((s) => s.simulated).length} simulated steps from ${tagged} tagged lines: ${exits} guest operation(s) exit, ${noExits} do not (${cfg.vendor.toUpperCase()}, EPT ${cfg.ept ? 'on' : 'off'}, ${cfg.nested ? 'nested' : 'not nested'}, paging ${cfg.paging})`);
  if (run.m.xfdOutOfSyncSince !== undefined) summary.push(`IA32_XFD in hardware differs from the host software copy (fpstate->xfd, per-CPU cache) from step ${run.m.xfdOutOfSyncSince} on`);
  const warn = run.findings.filter((f) => f.severity === 'error' || f.severity === 'warning').length;
  summary.push(warn ? `${warn} finding(s) at warning or above` : 'the written transitions agree with the model');
  if (!tagged) run.findings.push({ line: last, severity: 'warning', rule: 'flow-syntax', message: 'no tagged lines ((G), (L1), (L2), (HK), (HU)) found: nothing to simulate' });
  run.findings.sort((a, b) => a.line - b.line);
  return { kind: 'flow', title: opts.title ?? 'Written flow', steps: run.steps, findings: run.findings, summary, markdown: '' };
}

function actorForLevel(l: MachineLevel): Actor {
  return l === 'L0' ? 'HK' : l === 'HU' ? 'HU' : l === 'L2' ? 'L2' : 'G';
}
