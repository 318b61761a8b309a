// Hashed text features for the trained moderation model (moderation-model.ts), shared by
// the model at run time and by its training script (eval/train-moderation.ts), so both see
// exactly the same features.
//
// No vocabulary is kept anywhere: every feature is a 32-bit hash folded into one of
// 2^bits buckets, with a sign taken from another bit of the same hash so that colliding
// features tend to cancel rather than add up (the "hashing trick"). The model file
// therefore holds one weight per bucket and no word or string from the training data.
//
// Features of one text (version 1):
// - words: runs of letters and digits after NFKC folding and lower-casing;
// - word unigrams and bigrams;
// - character 3-, 4- and 5-grams of each word padded with a space on both sides, which
//   catch inflections, misspellings and words glued together ("killthem").
// Features are binary: a bucket counts once per text however often its n-grams occur, and
// each counts 1 / sqrt(n), n the number of distinct buckets, so neither repetition
// ("zzzz zzzz zzzz") nor length makes a text score higher for saying the same thing.
//
// Cost: one pass over the text, at most about eight hashes per character, no allocation
// per feature (an extractor keeps one 4-byte stamp per bucket to tell a bucket already
// seen in this text). Changing anything here changes every feature: bump FEATURE_VERSION
// and retrain (the model loader refuses a model trained on another version).

export const FEATURE_VERSION = 2;

// Words longer than this contribute their unigram and only the n-grams of this prefix:
// a long run of letters (a hash, base64) must not dominate the features.
const MAX_WORD_CHARS_FOR_NGRAMS = 24;
const MIN_NGRAM = 3;
const MAX_NGRAM = 5;

// Namespaces keep a unigram, a bigram and a character n-gram with the same letters apart.
const SEED_UNIGRAM = 0x811c9dc5;
const SEED_NGRAM = 0x050c5d1f;
const BIGRAM_SALT = 0x9e3779b1;

const FNV_PRIME = 0x01000193;

// Murmur3's finaliser: spreads the bits of an FNV hash so that low bits (the bucket) and
// the top bit (the sign) are independent.
const mix = (h: number): number => {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
};

// Called once per distinct bucket of a text, with the bucket (0 .. 2^bits - 1) and the
// sign (+1 or -1) of its first feature.
export type FeatureVisitor = (bucket: number, sign: number) => void;

// Visits the features of a text and returns how many distinct buckets it visited.
export type FeatureExtractor = (text: string, visit: FeatureVisitor) => number;

const WORD = /[\p{L}\p{N}]+/gu;

// An extractor for 2^bits buckets (bits 1..24). Not re-entrant: a visitor must not call
// the same extractor (nothing here is asynchronous, so sequential calls are safe).
export function createFeatureExtractor(bits: number): FeatureExtractor {
  if (!Number.isInteger(bits) || bits < 1 || bits > 24) throw new Error('bits must be an integer in 1..24');
  const mask = (1 << bits) - 1;
  // seen[bucket] === stamp: the bucket was already visited for the current text.
  const seen = new Uint32Array(mask + 1);
  let stamp = 0;

  return (text, visit) => {
    stamp += 1;
    if (stamp === 0xffffffff) {
      seen.fill(0);
      stamp = 1;
    }
    let count = 0;
    const emit = (hash: number): void => {
      const h = mix(hash);
      const bucket = h & mask;
      if (seen[bucket] === stamp) return;
      seen[bucket] = stamp;
      visit(bucket, h >>> 31 === 1 ? -1 : 1);
      count += 1;
    };
    let previous = -1;
    for (const match of text.normalize('NFKC').toLowerCase().matchAll(WORD)) {
      const word = match[0];
      let unigram = SEED_UNIGRAM;
      for (let i = 0; i < word.length; i += 1) unigram = Math.imul(unigram ^ word.charCodeAt(i), FNV_PRIME);
      emit(unigram);
      if (previous !== -1) emit(Math.imul(previous, BIGRAM_SALT) ^ unigram);
      previous = unigram >>> 0;

      // Character n-grams of " word ", the padding written as code 32.
      const length = Math.min(word.length, MAX_WORD_CHARS_FOR_NGRAMS) + 2;
      const at = (i: number): number => (i === 0 || i === length - 1 ? 32 : word.charCodeAt(i - 1));
      for (let start = 0; start + MIN_NGRAM <= length; start += 1) {
        let h = SEED_NGRAM;
        for (let end = start; end < start + MAX_NGRAM && end < length; end += 1) {
          h = Math.imul(h ^ at(end), FNV_PRIME);
          if (end - start + 1 >= MIN_NGRAM) emit(h);
        }
      }
    }
    return count;
  };
}

// The features of a text as parallel arrays (buckets, signs), for training.
export function featureVector(
  extract: FeatureExtractor,
  text: string,
): { buckets: Int32Array; signs: Int8Array } {
  const buckets: number[] = [];
  const signs: number[] = [];
  extract(text, (bucket, sign) => {
    buckets.push(bucket);
    signs.push(sign);
  });
  return { buckets: Int32Array.from(buckets), signs: Int8Array.from(signs) };
}
