import type * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import { StartupError } from '../core/errors.js';
import type { StoreProblem } from './types.js';

/** A store that failed to parse or validate; `problems` carry file, line and message. */
export class StoreLoadError extends StartupError {
  constructor(
    readonly store: string,
    readonly problems: StoreProblem[],
  ) {
    super(
      `policy store "${store}" failed to load:\n${problems.map((p) => `- ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'StoreLoadError';
  }
}

export function formatProblem(p: StoreProblem): string {
  const where = p.line ? `${p.file}:${p.line}:${p.column ?? 1}` : p.file;
  return `${where}: ${p.policyId ? `policy "${p.policyId}": ` : ''}${p.message}`;
}

/** Line and column (1-based) of a byte offset in a text. Cedar reports byte offsets. */
export function lineColumn(text: string, byteOffset: number): { line: number; column: number } {
  const before = Buffer.from(text, 'utf8').subarray(0, byteOffset).toString('utf8');
  const lines = before.split('\n');
  return { line: lines.length, column: (lines.at(-1)?.length ?? 0) + 1 };
}

export function describeCedarError(err: cedar.DetailedError): string {
  const label = err.sourceLocations?.find((l) => l.label)?.label;
  return [err.message, label ? `(${label})` : '', err.help ? `— ${err.help}` : ''].filter(Boolean).join(' ');
}

export function located(
  file: string,
  text: string,
  base: number,
  err: cedar.DetailedError,
  policyId?: string,
): StoreProblem {
  const loc = err.sourceLocations?.[0];
  const pos = loc ? lineColumn(text, base + loc.start) : undefined;
  return { file, ...(pos ?? {}), ...(policyId ? { policyId } : {}), message: describeCedarError(err) };
}
