import { describe, expect, it } from 'vitest';
import { normaliseText, squash, tokenize } from './moderation-tokenizer.ts';

const words = (text: string, maxInputChars = 100_000): string[] => tokenize(text, { maxInputChars }).key2;

describe('squash', () => {
  it('when a letter repeats beyond the allowed run, then the run is cut to that length', () => {
    expect(squash('killlllll', 2)).toBe('kill');
    expect(squash('kiiiilll', 1)).toBe('kil');
    expect(squash('kill', 2)).toBe('kill');
  });
});

describe('normaliseText', () => {
  it('when text uses fullwidth letters, diacritics, zero-width characters and Cyrillic look-alikes, then it folds to plain lowercase Latin', () => {
    expect(normaliseText('\uff2b\uff29\uff2c\uff2c', 100).text).toBe('kill');
    expect(normaliseText('k\u00efll', 100).text).toBe('kill');
    expect(normaliseText('ki\u200bll', 100).text).toBe('kill');
    expect(normaliseText('k\u0456ll', 100).text).toBe('kill');
  });

  it('when the input is longer than the limit, then it is cut at the limit in code points and marked truncated', () => {
    const emoji = '\u{1F600}';
    const result = normaliseText(emoji.repeat(10), 4);
    expect(result.text).toBe(emoji.repeat(4));
    expect(result.truncated).toBe(true);
    expect(normaliseText(emoji.repeat(4), 4).truncated).toBe(false);
  });

  it('when characters expand more than fourfold, then they are blanked and the text after them is kept', () => {
    const result = normaliseText(`${'\ufdfa'.repeat(50)} kill`, 100);
    expect(result.text.length).toBeLessThanOrEqual(4 * 55);
    expect(result.text.endsWith(' kill')).toBe(true);
    expect(result.truncated).toBe(false);
  });

  it('when Hangul decomposes into jamo, then it is kept whole (within the fourfold bound)', () => {
    const result = normaliseText('\ud55c\uad6d\uc5b4', 10);
    expect(result.text).toBe('\ud55c\uad6d\uc5b4'.normalize('NFKD'));
  });
});

describe('tokenize', () => {
  it('when words are written in leetspeak, then they fold to letters', () => {
    expect(words('k1ll y0u h4t3 $lut @ss')).toEqual(['kill', 'you', 'hate', 'slut', 'ass']);
  });

  it('when a leet digit is ambiguous, then the other reading is kept as an alternative', () => {
    const stream = tokenize('ki11', { maxInputChars: 100 });
    expect(stream.key2).toEqual(['kii']);
    expect(stream.alt).toEqual(['kill']);
  });

  it('when letters are stretched, then key2 keeps two and key1 keeps one', () => {
    const stream = tokenize('kiiiilllll', { maxInputChars: 100 });
    expect(stream.key2).toEqual(['kiill']);
    expect(stream.key1).toEqual(['kil']);
  });

  it('when contractions are written with or without an apostrophe, then they expand', () => {
    expect(words("I'll don't can't won't I'm john's")).toEqual([
      'i',
      'will',
      'do',
      'not',
      'can',
      'not',
      'will',
      'not',
      'i',
      'am',
      'john',
    ]);
    expect(words('im gonna u r')).toEqual(['i', 'am', 'going', 'to', 'you', 'are']);
    expect(words('I\u2019m')).toEqual(['i', 'am']);
  });

  it('when a word is spelled out letter by letter, then the letters join into one token', () => {
    expect(words('k i l l you')).toEqual(['kill', 'you']);
    expect(words('k.i.l.l you')).toEqual(['kill', 'you']);
    expect(words('a b then')).toEqual(['a', 'b', 'then']);
  });

  it('when punctuation ends a sentence, then tokens after it are in the next sentence; a dot inside a word is not an end', () => {
    const stream = tokenize('Visit example.com now. Then go! Why? Yes\nno', { maxInputChars: 1000 });
    expect(stream.key2).toEqual(['visit', 'example', 'com', 'now', 'then', 'go', 'why', 'yes', 'no']);
    expect([...stream.sentence]).toEqual([0, 0, 0, 0, 1, 1, 2, 3, 4]);
    expect(stream.sentenceCount).toBe(5);
  });

  it('when text is quoted on one line, then its tokens are marked quoted', () => {
    const stream = tokenize('he said "I will kill you" and left', { maxInputChars: 1000 });
    expect([...stream.quoted]).toEqual([0, 0, 1, 1, 1, 1, 0, 0]);
    const curly = tokenize('\u201cquoted\u201d plain', { maxInputChars: 1000 });
    expect([...curly.quoted]).toEqual([1, 0]);
  });

  it('when a quotation mark is never closed on its line, then nothing after it counts as quoted', () => {
    const stream = tokenize('"I will kill you\nsecond line', { maxInputChars: 1000 });
    expect([...stream.quoted]).toEqual([0, 0, 0, 0, 0, 0]);
  });

  it('when the input holds property names of Object.prototype, then they are ordinary words', () => {
    expect(words("constructor __proto__ toString hasOwnProperty constructor's valueOf'll")).toEqual([
      'constructor',
      'proto',
      'tostring',
      'hasownproperty',
      'constructor',
      'valueof',
      'will',
    ]);
  });

  it('when numbers appear, then the raw form keeps the digits', () => {
    const stream = tokenize('she is 12 years old', { maxInputChars: 100 });
    expect(stream.raw[2]).toBe('12');
  });
});
