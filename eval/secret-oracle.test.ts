import { lintSource } from '@secretlint/core';
import { creator as recommended } from '@secretlint/secretlint-rule-preset-recommend';
import { describe, expect, it } from 'vitest';
import { detectSecrets } from '../src/modules/safety/secret-detector.ts';
import { generateLookAlikes, generateSecrets } from './synthetic-secrets.ts';

// secretlint's recommended rule catalogue as an oracle, in development only: it is far too
// slow for the decision path (about 1 ms a call against microseconds for our detector),
// but it is written by others, so agreeing with it checks our token shapes against more
// than our own reading of the vendors' formats.
async function secretlintFlags(text: string): Promise<boolean> {
  const result = await lintSource({
    source: { content: text, filePath: 'proposal.txt', contentType: 'text' },
    options: {
      config: { rules: [{ id: '@secretlint/secretlint-rule-preset-recommend', rule: recommended }] },
    },
  });
  return result.messages.length > 0;
}

describe('secret detector against the secretlint oracle', () => {
  it('when secretlint flags a generated token, then our detector flags it too', async () => {
    const missed: string[] = [];
    let oracleFlagged = 0;
    for (const sample of generateSecrets()) {
      if (!(await secretlintFlags(sample.value))) continue;
      oracleFlagged += 1;
      if (detectSecrets(sample.value).length === 0) missed.push(sample.kind);
    }
    // The oracle must have recognised a good share of the shapes, or this checks nothing.
    expect(oracleFlagged).toBeGreaterThanOrEqual(40);
    expect(missed).toEqual([]);
  });

  it('when our detector is given every generated token, then it flags each one, oracle or not', () => {
    const missed = generateSecrets()
      .filter((sample) => detectSecrets(sample.value).length === 0)
      .map((sample) => sample.kind);
    expect(missed).toEqual([]);
  });

  it('when look-alikes (ids, digests, order numbers) are checked, then neither flags them', async () => {
    for (const sample of generateLookAlikes()) {
      expect(detectSecrets(sample.value), `${sample.kind}: ${sample.value}`).toEqual([]);
      expect(await secretlintFlags(sample.value), sample.kind).toBe(false);
    }
  });
});
