// Executes a written flow (seed 004 notation) on the machine, line by line. The model decides every transition
// itself (does this WRMSR exit? is the fpstate big enough?) and checks the ones the author wrote.
import {
  Machine, hwMsrName, XFD_INDEX, XFEATURE_XTILEDATA, formatCell, hex, registersFor, valueCell, vmcsField, PAGING_MODES,
  type MachineLevel, type MsrOp, type PagingMode,
} from '../../model/machine/index';
import type { Actor, SimFinding, SimulationResult } from '../../protocol/simulation';
import { parseFlowLines, type FlowLine, type FlowTag } from './flowParse';
import { findMsrIn, flowConfig, msrName, parseMsrOp, parseVmcsField, vmwriteValue, xfdValueFromPhrase } from './flowText';
import { FlowTransitions } from './flowTransitions';

// A run's state and transitions are in flowTransitions.ts, reading MSR operations and `# config:` lines in
// flowText.ts; here the tagged lines (guest and host operations), the end-of-flow checks and the entry point.
export { flowConfig, parseMsrOp } from './flowText';

const GUEST_TAGS = new Set<FlowTag>(['G', 'L1', 'L2']);

/** A flow run: the operations of tagged lines on top of the transitions. */
class FlowRun extends FlowTransitions {
  private passthroughLine?: number;
  private firstDirectXfdLine?: number;
  private synced = false;

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
          return { vmExit: true, explanation: `exits (VMREAD, reason 23); KVM emulates it from vmcs12: ${formatCell(c)}`, source: Machine.source('vmread-exit') };
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
            return { explanation: formatCell(c), source: Machine.source('vmread') };
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
