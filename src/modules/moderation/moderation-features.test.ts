import { describe, expect, it } from 'vitest';
import { createFeatureExtractor, featureVector as vectorOf } from './moderation-features.ts';

const BITS = 18;
const extract = createFeatureExtractor(BITS);
const count = (text: string): number => extract(text, () => undefined);
const featureVector = (text: string, bits: number) => vectorOf(createFeatureExtractor(bits), text);

describe('hashed moderation features', () => {
  it('when the same text is hashed twice, then the buckets and signs are identical', () => {
    const a = featureVector('The quick brown fox jumps over the lazy dog.', BITS);
    const b = featureVector('The quick brown fox jumps over the lazy dog.', BITS);
    expect([...a.buckets]).toEqual([...b.buckets]);
    expect([...a.signs]).toEqual([...b.signs]);
  });

  it('when a word is hashed, then it yields a unigram and the 3- to 5-grams of the padded word', () => {
    // " cat " has 5 characters: three 3-grams, two 4-grams, one 5-gram; plus the unigram.
    expect(count('cat')).toBe(1 + 3 + 2 + 1);
    // A second word adds its own features and one bigram.
    expect(count('cat dog')).toBe(2 * 7 + 1);
  });

  it('when text differs only in case, width or punctuation, then the features are the same', () => {
    const plain = featureVector('hello world', BITS);
    for (const variant of ['HELLO, World!', 'ｈｅｌｌｏ　ｗｏｒｌｄ', '  hello...world  ']) {
      expect([...featureVector(variant, BITS).buckets], variant).toEqual([...plain.buckets]);
    }
  });

  it('when word order changes, then the bigrams change and the unigrams do not', () => {
    const ab = new Set(featureVector('alpha beta', BITS).buckets);
    const ba = new Set(featureVector('beta alpha', BITS).buckets);
    const shared = [...ab].filter((bucket) => ba.has(bucket));
    expect(shared.length).toBe(ab.size - 1);
  });

  it('when buckets are drawn, then every one is inside 2^bits and both signs occur', () => {
    const text = 'Every bucket index must stay inside the table whatever the words, 12345 ünïcödé 東京.';
    for (const bits of [10, 18, 24]) {
      const { buckets, signs } = featureVector(text, bits);
      expect(Math.min(...buckets)).toBeGreaterThanOrEqual(0);
      expect(Math.max(...buckets)).toBeLessThan(2 ** bits);
      expect(new Set(signs)).toEqual(new Set([1, -1]));
    }
  });

  it('when features repeat, then each bucket counts once, so repetition does not raise a score', () => {
    // The same word again adds only the bigram of the two.
    expect(count('cat cat cat cat')).toBe(count('cat') + 1);
    // A run of one letter: the unigram and, per length, the n-gram at the start, inside
    // and at the end (" aa", "aaa", "aa "; " aaa", "aaaa", "aaa "; ...).
    expect(count('a'.repeat(1_000))).toBe(1 + 3 * 3);
    expect(count('a'.repeat(1_000))).toBe(count('a'.repeat(10)));
  });

  it('when a word is very long, then only its first 24 characters make n-grams', () => {
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const long = letters.repeat(40);
    // 24 distinct letters padded to 26 characters: 24 3-grams, 23 4-grams, 22 5-grams, plus the unigram.
    expect(count(long)).toBe(1 + 24 + 23 + 22);
  });

  it('when one extractor handles many texts, then each text is counted on its own', () => {
    const fresh = createFeatureExtractor(BITS);
    expect(fresh('cat', () => undefined)).toBe(7);
    expect(fresh('cat', () => undefined)).toBe(7);
  });

  it('when text has no letters or digits, then it has no features', () => {
    expect(count('  ... !!! --- ')).toBe(0);
    expect(count('')).toBe(0);
  });
});
