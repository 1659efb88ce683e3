// VM-entry control fields that VM exit itself updates (so writing them back into vmcs12 on a nested VM exit is
// architectural, not an anomaly).
import { SDM } from './sources';

export interface ExitUpdatedControl { member: string; field: string; what: string; sources: string[] }

export const VMEXIT_UPDATED_CONTROLS: readonly ExitUpdatedControl[] = [
  {
    member: 'vm_entry_controls', field: 'VM_ENTRY_CONTROLS',
    what: 'the "IA-32e mode guest" VM-entry control is set to IA32_EFER.LMA at the time of the VM exit',
    sources: [SDM.exitRecordInfo],
  },
  {
    member: 'vm_entry_intr_info_field', field: 'VM_ENTRY_INTR_INFO_FIELD',
    what: 'the valid bit (31) of the VM-entry interruption-information field is cleared',
    sources: [SDM.exitRecordInfo],
  },
];
