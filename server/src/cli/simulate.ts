import { CliError, type CliIO } from './io';

export async function runSimulate(_args: string[], _io: CliIO): Promise<number> {
  throw new CliError('simulate: not implemented yet');
}
