// The rule registry: one file per rule.
import type { Rule } from '../findings';
import { vmcsWidth } from './vmcsWidth';

export const RULES: Rule[] = [vmcsWidth];
