// The rule registry: one file per rule.
import type { Rule } from '../findings';
import { vmcsWidth } from './vmcsWidth';
import { vmcsUndefinedRead } from './vmcsUndefinedRead';
import { vmcsNeedlessWrite } from './vmcsNeedlessWrite';
import { vmwriteReadonly } from './vmwriteReadonly';
import { hostStateLifetime } from './hostStateLifetime';

export const RULES: Rule[] = [vmcsWidth, vmcsUndefinedRead, vmcsNeedlessWrite, vmwriteReadonly, hostStateLifetime];
