import type { EngineAnswer, EngineRequest } from '../core/engine.js';
import { classifyLine, type ReplayItem } from './log-line.js';
import type { StoreDiff } from './store-diff.js';

/** What decides recorded requests again: a candidate version of one store. */
export interface Candidate {
  name: string;
  decide(requests: EngineRequest[]): Promise<EngineAnswer[]>;
}

/** Flips with the same cause: what determines the candidate's answer, and what determined the recorded one. */
export interface FlipGroup {
  /** Policies that determine the candidate's answer (a DENY with none: no policy permits it any more). */
  now: string[];
  /** Policies that determined the recorded answer. */
  was: string[];
  count: number;
  /** The first few recorded decision ids, to look the requests up in the log. */
  examples: string[];
}

export interface FlipsOneWay {
  count: number;
  /** Largest first. */
  groups: FlipGroup[];
}

export interface ReplayReport {
  /** Store diffs against the baseline, when one was given: the report's first section. */
  diffs?: StoreDiff[];
  /** Lines read, decision lines among them. */
  lines: number;
  decisions: number;
  replayed: number;
  unchanged: number;
  /** Decided the same way, but by other policies. */
  samePoliciesChanged: number;
  skipped: { reason: string; count: number; examples: string[] }[];
  /** DENY→ALLOW first: a request the live store refused that the candidate lets through. */
  denyToAllow: FlipsOneWay;
  allowToDeny: FlipsOneWay;
}

interface Pending {
  items: ReplayItem[];
}

/**
 * Decides recorded decisions again against candidate stores, a batch per store at a time (one
 * engine call per batch: measured, the per-call cost dominates a single native decision), and
 * counts what changed. Feed it lines with `add`; `finish` returns the report.
 */
export class Replayer {
  private lines = 0;
  private decisions = 0;
  private replayed = 0;
  private unchanged = 0;
  private samePoliciesChanged = 0;
  private readonly skipped = new Map<string, { count: number; examples: string[] }>();
  private readonly flips = {
    denyToAllow: new Map<string, FlipGroup>(),
    allowToDeny: new Map<string, FlipGroup>(),
  };
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly candidates: Map<string, Candidate>,
    private readonly options: { examples?: number; batchSize?: number } = {},
  ) {}

  private get examples() {
    return this.options.examples ?? 3;
  }

  /** One line of a log; resolves once any batch it completed has been decided. */
  async add(text: string): Promise<void> {
    this.lines++;
    const c = classifyLine(text);
    if (c.kind === 'other') return;
    this.decisions++;
    if (c.kind === 'skip') return this.skip(c.reason, c.decisionId);
    if (!this.candidates.has(c.item.store))
      return this.skip(`no candidate for store ${c.item.store}`, c.item.decisionId);
    let p = this.pending.get(c.item.store);
    if (!p) this.pending.set(c.item.store, (p = { items: [] }));
    p.items.push(c.item);
    if (p.items.length >= (this.options.batchSize ?? 500)) await this.run(c.item.store, p);
  }

  async finish(): Promise<ReplayReport> {
    for (const [store, p] of this.pending) await this.run(store, p);
    const groups = (m: Map<string, FlipGroup>): FlipsOneWay => {
      const list = [...m.values()].sort((a, b) => b.count - a.count);
      return { count: list.reduce((n, g) => n + g.count, 0), groups: list };
    };
    return {
      lines: this.lines,
      decisions: this.decisions,
      replayed: this.replayed,
      unchanged: this.unchanged,
      samePoliciesChanged: this.samePoliciesChanged,
      skipped: [...this.skipped]
        .map(([reason, s]) => ({ reason, ...s }))
        .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason)),
      denyToAllow: groups(this.flips.denyToAllow),
      allowToDeny: groups(this.flips.allowToDeny),
    };
  }

  private skip(reason: string, decisionId: string | undefined): void {
    let s = this.skipped.get(reason);
    if (!s) this.skipped.set(reason, (s = { count: 0, examples: [] }));
    s.count++;
    if (decisionId && s.examples.length < this.examples) s.examples.push(decisionId);
  }

  private async run(store: string, p: Pending): Promise<void> {
    const items = p.items;
    if (!items.length) return;
    p.items = [];
    let answers: EngineAnswer[];
    try {
      answers = await this.candidates.get(store)!.decide(items.map((i) => i.request));
    } catch (err) {
      answers = items.map(() => ({
        kind: 'failed',
        reason: 'engine_error',
        message: (err as Error).message,
      }));
    }
    items.forEach((item, k) => this.compare(item, answers[k]));
  }

  private compare(item: ReplayItem, answer: EngineAnswer | undefined): void {
    if (!answer || answer.kind === 'failed')
      return this.skip(`the candidate failed: ${answer?.message ?? 'no answer'}`, item.decisionId);
    this.replayed++;
    const now: 'ALLOW' | 'DENY' = answer.kind === 'evaluated' && answer.allow ? 'ALLOW' : 'DENY';
    const nowPolicies =
      answer.kind === 'evaluated'
        ? answer.determiningPolicies
        : [`(invalid for the candidate: ${answer.message})`];
    if (now === item.decision) {
      this.unchanged++;
      if (!samePolicies(nowPolicies, item.determiningPolicies)) this.samePoliciesChanged++;
      return;
    }
    const map = now === 'ALLOW' ? this.flips.denyToAllow : this.flips.allowToDeny;
    const [nowSorted, wasSorted] = [[...nowPolicies].sort(), [...item.determiningPolicies].sort()];
    const key = `${nowSorted.join('\0')}\u0001${wasSorted.join('\0')}`;
    let g = map.get(key);
    if (!g) map.set(key, (g = { now: nowSorted, was: wasSorted, count: 0, examples: [] }));
    g.count++;
    if (g.examples.length < this.examples) g.examples.push(item.decisionId);
  }
}

function samePolicies(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((p) => s.has(p));
}
