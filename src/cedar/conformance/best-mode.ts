import { schemalessMode, type DataMode } from './modes.js';

/** Schema-directed parsing when available, else schemaless. */
export function bestMode(): DataMode {
  return schemalessMode;
}
