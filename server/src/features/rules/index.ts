// The rule registry: one file per rule.
import type { Rule } from '../findings';
import { vmcsWidth } from './vmcsWidth';
import { intCtlWriteback } from './intCtlWriteback';
import { vmsaveRedundant } from './vmsaveRedundant';
import { msrPassthroughSync } from './msrPassthroughSync';
import { vmcbCleanBits } from './vmcbCleanBits';
import { vmcsUndefinedRead } from './vmcsUndefinedRead';
import { vmcsNeedlessWrite } from './vmcsNeedlessWrite';
import { vmwriteReadonly } from './vmwriteReadonly';
import { hostStateLifetime } from './hostStateLifetime';
import { nestedWriteback } from './nestedWriteback';
import { exitInfoSynthesis } from './exitInfoSynthesis';
import { fieldWidth } from './fieldWidth';
import { msrIntercept } from './msrIntercept';
import { unswitchedState } from './unswitchedState';
import { alwaysProvided } from './alwaysProvided';

export const RULES: Rule[] = [vmcsWidth, vmcsUndefinedRead, vmcsNeedlessWrite, vmwriteReadonly, hostStateLifetime,
  intCtlWriteback, vmsaveRedundant, msrPassthroughSync, vmcbCleanBits, nestedWriteback, exitInfoSynthesis, fieldWidth, msrIntercept,
  unswitchedState, alwaysProvided];
