import { CliError, type CliIO } from './io';

export async function runStats(_args: string[], _io: CliIO): Promise<number> {
  throw new CliError('stats: not implemented yet');
}
