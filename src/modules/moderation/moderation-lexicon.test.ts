import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import {
  CATEGORY_DAMPENERS,
  LEXICON_FILE,
  LEXICON_PATTERNS,
  LEXICON_WORDS,
  LexiconError,
  NEUTRAL_CONTEXTS,
  WORD_CLASSES,
  loadLexicon,
} from './moderation-lexicon.ts';
import { compileLexicon } from './moderation-lexicon-compiler.ts';
import { MODERATION_CATEGORIES, isModerationCategory } from './moderation-types.ts';

// The lexicon is data a reviewer edits by hand; these checks catch the slips that would
// otherwise fail silently (a misspelt class, a weight of 8 instead of 0.8).

describe('moderation lexicon', () => {
  it('when it is compiled, then every pattern parses and every class it names exists', () => {
    expect(() => compileLexicon()).not.toThrow();
    for (const pattern of LEXICON_PATTERNS) {
      for (const reference of pattern.pattern.match(/@[A-Z_]+/g) ?? []) {
        expect(WORD_CLASSES, `${pattern.id} uses ${reference}`).toHaveProperty(reference.slice(1));
      }
    }
  });

  it('when weights are read, then every one is a known category with a weight in (0, 1]', () => {
    for (const entry of [...LEXICON_WORDS, ...LEXICON_PATTERNS]) {
      const scores = Object.entries(entry.scores);
      expect(scores.length, JSON.stringify(entry)).toBeGreaterThan(0);
      for (const [category, weight] of scores) {
        expect(isModerationCategory(category), category).toBe(true);
        expect(weight).toBeGreaterThan(0);
        expect(weight).toBeLessThanOrEqual(1);
      }
    }
  });

  it('when ids and words are listed, then none repeats and every lexicon word is a single token', () => {
    const ids = LEXICON_PATTERNS.map((pattern) => pattern.id);
    expect(new Set(ids).size).toBe(ids.length);
    const words = LEXICON_WORDS.map((entry) => entry.word);
    expect(new Set(words).size).toBe(words.length);
    for (const word of words) expect(word, word).toMatch(/^[a-z]+$/);
    for (const word of Object.keys(NEUTRAL_CONTEXTS)) expect(word, word).toMatch(/^[a-z]+$/);
  });

  it('when dampeners are looked up, then every category has its list', () => {
    expect(Object.keys(CATEGORY_DAMPENERS).sort()).toEqual([...MODERATION_CATEGORIES].sort());
  });

  it('when patterns are matched, then each has at least one slot and a bounded gap', () => {
    for (const pattern of LEXICON_PATTERNS) {
      for (const gap of pattern.pattern.match(/~\d+/g) ?? []) {
        expect(Number(gap.slice(1)), pattern.id).toBeLessThanOrEqual(8);
      }
    }
  });
});

describe('moderation lexicon file', () => {
  // The shipped file with one change, written to a scratch file and loaded.
  function loadChanged(change: (lexicon: Record<string, unknown>) => void): Error | null {
    const dir = mkdtempSync(path.join(tmpdir(), 'lexicon-'));
    try {
      const lexicon = JSON.parse(readFileSync(LEXICON_FILE, 'utf8')) as Record<string, unknown>;
      change(lexicon);
      const file = path.join(dir, 'lexicon.json');
      writeFileSync(file, JSON.stringify(lexicon));
      loadLexicon(pathToFileURL(file));
      return null;
    } catch (err) {
      return err as Error;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  it('when the shipped file is loaded, then it passes its own checks', () => {
    expect(loadChanged(() => undefined)).toBeNull();
  });

  it('when a weight is written as 8 instead of 0.8, then loading fails naming the field', () => {
    const error = loadChanged((lexicon) => {
      const groups = lexicon.words as Array<{ words: Array<{ scores: Record<string, number> }> }>;
      groups[0]!.words[0]!.scores = { harassment: 8 };
    });
    expect(error).toBeInstanceOf(LexiconError);
    expect(error?.message).toMatch(/scores/);
  });

  it('when a category is misspelt, then loading fails', () => {
    const error = loadChanged((lexicon) => {
      const groups = lexicon.words as Array<{ words: Array<{ scores: Record<string, number> }> }>;
      groups[0]!.words[0]!.scores = { harasment: 0.3 };
    });
    expect(error).toBeInstanceOf(LexiconError);
  });

  it('when a pattern names a shared list that does not exist, then loading fails naming the pattern', () => {
    const error = loadChanged((lexicon) => {
      const groups = lexicon.patterns as Array<{ patterns: Array<Record<string, unknown>> }>;
      groups[0]!.patterns[0]!.not_followed_by = 'no_such_list';
    });
    expect(error?.message).toMatch(/names an unknown shared list "no_such_list"/);
  });
});
