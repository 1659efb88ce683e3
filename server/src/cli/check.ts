import { CliError, type CliIO } from './io';

export async function runCheck(_args: string[], _io: CliIO): Promise<number> {
  throw new CliError('check: not implemented yet');
}
