export function rng(seed: number): () => number;
export function synthCorpus(opts?: { seed?: number; minLines?: number; bigFiles?: number; bigLines?: number }): Array<{ path: string; text: string }>;
export function synthFile(lines?: number, seed?: number): string;
