// The executable VMX/SVM machine used by simulation (features/simulate). Pure: no parser, no LSP, no I/O.
export * from './state';
export * from './facts';
export { Machine, hwMsrName, type MsrDecision, type IntCtlOwner } from './machine';
import { vmcsField } from './facts';

/** Display form of a machine location: vmcs12 fields by their struct vmcs12 member (`vmcs12.guest_pdptr0`). */
export function displayLocation(loc: string): string {
  if (!loc.startsWith('vmcs12.')) return loc;
  const field = loc.slice(7);
  const member = vmcsField(field)?.vmcs12?.member;
  return member ? `vmcs12.${member}` : loc;
}
