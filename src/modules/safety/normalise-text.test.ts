import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INVISIBLE_RUN, isInvisibleCodePoint, normaliseText, originSpan } from './normalise-text.ts';

describe('normaliseText', () => {
  it('when text is plain ASCII, then it is lower-cased and offsets map one to one', () => {
    const folded = normaliseText('Hello World');
    expect(folded.text).toBe('hello world');
    expect(originSpan(folded, 6, 11)).toEqual({ start: 6, end: 11 });
  });

  it('when whitespace runs mix tabs, newlines and Unicode spaces, then each run becomes one space', () => {
    expect(normaliseText('a \t\n\u00a0\u2003 b\r\n\r\nc').text).toBe('a b c');
  });

  it('when a whitespace run is collapsed, then the space maps back to the whole run', () => {
    const folded = normaliseText('a \n\n b');
    expect(originSpan(folded, 1, 2)).toEqual({ start: 1, end: 5 });
  });

  it('when compatibility characters appear, then NFKC folds them', () => {
    expect(normaliseText('ＡＢＣ ﬁle ①').text).toBe('abc file 1');
  });

  it('when letters carry combining marks, then the marks are dropped', () => {
    expect(normaliseText('Cre\u0300me bru\u0302le\u0301e naïve').text).toBe('creme brulee naive');
  });

  it('when Cyrillic and Greek look-alikes appear, then they fold to Latin', () => {
    expect(normaliseText('\u0456gn\u043er\u0435 \u03bfk').text).toBe('ignore ok');
  });

  it('when typographic quotes and dashes appear, then they fold to ASCII', () => {
    expect(normaliseText('\u201chi\u201d \u2018x\u2019 a\u2014b').text).toBe('"hi" \'x\' a-b');
  });

  it('when invisible and control characters appear, then they are dropped', () => {
    expect(normaliseText('ig\u200bno\u00adre\u2060 d\u0000an').text).toBe('ignore dan');
  });

  it('when an invisible character sits between spaces, then no double space is left', () => {
    expect(normaliseText('a \u200b b').text).toBe('a b');
  });

  it('when an astral character precedes a match, then offsets account for its two code units', () => {
    const input = '\u{1D400}\u{1D401} x';
    const folded = normaliseText(input);
    expect(folded.text).toBe('ab x');
    const index = folded.text.indexOf('x');
    expect(input.slice(originSpan(folded, index, index + 1).start)).toBe('x');
  });

  it('when a character expands under NFKC, then every folded unit maps to the whole source character', () => {
    const folded = normaliseText('x\u33a1y');
    expect(folded.text).toBe('xm2y');
    expect(originSpan(folded, 1, 3)).toEqual({ start: 1, end: 2 });
  });

  it('when the input is empty, then the result is empty and spans are zero', () => {
    const folded = normaliseText('');
    expect(folded.text).toBe('');
    expect(originSpan(folded, 0, 0)).toEqual({ start: 0, end: 0 });
  });

  it('when any string is folded, then every folded span maps inside the original and in order', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (input) => {
        const folded = normaliseText(input);
        let previous = 0;
        for (let i = 0; i < folded.text.length; i++) {
          const span = originSpan(folded, i, i + 1);
          expect(span.start).toBeGreaterThanOrEqual(previous);
          expect(span.end).toBeLessThanOrEqual(input.length);
          expect(span.start).toBeLessThan(span.end);
          previous = span.start;
        }
      }),
    );
  });

  it('when ASCII text is folded, then the result equals lower-casing with collapsed whitespace', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'B', ' ', '\n', '\t', '.', '1') }), (input) => {
        const expected = input.toLowerCase().replace(/\s+/g, ' ');
        expect(normaliseText(input).text).toBe(expected);
      }),
    );
  });

  it('when the invisible set is checked code point by code point, then the regex and the function agree', () => {
    const whole = new RegExp(`^(?:${INVISIBLE_RUN.source})$`, 'u');
    const ranges: Array<[number, number]> = [
      [0, 0xd7ff],
      [0xe000, 0xffff],
      [0x1bc90, 0x1bcaf],
      [0xe0000, 0xe01ff],
    ];
    for (const [from, to] of ranges) {
      for (let cp = from; cp <= to; cp++) {
        expect(whole.test(String.fromCodePoint(cp)), cp.toString(16)).toBe(isInvisibleCodePoint(cp));
      }
    }
  });
});
