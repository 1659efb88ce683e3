// The executable VMX/SVM machine: one vCPU seen from L0 (host kernel), HU (host user space), L1 and L2.
// Pure TypeScript: no parser, no LSP, no I/O. Every transition cites the manual section / public code it follows;
// every hardware fact comes from the knowledge model through ./facts.
import { VMX_EXIT_BY_CODE } from '../exits';
import {
  APM, CODE, INTCTL_SOURCE, LIFETIME_SOURCE, PDPTR_ENTRY_SOURCE, PDPTR_EXIT_SOURCE, PDPTR_FIELDS, SDM,
  SVM_MSR_SOURCE, VMSAVE_SOURCE, VMWRITE_SOURCE, VMX_MSR_SOURCE, XFD_INDEX, XFD_SOURCE, XFEATURE_XTILEDATA,
  exitInfoFieldDefined, exitInfoFields, hostLifetime, intCtlBitNames, intCtlMask, intCtlWrittenBack, msrByIndex,
  pagingMode, pdptrsDefinedAfterExit, pdptrsLoadedOnEntry, registersFor, setSvmMsrpm, setVmxBitmap, svmMsrIntercepted,
  vmcsField, vmsaveMsrs, vmwriteError, vmxMsrIntercepted, type MsrOp,
} from './facts';
import {
  formatCell, hex, undefinedCell, valueCell, type Cell, type MachineConfig,
} from './state';
import { MachineCore, type MachineSnapshot } from './machineCore';

export type { MachineSnapshot };

export interface MsrDecision { exit: boolean; why: string; source: string }

/** Who a vmcb02 int_ctl bit belongs to at #VMEXIT from L2: L1's view of L2 (sync to vmcb12) or L0's own state. */
export type IntCtlOwner = 'L1' | 'L0' | 'none';


export class Machine extends MachineCore {
  constructor(cfg: Partial<MachineConfig> = {}, blank = false) {
    super(cfg, blank);
    if (this.cfg.vendor === 'svm' && !blank) this.initSvm();
  }

  // ---- VMX: VM entry / VM exit ----------------------------------------------------------------------------------

  /** VM entry (VMLAUNCH/VMRESUME) into `target` using vmcs01 (L1) or vmcs02 (L2). SDM §27.3. */
  vmxEntry(target: 'L1' | 'L2'): void {
    const vmcs = target === 'L2' ? 'vmcs02' : 'vmcs01';
    const regs = registersFor(this.cfg.paging);
    this.set('hw.CR0', valueCell(regs.cr0, `${target} CR0 from ${vmcs}.GUEST_CR0`));
    this.set('hw.CR4', valueCell(regs.cr4, `${target} CR4 from ${vmcs}.GUEST_CR4`));
    this.set('hw.EFER', valueCell(regs.efer, `${target} EFER`));
    const mode = pagingMode(regs.cr0, regs.cr4, regs.efer);
    this.note('hw.paging', mode, 'value');
    const src = pdptrsLoadedOnEntry(() => this.cfg.ept, mode);
    PDPTR_FIELDS.forEach((f, n) => {
      if (src === 'vmcs') {
        const c = this.get(`${vmcs}.${f}`);
        if (c.status !== 'value') {
          this.finding('pdptr-undefined-on-entry', 'error',
            `VM entry with EPT and PAE paging loads PDPTE${n} from ${vmcs}.${f}, which holds ${formatCell(c)}`, PDPTR_ENTRY_SOURCE);
        }
        this.set(`hw.PDPTE${n}`, { ...c, desc: `loaded from ${vmcs}.${f}` }, 'copied');
      } else if (src === 'memory') {
        this.set(`hw.PDPTE${n}`, valueCell(undefined, 'read from guest memory at CR3 (EPT off)'));
      } else if (n === 0) {
        this.note('hw.PDPTE0..3', `not loaded (guest not in PAE paging: ${mode})`, 'value');
      }
    });
    this.loadGuestXfd();
    this.level = target;
    this.exitedFromL2 = false;
    this.loadedVmcs = vmcs;
  }

  /** VM exit from the running guest to L0. SDM §28 (save guest state, record exit information, load host state). */
  vmxExit(reason?: number): void {
    const from = this.level === 'L2' ? 'L2' : 'L1';
    const vmcs = from === 'L2' ? 'vmcs02' : 'vmcs01';
    const mode = this.cfg.paging;
    // §28.3: guest state saved.
    this.set(`${vmcs}.GUEST_CR3`, valueCell(undefined, `${from} CR3 saved by VM exit`));
    const defined = pdptrsDefinedAfterExit(() => this.cfg.ept, mode);
    PDPTR_FIELDS.forEach((f, n) => {
      const deps = ['enable_ept', 'paging'];
      if (defined) this.set(`${vmcs}.${f}`, { ...this.get(`hw.PDPTE${n}`), status: 'value', desc: `${from} PDPTE${n} saved by VM exit`, deps });
      else this.set(`${vmcs}.${f}`, { ...undefinedCell(mode !== 'pae' ? `${from} not in PAE paging at exit (${mode})` : 'EPT off'), deps });
    });
    // §28.2: exit information.
    if (reason !== undefined) {
      this.set(`${vmcs}.VM_EXIT_REASON`, valueCell(BigInt(reason), 'basic exit reason'));
      for (const field of exitInfoFields()) {
        if (field === 'VM_EXIT_REASON' || !vmcsField(field)) continue;
        const d = exitInfoFieldDefined(field, reason);
        if (!d) continue;
        if (d.status === 'unmodified') continue; // failed VM entry: keeps the value of the last exit (SDM §27.8)
        if (d.status === 'cleared') this.set(`${vmcs}.${field}`, { ...valueCell(0n, `cleared by the exit for reason ${exitReasonLabel(reason)}`), cleared: true });
        else if (d.defined) this.set(`${vmcs}.${field}`, valueCell(undefined, `defined for exit reason ${exitReasonLabel(reason)}${d.conditional ? ` (${d.conditional})` : ''}`));
        else this.cells.set(`${vmcs}.${field}`, undefinedCell(`not defined for exit reason ${exitReasonLabel(reason)}`));
      }
    } else {
      for (const field of exitInfoFields()) {
        if (!vmcsField(field)) continue;
        this.cells.set(`${vmcs}.${field}`, valueCell(undefined, 'exit information of this exit (defined only for the reasons that define it)'));
      }
    }
    this.loadHostState(vmcs);
    this.level = 'L0';
    this.exitedFromL2 = from === 'L2';
    this.afterExitXfd();
  }

  /** §28.5 host-state load, with KVM's lifetime classes checked against the current CPU. */
  private loadHostState(vmcs: 'vmcs01' | 'vmcs02'): void {
    for (const field of ['HOST_TR_BASE', 'HOST_GDTR_BASE', 'HOST_IDTR_BASE', 'HOST_IA32_SYSENTER_ESP']) {
      const loc = `${vmcs}.${field}`;
      if (!this.cells.has(loc)) continue;
      const c = this.get(loc);
      const life = hostLifetime(field);
      if (c.status === 'stale' || (life === 'per-cpu' && c.cpu !== undefined && c.cpu !== this.cpu)) {
        this.finding('host-state-stale', 'error',
          `VM exit loads ${field} = ${formatCell(c)} on CPU ${this.cpu}: the field is per-CPU (${life}) and was last written for CPU ${c.cpu ?? '?'}`,
          `${SDM.exitLoadHostSeg}; ${LIFETIME_SOURCE}`, field);
      }
    }
    const reg = (r: string, field: string) => {
      const loc = `${vmcs}.${field}`;
      if (this.cells.has(loc)) this.set(`hw.${r}`, { ...this.get(loc) }, 'copied');
    };
    reg('TR.base', 'HOST_TR_BASE');
    reg('GDTR.base', 'HOST_GDTR_BASE');
    reg('IDTR.base', 'HOST_IDTR_BASE');
    this.set('hw.GDTR.limit', valueCell(0xffffn, 'forced by VM exit'));
    this.set('hw.IDTR.limit', valueCell(0xffffn, 'forced by VM exit'));
    this.set('hw.TR.limit', valueCell(0x67n, 'forced by VM exit'));
    this.set('hw.LDTR', valueCell(0n, 'unusable after VM exit'));
  }

  /** VMREAD: returns the cell (reading an undefined field is legal; the value is junk). */
  vmread(vmcs: string, field: string): Cell {
    return this.get(`${vmcs}.${field}`);
  }

  /** VMWRITE. Returns the VM-instruction error (12 unsupported, 13 read-only) or undefined on success. */
  vmwrite(vmcs: string, field: string, value: Cell): number | undefined {
    const err = vmwriteError(field, this.cfg.vmwriteAnyField);
    if (err !== undefined) {
      this.set(`${vmcs}.VM_INSTRUCTION_ERROR`, valueCell(BigInt(err), err === 13 ? 'VMWRITE to read-only VMCS component' : 'unsupported VMCS component'));
      this.note('rflags', 'ZF=1 (VMfailValid)', 'value');
      return err;
    }
    this.set(`${vmcs}.${field}`, value);
    return undefined;
  }

  // ---- host state and CPUs --------------------------------------------------------------------------------------

  /** KVM writes a host-state field of the current VMCS with a value describing `cpuSpecific ? this CPU : everyone`. */
  writeHostField(vmcs: string, field: string, value: Cell): void {
    const life = hostLifetime(field);
    const c: Cell = { ...value };
    if (life === 'per-cpu' || value.cpu !== undefined) c.cpu = value.cpu ?? this.cpu;
    this.set(`${vmcs}.${field}`, c);
  }

  /** The vCPU thread moves to another physical CPU: per-CPU host values written for the old CPU go stale. */
  migrate(to?: number): void {
    const old = this.cpu;
    this.cpu = to ?? (old + 1) % Math.max(2, this.cfg.cpus);
    this.set('hw.cpu', valueCell(BigInt(this.cpu), `CPU ${this.cpu}`));
    for (const [loc, c] of [...this.cells]) {
      if (c.status !== 'value' || c.cpu === undefined || c.cpu === this.cpu) continue;
      const field = loc.slice(loc.indexOf('.') + 1);
      if (hostLifetime(field) === 'per-cpu' || loc.startsWith('host.percpu.')) {
        this.set(loc, { ...c, status: 'stale', since: this.step, why: `describes CPU ${old}, vCPU now on CPU ${this.cpu}` }, 'stale');
      }
    }
  }

  // ---- MSR interception -----------------------------------------------------------------------------------------

  msrExits(op: MsrOp, index: number): MsrDecision {
    const inL2 = this.level === 'L2';
    if (this.cfg.vendor === 'vmx') {
      const bm = inL2 ? orMaps(this.msrBitmap01, this.msrBitmap12) : this.msrBitmap01;
      const d = vmxMsrIntercepted(bm, this.cfg.useMsrBitmaps, op, index);
      return { ...d, why: `${inL2 ? 'vmcs02 (merged vmcs01|vmcs12) ' : 'vmcs01 '}MSR bitmap: ${d.why}`, source: VMX_MSR_SOURCE };
    }
    const pm = inL2 ? orMaps(this.msrpm01, this.msrpm12) : this.msrpm01;
    const d = svmMsrIntercepted(pm, this.cfg.useMsrBitmaps, op, index);
    return { ...d, why: `${inL2 ? 'vmcb02 (msrpm01|msrpm12) ' : 'vmcb01 '}MSRPM: ${d.why}`, source: SVM_MSR_SOURCE };
  }

  /** Set or clear the intercept of `index` for `ops` in L0's bitmap (or L1's with `l1`). */
  setMsrIntercept(index: number, ops: MsrOp[], intercept: boolean, l1 = false): void {
    this.writableMaps();
    for (const op of ops) {
      if (this.cfg.vendor === 'vmx') setVmxBitmap(l1 ? this.msrBitmap12 : this.msrBitmap01, op, index, intercept);
      else setSvmMsrpm(l1 ? this.msrpm12 : this.msrpm01, op, index, intercept);
      const name = msrByIndex(index)?.name ?? hex(BigInt(index));
      this.note(`${this.cfg.vendor === 'vmx' ? 'msr_bitmap' : 'msrpm'}${l1 ? '12' : ''}.${name}.${op}`,
        intercept ? 'intercepted' : 'passthrough', 'intercepted');
    }
  }

  /** A guest RDMSR/WRMSR that did not exit: the guest reads/writes the hardware MSR directly. */
  guestMsrDirect(op: MsrOp, index: number, value?: bigint): void {
    const name = hwMsrName(index);
    if (op === 'read') return;
    this.set(`hw.${name}`, valueCell(value, value === undefined ? 'written by the guest (value not stated)' : 'written by the guest'));
    if (index === XFD_INDEX) this.guestWroteXfdDirectly(value);
  }

  // ---- XFD / host FPU state (§f) ----------------------------------------------------------------------------------

  get xfdPassthrough(): boolean {
    return !this.msrExits('write', XFD_INDEX).exit;
  }

  private fpstateHasAmx(): boolean {
    return ((this.get('host.fpstate.xfeatures').n ?? 0n) & XFEATURE_XTILEDATA) !== 0n;
  }

  private guestWroteXfdDirectly(value?: bigint): void {
    for (const loc of ['host.fpstate.xfd', 'host.percpu.xfd_state']) {
      const c = this.get(loc);
      if (c.status === 'stale') continue;
      if (value !== undefined && c.n === value) continue;
      this.set(loc, { ...c, status: 'stale', since: this.step, why: 'guest wrote IA32_XFD without a VM exit (interception disabled)' }, 'stale');
    }
    this.xfdOutOfSyncSince ??= this.step;
  }
  /** First step at which the hardware XFD diverged from the host's software copies. */
  xfdOutOfSyncSince?: number;
  /** Step of the "disable interception" that enabled XFD passthrough. */
  xfdPassthroughSince?: number;

  /** KVM emulates a guest WRMSR (kvm_set_msr_common). For IA32_XFD reports whether fpstate can hold the enabled features. */
  emulateWrmsr(index: number, value?: bigint): { fpstate?: 'too-small' | 'sufficient' } {
    if (index !== XFD_INDEX) {
      const name = msrByIndex(index)?.name ?? hex(BigInt(index));
      this.set(`vcpu.${name}`, valueCell(value, 'emulated WRMSR'));
      return {};
    }
    const v = value ?? 0n;
    const enablesAmx = (v & XFEATURE_XTILEDATA) === 0n && this.cfg.amx;
    if (enablesAmx && !this.fpstateHasAmx()) {
      this.pendingWrmsr = { index, value: v };
      this.set('kvm.guest_fpu.realloc_request', valueCell(XFEATURE_XTILEDATA, 'fpstate too small for XTILEDATA: reallocation needed before the write completes'));
      return { fpstate: 'too-small' };
    }
    this.commitXfd(v);
    return { fpstate: 'sufficient' };
  }

  /** fpu_update_guest_xfd(): software copy, per-CPU cache and the MSR itself are updated together. */
  private commitXfd(v: bigint): void {
    const desc = (v & XFEATURE_XTILEDATA) ? 'XTILEDATA disabled' : 'XTILEDATA enabled';
    this.set('host.fpstate.xfd', valueCell(v, desc));
    this.set('host.percpu.xfd_state', valueCell(v, desc));
    this.set('hw.IA32_XFD', valueCell(v, desc));
    this.pendingWrmsr = undefined;
  }

  completeWrmsr(): boolean {
    const p = this.pendingWrmsr;
    if (!p) return false;
    if (p.index === XFD_INDEX) {
      if (!this.fpstateHasAmx() && ((p.value ?? 0n) & XFEATURE_XTILEDATA) === 0n) {
        this.finding('xfd-fpstate-too-small', 'error', 'WRMSR(IA32_XFD) completed although fpstate was never reallocated for XTILEDATA', XFD_SOURCE);
      }
      this.commitXfd(p.value ?? 0n);
    } else {
      this.set(`vcpu.${msrByIndex(p.index)?.name ?? p.index}`, valueCell(p.value, 'emulated WRMSR completed'));
    }
    this.pendingWrmsr = undefined;
    return true;
  }

  /** fpstate reallocation (fpstate_realloc): room for XTILEDATA, permitted features extended. */
  reallocFpstate(): void {
    this.set('host.fpstate.size', valueCell(undefined, 'enlarged: includes XTILECFG + XTILEDATA (8 KiB tile data)'));
    this.set('host.fpstate.xfeatures', valueCell(XFEATURE_XTILEDATA | (1n << 17n), 'XTILECFG | XTILEDATA'));
    this.set('kvm.guest_fpu.realloc_request', valueCell(0n, 'done'));
  }

  /** KVM disables interception of an MSR for the guest (vmx_disable_intercept_for_msr / svm_set_intercept_for_msr). */
  disableMsrInterception(index: number, ops: MsrOp[] = ['read', 'write']): void {
    this.setMsrIntercept(index, ops, false);
    if (index === XFD_INDEX && ops.includes('write')) {
      this.xfdPassthroughSince = this.step;
      if (this.cfg.amx && !this.fpstateHasAmx()) {
        this.finding('xfd-passthrough-small-fpstate', 'error',
          'IA32_XFD writes are passed through while the guest fpstate has no room for XTILEDATA: the guest can enable AMX without an exit and XSAVES of the guest fpstate would overrun it (seed 004, option 1)',
          XFD_SOURCE);
      }
    }
  }

  enableMsrInterception(index: number, ops: MsrOp[] = ['read', 'write']): void {
    this.setMsrIntercept(index, ops, true);
    if (index === XFD_INDEX) this.xfdPassthroughSince = undefined;
  }

  /** fpu_sync_guest_vmexit_xfd_state(): rdmsr(IA32_XFD) into fpstate->xfd and the per-CPU cache. */
  xfdSync(): void {
    const hw = this.get('hw.IA32_XFD');
    this.set('host.fpstate.xfd', { ...hw, status: 'value', desc: 'synced from IA32_XFD' }, 'copied');
    this.set('host.percpu.xfd_state', { ...hw, status: 'value', desc: 'synced from IA32_XFD' }, 'copied');
    this.xfdOutOfSyncSince = undefined;
  }

  /** The host uses the guest fpstate (XSAVES on put/preemption, exit to user space). Stale XFD → finding. */
  hostUsesFpstate(what: string): void {
    const c = this.get('host.fpstate.xfd');
    if (c.status === 'stale') {
      this.finding('msr-passthrough-sync', 'warning',
        `${what} uses fpstate->xfd = ${formatCell(c)} while IA32_XFD holds ${formatCell(this.get('hw.IA32_XFD'))}: the host must re-sync it right after the VM exit (fpu_sync_guest_vmexit_xfd_state())`,
        XFD_SOURCE);
    }
  }

  /** On VM entry KVM's FPU switch loads the guest's XFD into the MSR and the per-CPU cache (xfd_update_state). */
  private loadGuestXfd(): void {
    const sw = this.get('host.fpstate.xfd');
    if (sw.status !== 'value') return;
    const hw = this.get('hw.IA32_XFD');
    if (hw.n !== sw.n || hw.status !== 'value') {
      this.set('hw.IA32_XFD', { ...sw, desc: 'guest XFD loaded on entry' }, 'copied');
      this.set('host.percpu.xfd_state', { ...sw }, 'copied');
    }
  }

  private afterExitXfd(): void {
    if (this.xfdOutOfSyncSince !== undefined) {
      this.note('host.fpstate.xfd', `out of sync with IA32_XFD since step ${this.xfdOutOfSyncSince} (needs fpu_sync_guest_vmexit_xfd_state())`, 'stale');
    }
  }

  // ---- SVM --------------------------------------------------------------------------------------------------------

  private initSvm(): void {
    const m = (n: string) => intCtlMask(n);
    let i12 = 0x2n; // V_TPR = 2
    if (this.cfg.vIntrMasking) i12 |= m('V_INTR_MASKING_MASK');
    if (this.cfg.vgif) i12 |= m('V_GIF_ENABLE_MASK') | m('V_GIF_MASK');
    if (this.cfg.vnmi) i12 |= m('V_NMI_ENABLE_MASK');
    if (this.cfg.vIrqPending) i12 |= m('V_IRQ_MASK');
    this.init('vmcb12.int_ctl', valueCell(i12, 'L1 setting for L2'));
    // KVM always runs L1 with V_INTR_MASKING and (when available) vGIF (svm.c init_vmcb).
    this.init('vmcb01.int_ctl', valueCell(m('V_INTR_MASKING_MASK') | m('V_GIF_ENABLE_MASK') | m('V_GIF_MASK') | 0x1n, 'L0 setting for L1'));
    this.init('vmcb02.int_ctl', valueCell(0n, 'not prepared yet'));
  }

  /** Bits of vmcb02 int_ctl taken from vmcb12 / vmcb01 by nested_vmcb02_prepare_control ([L-nsvm], CVE-2021-3653 fix). */
  private intCtlSplit(): { from12: bigint; from01: bigint } {
    const m = (n: string) => intCtlMask(n);
    let from12 = m('V_TPR_MASK') | m('V_IRQ_MASK') | m('V_INTR_PRIO_MASK') | m('V_IGN_TPR_MASK');
    let from01 = m('V_INTR_MASKING_MASK');
    if (this.cfg.vgif) from12 |= m('V_GIF_MASK') | m('V_GIF_ENABLE_MASK');
    else from01 |= m('V_GIF_MASK') | m('V_GIF_ENABLE_MASK');
    if (this.cfg.vnmi) from12 |= m('V_NMI_PENDING_MASK') | m('V_NMI_ENABLE_MASK') | m('V_NMI_BLOCKING_MASK');
    return { from12, from01 };
  }

  /** KVM nested_vmcb02_prepare_control(): compose vmcb02 int_ctl and intercepts for L2. */
  nestedVmcb02PrepareControl(): void {
    const { from12, from01 } = this.intCtlSplit();
    let v = ((this.get('vmcb12.int_ctl').n ?? 0n) & from12) | ((this.get('vmcb01.int_ctl').n ?? 0n) & from01);
    this.set('vmcb02.int_ctl', valueCell(v, 'vmcb12 bits for L2 | vmcb01 bits for L0'));
    // L0 may keep its own VINTR intercept (an interrupt window for L1) even when vmcb12 sets V_INTR_MASKING: Linux 7.1.5
    // nested_vmcb02_recalc_intercepts() clears it only when L1's saved RFLAGS.IF is 0.
    const vintr = this.cfg.l1InterceptVintr || this.cfg.l0IrqWindow;
    this.set('vmcb02.intercept.VINTR', valueCell(vintr ? 1n : 0n, vintr ? (this.cfg.l1InterceptVintr ? 'L1 intercepts VINTR' : 'L0 interrupt window') : 'clear'));
    if (this.cfg.l0IrqWindow) {
      v |= intCtlMask('V_IRQ_MASK');
      this.set('vmcb02.int_ctl', valueCell(v, 'L0 set V_IRQ to request an interrupt window (svm_set_vintr)'));
    }
  }

  /**
   * Owner of a vmcb02 int_ctl bit at #VMEXIT from L2: 'L1' when the bit carries L2 state that L1 configured in vmcb12
   * (must be synced back to vmcb12), 'L0' when it carries L0's own state (L1's GIF, L1's TPR/interrupt window).
   */
  intCtlOwnerAtExit(name: string): IntCtlOwner {
    switch (name) {
      // Seed 002: without V_INTR_MASKING in vmcb12, V_TPR/V_IRQ of vmcb02 carry L1's own (L0-virtualized) interrupt
      // state, and an interrupt window L0 opened sets V_IRQ for itself (only possible without V_INTR_MASKING).
      case 'V_TPR_MASK': return this.cfg.vIntrMasking ? 'L1' : 'L0';
      // V_IRQ is L0's whenever L0, and not L1, intercepts VINTR — whatever V_INTR_MASKING (Linux 6.4 "KVM: nSVM: Don't
      // sync vmcb02 V_IRQ back to vmcb12 if KVM (L0) is intercepting VINTR"; 7.1.5 nested_sync_control_from_vmcb02).
      case 'V_IRQ_MASK': return this.cfg.l0IrqWindow && !this.cfg.l1InterceptVintr ? 'L0' : this.cfg.vIntrMasking ? 'L1' : 'L0';
      case 'V_GIF_MASK': return this.cfg.vgif ? 'L1' : 'L0';
      case 'V_NMI_PENDING_MASK': case 'V_NMI_BLOCKING_MASK': return this.cfg.vnmi ? 'L1' : 'L0';
      default: return 'none';
    }
  }
  static readonly INTCTL_OWNER_SOURCE = `${INTCTL_SOURCE}; seed 002 (nested_sync_int_ctl_from_vmcb02 review: V_IRQ/V_TPR exist for L1 only with V_INTR_MASKING; V_GIF only with nested vGIF)`;

  /** VMRUN (by L0 for L1 on vmcb01, or for L2 on vmcb02 after nested_vmcb02_prepare_control). APM §15.5. */
  svmVmrun(target: 'L1' | 'L2'): void {
    const vmcb = target === 'L2' ? 'vmcb02' : 'vmcb01';
    if (target === 'L2' && this.get('vmcb02.int_ctl').desc === 'not prepared yet') this.nestedVmcb02PrepareControl();
    this.set('hsave.host_state', valueCell(undefined, 'ES/CS/SS/DS, GDTR, IDTR, RFLAGS, EFER, CR0, CR3, CR4, RAX, RSP, RIP, IA32_PAT (and CET/LBR state where enabled) saved by VMRUN'));
    const regs = registersFor(this.cfg.paging);
    this.set('hw.CR0', valueCell(regs.cr0, `${target} CR0 from ${vmcb}.save.cr0`));
    this.set('hw.CR4', valueCell(regs.cr4, `${target} CR4 from ${vmcb}.save.cr4`));
    this.set('hw.EFER', valueCell(regs.efer, `${target} EFER`));
    this.set('hw.GIF', valueCell(1n, 'set by VMRUN'));
    this.loadGuestXfd();
    this.level = target;
    this.exitedFromL2 = false;
    this.vmcbPtr = vmcb;
  }

  /** #VMEXIT to L0: int_ctl write-back, exit code, GIF cleared, host state from the save area. APM §15.6. */
  svmVmexit(code?: number): void {
    const from = this.level === 'L2' ? 'L2' : 'L1';
    const vmcb = from === 'L2' ? 'vmcb02' : 'vmcb01';
    const ic = this.get(`${vmcb}.int_ctl`).n ?? 0n;
    let out = ic;
    for (const name of intCtlBitNames()) {
      if (!intCtlWrittenBack(name, ic)) continue;
      const mask = intCtlMask(name);
      if (name === 'V_IRQ_MASK') out = this.cfg.vIrqPending || (from === 'L2' && this.cfg.l0IrqWindow) ? out | mask : out & ~mask;
      // The guest ran and may have written its TPR (MOV CR8): model it as a new value, so a lost copy is visible.
      if (name === 'V_TPR_MASK') out = (out & ~mask) | (0x5n & mask);
      this.note(`${vmcb}.int_ctl.${name.replace(/_MASK$/, '')}`, 'written back by #VMEXIT', 'value');
    }
    this.set(`${vmcb}.int_ctl`, valueCell(out, 'after #VMEXIT write-back'));
    if (code !== undefined) this.set(`${vmcb}.exit_code`, valueCell(BigInt(code)));
    this.set('hw.GIF', valueCell(0n, 'cleared by #VMEXIT'));
    this.set('hw.host_state', valueCell(undefined, 'reloaded from the host save area (VM_HSAVE_PA)'));
    this.level = 'L0';
    this.exitedFromL2 = from === 'L2';
    this.afterExitXfd();
  }

  stgi(): void {
    this.gifWrite(1n, 'STGI');
  }

  clgi(): void {
    this.gifWrite(0n, 'CLGI');
  }

  private gifWrite(v: bigint, what: string): void {
    if (this.level === 'L1' || this.level === 'L2') {
      const vmcb = this.currentVmcb();
      const ic = this.get(`${vmcb}.int_ctl`).n ?? 0n;
      if (ic & intCtlMask('V_GIF_ENABLE_MASK')) {
        const nv = v ? ic | intCtlMask('V_GIF_MASK') : ic & ~intCtlMask('V_GIF_MASK');
        this.set(`${vmcb}.int_ctl`, valueCell(nv, `${what} updated V_GIF without an exit (vGIF)`));
        return;
      }
    }
    this.set('hw.GIF', valueCell(v, what));
  }

  /** VMSAVE: FS, GS, TR, LDTR (hidden state), KernelGsBase, STAR, LSTAR, CSTAR, SFMASK, SYSENTER_CS/ESP/EIP → area. */
  vmsave(area: string): void {
    for (const m of vmsaveMsrs()) this.set(`${area}.${hwMsrName(m.index)}`, { ...this.get(`hw.${hwMsrName(m.index)}`), status: 'value', desc: `${m.name} saved by VMSAVE` }, 'copied');
    for (const s of ['FS', 'GS', 'TR', 'LDTR']) this.set(`${area}.${s}`, valueCell(undefined, `${s} selector+hidden state saved by VMSAVE`), 'copied');
    this.lastVmsave = { step: this.step, area };
  }

  vmload(area: string): void {
    for (const m of vmsaveMsrs()) this.set(`hw.${hwMsrName(m.index)}`, { ...this.get(`${area}.${hwMsrName(m.index)}`), status: 'value', desc: `${m.name} loaded by VMLOAD` }, 'copied');
    for (const s of ['FS', 'GS', 'TR', 'LDTR']) this.set(`hw.${s}`, valueCell(undefined, `${s} loaded by VMLOAD`), 'copied');
    this.lastVmload = { step: this.step, area };
  }

  // ---- KVM nested data flow (summaries of the current code, used when a flow names the function) ---------------

  /** prepare_vmcs02 (post-c7554efc): vmcs12 → vmcs02 guest state; PDPTRs only with nested EPT and PAE paging. */
  prepareVmcs02(): void {
    this.set('vmcs02.GUEST_CR3', { ...this.get('vmcs12.GUEST_CR3'), desc: 'from vmcs12.guest_cr3' }, 'copied');
    const pae = this.cfg.paging === 'pae';
    PDPTR_FIELDS.forEach((f, n) => {
      if (this.cfg.nestedEpt && pae && this.cfg.ept) this.set(`vmcs02.${f}`, { ...this.get(`vmcs12.${f}`), desc: `from vmcs12.guest_pdptr${n}` }, 'copied');
      else if (n === 0) this.note('vmcs02.GUEST_PDPTR0..3', pae ? 'not copied: KVM loads the PDPTEs from L2 memory (nested_vmx_load_cr3)' : 'not copied: L2 not in PAE paging', 'value');
    });
  }

  /** sync_vmcs02_to_vmcs12 (post-c7554efc): GUEST_CR3 when enable_ept; PDPTRs when also nested EPT and PAE paging. */
  syncVmcs02ToVmcs12(): void {
    if (!this.cfg.ept) return;
    this.set('vmcs12.GUEST_CR3', { ...this.get('vmcs02.GUEST_CR3') }, 'copied');
    if (this.cfg.nestedEpt && this.cfg.paging === 'pae') {
      PDPTR_FIELDS.forEach((f) => this.set(`vmcs12.${f}`, { ...this.get(`vmcs02.${f}`) }, 'copied'));
    }
  }

  /** nested_vmx_vmexit: sync, prepare_vmcs12, switch to vmcs01, load vmcs12 host state → L1 runs. */
  nestedVmxVmexit(): void {
    this.syncVmcs02ToVmcs12();
    const reason = this.get('vmcs02.VM_EXIT_REASON');
    this.set('vmcs12.VM_EXIT_REASON', { ...reason }, 'copied');
    // prepare_vmcs12: the exit information of the reflected exit goes to vmcs12 as the hardware left it in vmcs02
    // (exit qualification via vmx_get_exit_qual(), interruption info, instruction length/info): undefined stays undefined.
    for (const field of exitInfoFields()) {
      if (field === 'VM_EXIT_REASON' || !vmcsField(field)) continue;
      const c = this.cells.get(`vmcs02.${field}`);
      if (c) this.set(`vmcs12.${field}`, { ...c }, 'copied');
    }
    // PDPTRs not synced: vmcs12 keeps what L1 wrote, but for L1 (whose SDM says the exit stores undefined values
    // unless EPT and PAE paging) the fields carry no information after this exit.
    if (!(this.cfg.ept && this.cfg.nestedEpt && this.cfg.paging === 'pae')) {
      const why = !this.cfg.nestedEpt ? 'vmcs12 does not enable EPT' : `L2 not in PAE paging at exit (${this.cfg.paging})`;
      PDPTR_FIELDS.forEach((f) => {
        const c = this.cells.get(`vmcs12.${f}`);
        if (c && c.status === 'value') this.set(`vmcs12.${f}`, { ...c, status: 'stale', why: `not synced by KVM: architecturally undefined for L1 after this exit (${why}); vmcs12 keeps ${c.n !== undefined ? hex(c.n) : 'the value L1 wrote'}` });
      });
    }
    this.exitedFromL2 = false;
    this.note('loaded_vmcs', 'vmcs01', 'value');
    this.vmxEntry('L1');
  }

  /** nested_sync_control_from_vmcb02 (current tree): V_IRQ|V_TPR, V_GIF with nested vGIF, vNMI bits with nested vNMI. */
  nestedSyncControlFromVmcb02(): void {
    let mask = intCtlMask('V_IRQ_MASK') | intCtlMask('V_TPR_MASK');
    if (this.get('vmcb02.intercept.VINTR').n && !this.cfg.l1InterceptVintr) mask &= ~intCtlMask('V_IRQ_MASK');
    if (this.cfg.vgif) mask |= intCtlMask('V_GIF_MASK');
    if (this.cfg.vnmi) mask |= intCtlMask('V_NMI_BLOCKING_MASK') | intCtlMask('V_NMI_PENDING_MASK');
    const v12 = this.get('vmcb12.int_ctl').n ?? 0n;
    const v02 = this.get('vmcb02.int_ctl').n ?? 0n;
    this.set('vmcb12.int_ctl', valueCell((v12 & ~mask) | (v02 & mask), `bits ${hex(mask)} copied from vmcb02`), 'copied');
  }

  /** nested_svm_vmexit: vmcb12 updated, GIF = 0, back to vmcb01 → L1 runs. */
  nestedSvmVmexit(): void {
    this.nestedSyncControlFromVmcb02();
    this.set('hw.GIF', valueCell(0n, 'nested_svm_vmexit: GIF cleared for L1'));
    this.exitedFromL2 = false;
    this.svmVmrun('L1');
  }

  /** Citation for a transition name, for step explanations. */
  static source(kind: 'vmentry' | 'vmexit' | 'pdptr-exit' | 'vmrun' | 'vmexit-svm' | 'vmwrite' | 'vmread' | 'vmread-exit' | 'gif' | 'vmsave' | 'migrate' | 'xfd'): string {
    switch (kind) {
      case 'vmentry': return `${SDM.entryLoadGuest}; ${PDPTR_ENTRY_SOURCE}`;
      case 'vmexit': return `${SDM.exitSaveGuest}; ${SDM.exitRecordInfo}; ${SDM.exitLoadHost}; ${PDPTR_EXIT_SOURCE}`;
      case 'pdptr-exit': return PDPTR_EXIT_SOURCE;
      case 'vmrun': return `${APM.vmrun}; ${CODE.bochsSvm} VMRUN; ${CODE.qemuSvm} helper_vmrun`;
      case 'vmexit-svm': return `${APM.vmexit}; ${INTCTL_SOURCE}`;
      case 'vmwrite': return VMWRITE_SOURCE;
      case 'vmread': return SDM.vmread;
      case 'vmread-exit': return `${SDM.vmreadExit}; Linux arch/x86/kvm/vmx/nested.c handle_vmread (emulated from vmcs12)`;
      case 'gif': return `${APM.gif}; ${CODE.bochsSvm} CLGI/STGI`;
      case 'vmsave': return VMSAVE_SOURCE;
      case 'migrate': return LIFETIME_SOURCE;
      case 'xfd': return XFD_SOURCE;
    }
  }
}

function orMaps(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] | b[i];
  return out;
}

/** Name of an MSR as a hardware register location: `hw.IA32_XFD`, `hw.STAR`. */
export function hwMsrName(index: number): string {
  return (msrByIndex(index)?.name ?? hex(BigInt(index))).replace(/^MSR_/, '');
}

/** `CPUID (10)` for a VMX basic exit reason. */
function exitReasonLabel(code: number): string {
  const e = VMX_EXIT_BY_CODE.get(code);
  return e ? `${e.name.replace(/^EXIT_REASON_/, '')} (${code})` : String(code);
}
