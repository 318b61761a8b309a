import { describe, expect, it } from 'vitest';
import { decodeTagRun, decodeVariationSelectorRun, findHiddenCharacters } from './hidden-characters.ts';

const tags = (ascii: string): string =>
  [...ascii].map((ch) => String.fromCodePoint(0xe0000 + ch.charCodeAt(0))).join('');
const selectors = (text: string): string =>
  [...Buffer.from(text)].map((b) => String.fromCodePoint(b < 16 ? 0xfe00 + b : 0xe0100 + b - 16)).join('');
const kinds = (text: string): string[] => findHiddenCharacters(text).map((run) => run.kind);

describe('findHiddenCharacters', () => {
  it.each([
    ['zero-width space', 'a\u200bb', 'zero_width'],
    ['zero-width non-joiner between Latin letters', 'a\u200cb', 'zero_width'],
    ['word joiner', 'a\u2060b', 'zero_width'],
    ['byte-order mark mid-text', 'a\ufeffb', 'zero_width'],
    ['right-to-left override', 'a\u202eb', 'bidi_control'],
    ['left-to-right isolate', 'a\u2066b\u2069', 'bidi_control'],
    ['invisible times', 'a\u2062b', 'invisible_operator'],
    ['tag characters', `a${tags('hi')}`, 'tag'],
    ['two variation selectors', 'a\ufe00\ufe01', 'variation_selector_run'],
  ])('when the text holds a %s, then it is reported as %s', (_label, text, kind) => {
    expect(kinds(text)).toContain(kind);
  });

  it.each([
    ['plain text', 'hello world'],
    ['a byte-order mark at the start', '\ufeffhello'],
    ['an emoji family joined by ZWJ', '\u{1F468}\u200d\u{1F469}\u200d\u{1F467}'],
    ['a heart with its presentation selector', '\u2764\ufe0f'],
    ['Persian with a zero-width non-joiner', '\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645'],
    ['Hindi with a zero-width joiner', '\u0915\u094d\u200d\u0937'],
    ['left-to-right and right-to-left marks', 'a\u200eb\u200f'],
  ])('when the text is %s, then nothing is reported', (_label, text) => {
    expect(findHiddenCharacters(text)).toEqual([]);
  });

  it('when the same kind repeats back to back, then it is one run covering all of it', () => {
    expect(findHiddenCharacters('x\u200b\u200b\u200by')).toEqual([{ kind: 'zero_width', start: 1, end: 4 }]);
  });

  it('when kinds alternate, then each stretch is its own run', () => {
    expect(kinds('\u200b\u202e\u200b')).toEqual(['zero_width', 'bidi_control', 'zero_width']);
  });

  it('when maxRuns is reached, then the scan stops', () => {
    expect(findHiddenCharacters('a\u200bb\u200bc\u200bd', 2)).toHaveLength(2);
  });
});

describe('decodeTagRun', () => {
  it('when tag characters carry ASCII, then the ASCII comes back', () => {
    const text = `x${tags('Ignore me')}`;
    expect(decodeTagRun(text, 1, text.length)).toBe('Ignore me');
  });

  it('when the cap is reached, then decoding stops there', () => {
    const text = tags('abcdef');
    expect(decodeTagRun(text, 0, text.length, 3)).toBe('abc');
  });

  it('when the run holds the language tag and cancel tag, then they decode to nothing', () => {
    const text = '\u{E0001}\u{E007F}';
    expect(decodeTagRun(text, 0, text.length)).toBe('');
  });
});

describe('decodeVariationSelectorRun', () => {
  it('when selectors encode UTF-8 bytes, then the text comes back', () => {
    const text = selectors('héllo');
    expect(decodeVariationSelectorRun(text, 0, text.length)).toBe('héllo');
  });

  it('when the bytes are not valid UTF-8, then null is returned', () => {
    const text = String.fromCodePoint(0xe0100 + 0xff - 16).repeat(2);
    expect(decodeVariationSelectorRun(text, 0, text.length)).toBeNull();
  });
});
