// State of a written-flow run (flow.ts) and its transitions: VM exits and entries, the model's own transitions
// where the flow omits one (missing trap, KVM_RUN, return to user space), and the written `--...--` transitions.
import { Machine, displayLocation, type MachineConfig, type MsrOp } from '../../model/machine/index';
import type { Actor, SimFinding, SimStep } from '../../protocol/simulation';
import type { FlowLine, FlowTag } from './flowParse';
import { msrName } from './flowText';

export interface PendingExit { line: number; reason: string; code?: number; what: string; msr?: { op: MsrOp; index: number; value?: bigint } }

/** A flow run's machine, steps and findings, and the transitions between host, user space and guest. */
export class FlowTransitions {
  readonly m: Machine;
  readonly steps: SimStep[] = [];
  readonly findings: SimFinding[] = [];
  protected pending?: PendingExit;
  /** The last guest instruction the model executed (for checking a written trap). */
  protected lastGuest?: { line: number; op: string; exited: boolean; why: string };
  /** Guest MSR write that trapped and is being emulated by the host. */
  protected trapped?: { index: number; value?: bigint; line: number };

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
  protected resolvePendingExit(nextLine: number, continuesInGuest: boolean): void {
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
}
