// The executable VMX/SVM machine used by simulation (features/simulate). Pure: no parser, no LSP, no I/O.
export * from './state';
export * from './facts';
export { Machine, hwMsrName, type MsrDecision, type IntCtlOwner, type MachineSnapshot } from './machine';
import { vmcsField } from './facts';

/** Display form of a machine location: vmcs12 fields by their struct vmcs12 member (`vmcs12.guest_pdptr0`). */
export function displayLocation(loc: string): string {
  if (!loc.startsWith('vmcs12.')) return loc;
  let d = DISPLAY.get(loc);
  if (d === undefined) {
    const member = vmcsField(loc.slice(7))?.vmcs12?.member;
    d = member ? `vmcs12.${member}` : loc;
    DISPLAY.set(loc, d);
  }
  return d;
}
const DISPLAY = new Map<string, string>();
