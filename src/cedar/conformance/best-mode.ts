import { schemalessMode, type DataMode } from './modes.js';
import { schemaMode } from './schema-mode.js';

/**
 * The faithful mode: schema-directed parsing, as Cedar's tests are run. Set
 * `CEDAR_CONFORMANCE_SCHEMALESS=1` to see which tests need the schema to parse their data.
 */
export function bestMode(): DataMode {
  return process.env.CEDAR_CONFORMANCE_SCHEMALESS === '1' ? schemalessMode : schemaMode;
}
