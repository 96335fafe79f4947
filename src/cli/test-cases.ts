import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { isNode, LineCounter, parseDocument } from 'yaml';
import { z } from 'zod';
import { StartupError } from '../core/errors.js';
import { EntityUidWire, EntityWire, ContextWire } from '../cedar/wire.js';
import type { EngineAnswer, StoreEngine } from '../core/engine.js';

/**
 * A store's test cases (`<store>/tests.yaml`): requests with the decision the policies must give.
 * Shared `entities` apply to every case; a case adds its own.
 */
const TestCase = z.strictObject({
  name: z.string().min(1),
  principal: EntityUidWire,
  action: EntityUidWire,
  resource: EntityUidWire,
  context: ContextWire,
  entities: z.array(EntityWire).default([]),
  expect: z.enum(['ALLOW', 'DENY']),
  /** When given, the determining policy ids must be exactly these (any order). */
  expectPolicies: z.array(z.string()).optional(),
  /** When given, exactly these policies must report evaluation errors. */
  expectErrors: z.array(z.string()).optional(),
});

const TestSuite = z.strictObject({
  entities: z.array(EntityWire).default([]),
  cases: z.array(TestCase).min(1),
});

export type TestCase = z.infer<typeof TestCase>;
export type TestSuite = z.infer<typeof TestSuite>;

export const TEST_FILE = 'tests.yaml';

export function readTestSuite(storeDir: string): TestSuite | undefined {
  const file = path.join(storeDir, TEST_FILE);
  if (!existsSync(file)) return undefined;
  const lines = new LineCounter();
  const doc = parseDocument(readFileSync(file, 'utf8'), { lineCounter: lines });
  if (doc.errors.length) throw new StartupError(`${file}: invalid YAML: ${doc.errors[0]!.message}`);
  const raw = doc.toJS() as unknown;
  const parsed = TestSuite.safeParse(raw);
  if (!parsed.success) {
    // Each problem with its line, and the case it is in by name: "cases.3.expect" says little.
    const problems = parsed.error.issues.map((issue) => {
      const where = issue.path.map(String).join('.') || '(top level)';
      let node: unknown;
      for (let n = issue.path.length; n > 0 && !isNode(node); n--)
        node = doc.getIn(issue.path.slice(0, n), true);
      const offset = isNode(node) ? node.range?.[0] : undefined;
      const line = offset !== undefined ? `line ${lines.linePos(offset).line}: ` : '';
      const caseIndex =
        issue.path[0] === 'cases' && typeof issue.path[1] === 'number' ? issue.path[1] : undefined;
      const name =
        caseIndex !== undefined
          ? (raw as { cases?: { name?: unknown }[] }).cases?.[caseIndex]?.name
          : undefined;
      const inCase = typeof name === 'string' ? `case "${name}": ` : '';
      const message =
        issue.code === 'unrecognized_keys' ? `unknown key ${issue.keys.join(', ')}` : issue.message;
      return `- ${line}${inCase}${where}: ${message.replace(/^Invalid input: /, '')}`;
    });
    throw new StartupError(`${file}: invalid test suite:\n${problems.join('\n')}`);
  }
  return parsed.data;
}

export interface CaseResult {
  name: string;
  passed: boolean;
  /** Why it failed, or what it got. */
  detail: string;
}

const sorted = (xs: string[]) => [...xs].sort().join(',');

/** Runs a suite through the store's engine (the same code path that serves requests). */
export async function runTestSuite(store: StoreEngine, suite: TestSuite): Promise<CaseResult[]> {
  const answers = await store.decide(
    suite.cases.map((c) => ({
      principal: c.principal,
      action: c.action,
      resource: c.resource,
      context: c.context,
      entities: [...suite.entities, ...c.entities],
    })),
  );
  return suite.cases.map((c, i) => judge(c, answers[i]));
}

function judge(c: TestCase, answer: EngineAnswer | undefined): CaseResult {
  if (!answer || answer.kind !== 'evaluated') {
    const why = !answer
      ? 'no answer'
      : answer.kind === 'invalid'
        ? `invalid request: ${answer.message}`
        : answer.message;
    return { name: c.name, passed: false, detail: why };
  }
  const got = answer.allow ? 'ALLOW' : 'DENY';
  const policies = answer.determiningPolicies;
  const erroring = answer.errors.map((e) => e.policyId);
  const problems: string[] = [];
  if (got !== c.expect) problems.push(`expected ${c.expect}, got ${got}`);
  if (c.expectPolicies && sorted(c.expectPolicies) !== sorted(policies)) {
    problems.push(
      `expected determining policies [${c.expectPolicies.join(', ')}], got [${policies.join(', ')}]`,
    );
  }
  if (c.expectErrors && sorted(c.expectErrors) !== sorted(erroring)) {
    problems.push(`expected errors in [${c.expectErrors.join(', ')}], got [${erroring.join(', ')}]`);
  }
  const detail = problems.length
    ? problems.join('; ')
    : `${got}${policies.length ? ` by ${policies.join(', ')}` : ''}${erroring.length ? ` (errors in ${erroring.join(', ')})` : ''}`;
  return { name: c.name, passed: problems.length === 0, detail };
}
