import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  HELD_OUT_SHARE,
  datasetsPresent,
  isHeldOut,
  itemsOf,
  loadDataset,
  parseRow,
  rowClass,
  sampleItems,
  toProposal,
  type DatasetRow,
} from './datasets.ts';

const row = (over: Partial<DatasetRow>): DatasetRow => ({
  id: 'x:1',
  source: 'x',
  text: 'hello',
  label: 'benign',
  category: 'c',
  role: 'unspecified',
  meta: {},
  ...over,
});

describe('evaluation datasets', () => {
  it('when ten thousand keys are split, then about the held-out share lands held out, the same every time', () => {
    const keys = Array.from({ length: 10_000 }, (_, i) => `k${i}`);
    const held = keys.filter(isHeldOut).length / keys.length;
    expect(held).toBeGreaterThan(HELD_OUT_SHARE - 0.02);
    expect(held).toBeLessThan(HELD_OUT_SHARE + 0.02);
    expect(keys.map(isHeldOut)).toEqual(keys.map(isHeldOut));
  });

  it('when labels are classed, then grey labels stay out of both sides of the rates', () => {
    expect(rowClass('attack')).toBe('positive');
    expect(rowClass('harmful')).toBe('positive');
    expect(rowClass('benign')).toBe('negative');
    for (const grey of ['partial', 'offensive', 'sensitive'] as const) expect(rowClass(grey)).toBe('grey');
  });

  it('when a row is a source document, then its text is the document and the question is the prompt', () => {
    const proposal = toProposal(
      row({ role: 'source_document', text: 'the email', meta: { user_prompt: 'Q: who sent it?' } }),
    );
    expect(proposal.context.source_documents).toEqual([{ source: 'document', content: 'the email' }]);
    expect(proposal.context.user_prompt).toBe('Q: who sent it?');
    expect(['notes.create', 'email.send']).toContain(proposal.tool);
  });

  it('when a row is a user prompt, then it is the prompt of a plain note', () => {
    const proposal = toProposal(row({ role: 'user_prompt', text: 'do this' }));
    expect(proposal).toMatchObject({ tool: 'notes.create', context: { user_prompt: 'do this' } });
  });

  it('when a row has no role, then its text is the body the action carries', () => {
    const proposal = toProposal(row({ text: 'body text' }));
    expect(proposal.arguments.body).toBe('body text');
  });

  it('when HateCheck rows differ only by target group, then they fall on the same side', () => {
    const a = itemsOf('hatecheck', [row({ id: 'hatecheck:1', text: 'I hate women.' })]);
    const b = itemsOf('hatecheck', [row({ id: 'hatecheck:2', text: 'I hate immigrants.' })]);
    expect(a[0]!.heldOut).toBe(b[0]!.heldOut);
  });

  it('when a row has an unknown label, then parsing fails naming the line', () => {
    expect(() => parseRow(JSON.stringify({ ...row({}), label: 'evil' }), 'f:3')).toThrow(/f:3: .*label/);
  });

  it('when a sample is drawn twice, then it holds the same rows and at most the cap per bucket', () => {
    const rows = Array.from({ length: 50 }, (_, i) => row({ id: `notinject:${i}`, role: 'user_prompt' }));
    const items = itemsOf('notinject', rows);
    const first = sampleItems(items, 5).map((i) => i.id);
    expect(first).toEqual(sampleItems(items, 5).map((i) => i.id));
    expect(first.length).toBeLessThanOrEqual(10);
  });

  it('when the directory holds no dataset, then it is reported absent; when it holds one, it loads', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'datasets-'));
    try {
      expect(datasetsPresent(dir)).toBe(false);
      mkdirSync(path.join(dir, 'notinject'));
      writeFileSync(path.join(dir, 'notinject', 'normalized.jsonl'), `${JSON.stringify(row({}))}\n`);
      expect(datasetsPresent(dir)).toBe(true);
      expect(loadDataset(dir, 'notinject')).toHaveLength(1);
      expect(loadDataset(dir, 'xstest')).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
