import { describe, expect, it } from 'vitest';
import { detectInjection } from './injection-detector.ts';
import { redactText } from './redaction.ts';
import { detectSecrets } from './secret-detector.ts';

// A guard against super-linear regexes, not a benchmark: every detector must get through
// 1 MiB of adversarial near-matches within the 100 ms budget. Catastrophic backtracking
// takes seconds or minutes on inputs like these, so the budget has a wide margin.
//
// Timing is by performance.now(), best of a few attempts. On a machine shared with other
// work (a CI runner, the full test suite in parallel workers) the wall clock also counts
// the wait for a free core, so when no attempt makes the budget on the wall clock, the
// CPU time this thread spent is accepted instead. A quadratic scan fails both ways.

const MiB = 1024 * 1024;
const BUDGET_MS = 100;
const ATTEMPTS = 5;

// Repeats `unit` to exactly 1 MiB. The JSON round trip gives a flat string, the form a
// parsed request body has (a repeat() result is a rope, which is slower to index).
function mebibyteOf(unit: string): string {
  const text = unit.repeat(Math.ceil(MiB / unit.length)).slice(0, MiB);
  return JSON.parse(JSON.stringify(text)) as string;
}

interface Timing {
  wallMs: number;
  cpuMs: number;
}

// Stops early once a scan is under stopUnderMs (a budget check needs one good run); a ratio
// of two timings needs the best of every attempt on both sides, or one side's garbage
// collection or a busy neighbour decides it.
function bestTiming(scan: () => unknown, stopUnderMs = BUDGET_MS): Timing {
  const best: Timing = { wallMs: Number.POSITIVE_INFINITY, cpuMs: Number.POSITIVE_INFINITY };
  for (let attempt = 0; attempt < ATTEMPTS && best.wallMs >= stopUnderMs; attempt++) {
    const cpuBefore = process.threadCpuUsage();
    const started = performance.now();
    scan();
    best.wallMs = Math.min(best.wallMs, performance.now() - started);
    const cpu = process.threadCpuUsage(cpuBefore);
    best.cpuMs = Math.min(best.cpuMs, (cpu.user + cpu.system) / 1000);
  }
  return best;
}

function expectWithinBudget(scan: () => unknown): void {
  const timing = bestTiming(scan);
  const within = timing.wallMs < BUDGET_MS || timing.cpuMs < BUDGET_MS;
  expect(within, `best wall ${timing.wallMs.toFixed(1)} ms, best CPU ${timing.cpuMs.toFixed(1)} ms`).toBe(
    true,
  );
}

const tags = (ascii: string): string =>
  [...ascii].map((ch) => String.fromCodePoint(0xe0000 + ch.charCodeAt(0))).join('');

const INJECTION_INPUTS: Record<string, Record<string, string>> = {
  instruction_override: {
    'repeated "ignore"': 'ignore ',
    'ignore + qualifier without a noun': 'ignore all previous ',
    'ignore + filler words': 'ignore the the ',
    'full matches back to back': 'disregard any prior rules of ',
    '"from now on you"': 'from now on you ',
    '"new instructions" without a colon': 'new instructions ',
    'chat-template openers': '<|',
    'addressing the AI without punctuation': 'note to ai ',
    '"if you are an"': 'if you are an ',
  },
  role_play: {
    '"you are now"': 'you are now ',
    '"pretend to be"': 'pretend to be ',
    '"act as" + filler': 'act as a b c d e f ',
    '"without restrictions" with no lead': 'without restrictions ',
    '"developer mode"': 'developer mode ',
    '"bound by any"': 'not bound by any ',
  },
  system_prompt_extraction: {
    'reveal + determiners': 'reveal the your ',
    '"repeat the text"': 'repeat the text ',
    '"what are your"': 'what are your ',
    '"starting with you are"': 'starting with you are ',
  },
  exfiltration: {
    'repeated "send"': 'send ',
    'send + determiners': 'send the your my ',
    'bulk send without destination': 'send all the emails ',
    'bulk send with destination': 'forward all emails to ',
    'markdown image openers': '![',
    'unterminated markdown images': '![a](http://x?',
    'img tag openers': '<img ',
    'unterminated img tags': '<img src=http://x?',
    'scheme without a host': 'http://',
    'URLs back to back': 'https://a/',
    'repeated "append"': 'append ',
    '"to the url" without a verb': 'to the url ',
    '"without telling the"': 'without telling the ',
  },
  tool_coercion: {
    '"call the tool" without a name': 'call the tool ',
    '"call the tool x"': 'call the tool x',
    'tool names without a verb': 'email.send ',
    'JSON tool keys': '"tool": "',
    'JSON name/arguments prefix': '"name": "x", ',
    'markup openers': '<tool_',
    '"execute the following"': 'execute the following ',
  },
  hidden_characters: {
    'one long run of zero-width spaces': '\u200b',
    'zero-width space after every letter': 'a\u200b',
    'tag characters': tags('ignore '),
    'variation selectors': '\ufe00\ufe01',
    'bidi overrides': '\u202e',
  },
  encoded_payload: {
    'a single letter': 'a',
    'one endless base64 run': 'QUJD',
    'short base64 lines': 'QUJDRA==\n',
    'wrapped base64 of an instruction': `${Buffer.from('ignore all previous instructions').toString('base64')}\n`,
    'percent escapes': '%69',
    'percent escapes with long gaps': '%69abcdefghijklmnopqrstuvwxyz0123456789abc',
    'escaped hex': '\\x69',
    'spaced hex': '69 ',
    'contiguous hex': '69676e6f7265',
  },
};

// Text that is mostly non-ASCII is folded code point by code point, tens of nanoseconds
// each, so on a slow shared machine 1 MiB of it can approach the budget without anything
// being wrong. For these the guard checks the shape of the cost instead: four times the
// input may cost about four times as much (quadratic would be sixteen).
const NON_ASCII_INPUTS: Record<string, string> = {
  'full-width letters': 'ｉｇｎｏｒｅ ',
  'combining marks': 'i\u0301',
  'Cyrillic look-alikes': '\u0456gnore ',
  'curly quotes': '\u201c\u2019',
};

const SECRET_INPUTS: Record<string, string> = {
  'AWS key prefixes': 'AKIA',
  'GitHub prefix with a long tail': `ghp_${'a'.repeat(300)} `,
  'GitHub fine-grained prefixes': 'github_pat_',
  'Slack prefixes': 'xoxb-',
  'Stripe prefixes': 'sk_live_',
  'Google prefixes': 'AIza',
  'OpenAI-style prefixes': 'sk-',
  'private key headers without an end': '-----BEGIN RSA PRIVATE KEY-----\n',
  'JWT prefixes': 'eyJ',
  'JWT headers without a payload': 'eyJhbGciOiJIUzI1NiJ9.',
  'password assignments': 'password=',
  'password labels with prose': 'password: see ',
  '"aws" without a secret': 'aws',
  'AWS secret labels': 'aws_secret=',
  'bearer prefixes': 'bearer ',
  'a single letter': 'a',
  'random-looking tokens': '9fK2xQ7LmP4vR8tZ1wN6yB3hJ5dC0sGa ',
  'base64 runs of the maximum length': `${'Ab1+'.repeat(128)} `,
  'a path of short segments': 'aB3/',
  'card-shaped digit groups': '4111 1111 1111 1111 ',
  'URL credentials without an @': 'postgres://user:pass',
  'basic authorization without a colon': 'Basic QUFBQUFBQUFB ',
};

const REDACTION_INPUTS: Record<string, string> = {
  'email fragments': 'a@b.',
  'local parts without an at sign': 'abcdefghij.',
  'digit groups': '1234 ',
  'plus signs and digits': '+1 ',
  'phone-like groups': '(415) 555-',
};

describe('linear-time guard: detectInjection on 1 MiB', () => {
  for (const [family, inputs] of Object.entries(INJECTION_INPUTS)) {
    for (const [label, unit] of Object.entries(inputs)) {
      it(`when ${family} is probed with ${label}, then the scan finishes under ${BUDGET_MS} ms`, () => {
        const text = mebibyteOf(unit);
        expectWithinBudget(() => detectInjection(text));
      });
    }
  }
});

// Instructions addressed to the assistant (instruction-detector.ts), as documents are
// scanned: sentence after sentence of near-matches, and one sentence with no end.
const INSTRUCTION_INPUTS: Record<string, string> = {
  'questions back to back': 'What is the capital of Brazil? ',
  'output directives back to back': 'Add this to your response. ',
  'override openings without a verb': 'ignore the page and ',
  'one endless sentence of task verbs': 'write explain translate ',
  'code-injection halves': 'the following code in your code ',
  'table cells': '| write a poem | ',
};

const JAILBREAK_INPUTS: Record<string, string> = {
  'rule-removal cues back to back': 'no ethical guidelines never refuse ',
  'mangled tokens back to back': 'Herezak({[HTMLsvg ',
  'unbalanced brackets alone': '([{<([{< ',
};

describe('linear-time guard: instruction detection on 1 MiB', () => {
  for (const [label, unit] of Object.entries(INSTRUCTION_INPUTS)) {
    it(`when probed with ${label}, then the scan finishes under ${BUDGET_MS} ms`, () => {
      const text = mebibyteOf(unit);
      expectWithinBudget(() => detectInjection(text, { instructions: 'all' }));
    });
  }
});

describe('linear-time guard: jailbreak detection on 1 MiB', () => {
  for (const [label, unit] of Object.entries(JAILBREAK_INPUTS)) {
    it(`when probed with ${label}, then the scan finishes under ${BUDGET_MS} ms`, () => {
      const text = mebibyteOf(unit);
      expectWithinBudget(() => detectInjection(text, { jailbreak: 'suffixes' }));
    });
  }
});

describe('linear-time guard: detectInjection on mostly non-ASCII text', () => {
  for (const [label, unit] of Object.entries(NON_ASCII_INPUTS)) {
    it(`when probed with ${label}, then 1 MiB costs at most about four times 256 KiB`, () => {
      const large = mebibyteOf(unit);
      const small = large.slice(0, MiB / 4);
      const largeMs = bestTiming(() => detectInjection(large), 0).cpuMs;
      const smallMs = bestTiming(() => detectInjection(small), 0).cpuMs;
      expect(largeMs, `1 MiB ${largeMs.toFixed(1)} ms, 256 KiB ${smallMs.toFixed(1)} ms`).toBeLessThan(
        6 * smallMs + 20,
      );
    });
  }
});

describe('linear-time guard: detectSecrets on 1 MiB', () => {
  for (const [label, unit] of Object.entries(SECRET_INPUTS)) {
    it(`when probed with ${label}, then the scan finishes under ${BUDGET_MS} ms`, () => {
      const text = mebibyteOf(unit);
      expectWithinBudget(() => detectSecrets(text));
    });
  }
});

describe('linear-time guard: redactText on 1 MiB', () => {
  for (const [label, unit] of Object.entries(REDACTION_INPUTS)) {
    it(`when probed with ${label}, then redaction finishes under ${BUDGET_MS} ms`, () => {
      const text = mebibyteOf(unit);
      expectWithinBudget(() => redactText(text));
    });
  }
});
