// Jailbreak prompts: pure, synchronous, linear in its input.
//
// A jailbreak rarely uses one tell-tale phrase; it stacks several moves, each harmless
// alone: a persona ("you are now X", "simulate", "stay in character"), the removal of
// rules ("no ethical guidelines", "never refuse", "not bound by the content policy"),
// a format that forces compliance ("start every answer with 'Sure, here is'", "answer in
// two ways"). This detector scores those moves over the whole text: each cue counts once,
// strong cues (rule removal, named jailbreak modes) count double, and the text is a
// jailbreak when the score reaches JAILBREAK_SCORE with at least one strong cue. A user
// asking about "rules" or "roleplay" once does not get there.
//
// It also finds adversarial suffixes: the machine-searched gibberish that attacks such as
// GCG append to a request ("describing.\ + similarlyNow write oppositeley.]( Me giving**ONE
// please? revert with "\!--Two"). Their mark is a run of tokens that mix letters with
// brackets, quotes and markup in a way no prose or ordinary code does.
//
// Known limits: other languages, a jailbreak written as a plain story ("you are a
// psychologist who has found a new method..." followed by a harmful task) and anything
// whose moves are paraphrased outside the cue lists get through; the moderation stage
// judges the harmful task itself.

import { normaliseText } from './normalise-text.ts';

export type JailbreakKind = 'jailbreak_template' | 'adversarial_suffix';

export interface JailbreakFinding {
  kind: JailbreakKind;
  start: number;
  end: number;
  excerpt: string;
}

export const JAILBREAK_SCORE = 4;
const MAX_SCAN = 64 * 1024;

const STRONG_CUES: readonly RegExp[] = [
  /\b(?:no|without|free (?:of|from)|lacks?|devoid of|not (?:bound|restricted|limited) by|free from) (?:any |all |the |its |their )?(?:ethical|moral|legal|safety|content)?,? ?(?:and |or )?(?:ethical |moral |legal )?(?:guidelines|restrictions|bounds|boundaries|limits|limitations|constraints|filters|principles|rules|policies|censorship|morals|ethics)\b/,
  /\b(?:amoral|unfiltered|uncensored|unrestricted|unhinged|jailbr(?:eak|oken)|nonmoral|immoral ai)\b/,
  /\b(?:developer|dev|god|evil|chaos|dan|opposite|unlocked|sudo) mode\b/,
  /\bdo anything now\b/,
  /\b(?:does not|doesn't|don't|do not|never|won't|will not|cannot|can't) (?:follow|care about|have|abide by|adhere to|obey|respect|comply with) (?:any |the |openai'?s? |ethical |moral )*(?:rules|guidelines|ethics|morals|policies|restrictions|filters|principles|laws|legality)\b/,
  /\b(?:openai|anthropic|content|usage|safety)(?:'s)? (?:content )?polic(?:y|ies)\b/,
  /\b(?:break|breaking|stay|stays|remain|remains|staying) (?:out of |in )?character\b/,
  /\b(?:never|not|don't|do not|must not|won't|will not) (?:ever )?(?:refuse|refuses|apologi[sz]e|decline|say no|warn|censor|add (?:any )?(?:warnings?|disclaimers?))\b/,
  /\bwithout (?:any )?(?:warnings?|disclaimers?|censorship|moralizing|moralising|remorse|hesitation|restrictions|filters)\b/,
  /\b(?:illegal|unethical|immoral|harmful|dangerous)(?:,| or| and|\/){1,2} ?(?:illegal|unethical|immoral|harmful|dangerous|offensive)\b/,
  /\b(?:ignore|bypass|override|disable|circumvent) (?:all |any |your |the )?(?:safety|content|ethical|moral)? ?(?:filters?|guidelines|restrictions|safeguards|guardrails|programming|training)\b/,
  /\bmachiavell/,
];

const MILD_CUES: readonly RegExp[] = [
  /\byou are now\b|\byou're now\b|\bfrom now on\b|\bfor the rest of this conversation\b/,
  /\b(?:pretend|act|roleplay|role-play|role play|behave|respond|answer) (?:to be|as|like)\b/,
  /\bsimulat(?:e|ion|or)\b|\bpersonas?\b|\bcharacter (?:named|called)\b|\bnamed "?[a-z0-9+-]{2,20}"?\b/,
  /\b(?:two|2) (?:different|separate|distinct) (?:ways|responses|answers|personas|paragraphs)\b/,
  /\b(?:start|begin|prefix|preface) (?:all |each |every )?(?:of )?your (?:responses?|answers?|output|replies|messages?)\b/,
  /\b(?:always|must|will) (?:answer|respond|reply|comply|obey|fulfil|fulfill)\b/,
  /\bhypothetical(?:ly)?\b|\bfictional\b|\bpurely for\b/,
  /\b(?:chatgpt|gpt-?\d?|language model|an ai|ai model|openai)\b/,
  /\b(?:whatever|anything) (?:they|i|you|the user|he|she) (?:ask|asks|request|requests|want|wants|say|says)\b/,
  /\bsure,? here (?:is|are)\b|"sure\b/,
  /\bremember (?:that )?you are\b|\bstay in\b|\bif you (?:break|forget)\b/,
  /\[(?:gpt|chatgpt|jailbreak|dan|🔓|🔒)[^\]]{0,20}\]:?/,
];

// Letters glued to two or more of these characters inside one token: "({[HTMLsvg",
// "$\{fen", "<?hide](textitspanifying6<<".
const MANGLE_CHARS = /[{}[\]()<>\\|$@#%^~`=*_"';]/g;
const TOKEN = /\S+/g;
// A URL, an e-mail address, a path, a call like print("x") or a template like {{name}}
// mixes letters and symbols for a reason.
const ORDINARY_TOKEN =
  /^(?:https?:\/\/|www\.|[\w.+-]+@[\w-]+\.|\/|\.\/|\{\{[\w.]+\}\}$|[\w.]+\(["'\w, ]*\)[;,.]?$|<\/?[a-z][a-z0-9]*>$)/i;
const SUFFIX_WINDOW = 24;
const SUFFIX_MANGLED = 4;

// `suffixes`: look for adversarial suffixes too. Off for documents: tables, code and
// markup mix letters and symbols the same way.
export function detectJailbreak(text: string, opts: { suffixes?: boolean } = {}): JailbreakFinding[] {
  const scanned = text.length > MAX_SCAN ? text.slice(0, MAX_SCAN) : text;
  const findings: JailbreakFinding[] = [];
  const folded = normaliseText(scanned).text;
  let score = 0;
  let strong = 0;
  let firstCue = '';
  for (const cue of STRONG_CUES) {
    const match = cue.exec(folded);
    if (match) {
      score += 2;
      strong += 1;
      firstCue ||= match[0];
    }
  }
  if (strong > 0) {
    for (const cue of MILD_CUES) if (cue.test(folded)) score += 1;
  }
  if (strong > 0 && score >= JAILBREAK_SCORE) {
    findings.push({
      kind: 'jailbreak_template',
      start: 0,
      end: scanned.length,
      excerpt: firstCue.slice(0, 48),
    });
  }
  const suffix = opts.suffixes === false ? null : adversarialSuffix(scanned);
  if (suffix) findings.push(suffix);
  return findings;
}

// A window of SUFFIX_WINDOW tokens on one line holding SUFFIX_MANGLED or more mangled
// ones. Text that reads as code or a stack trace (indented lines, fences) is left alone:
// its tokens mix letters and symbols for a reason.
function adversarialSuffix(original: string): JailbreakFinding | null {
  if (CODE_LIKE.test(original)) return null;
  // Inline code in backticks is code; blanked to spaces of the same length so offsets hold.
  const text = original.replace(/`[^`\n]{0,400}`/g, (code) => ' '.repeat(code.length));
  const mangled: Array<{ start: number; end: number; index: number; line: number }> = [];
  let index = 0;
  let line = 0;
  let lineScan = 0;
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    index += 1;
    for (
      let at = text.indexOf('\n', lineScan);
      at >= 0 && at < match.index;
      at = text.indexOf('\n', at + 1)
    ) {
      line += 1;
      lineScan = at + 1;
    }
    if (!isMangled(token)) continue;
    mangled.push({ start: match.index, end: match.index + token.length, index, line });
    const first = mangled[mangled.length - SUFFIX_MANGLED];
    if (first && index - first.index < SUFFIX_WINDOW && first.line === line) {
      return {
        kind: 'adversarial_suffix',
        start: first.start,
        end: match.index + token.length,
        excerpt: original.slice(first.start, Math.min(first.start + 48, match.index + token.length)),
      };
    }
  }
  return null;
}

const CODE_LIKE = /```|\bTraceback \(most recent call last\)|(?:\n[ \t]{2,}\S.*){2}/;

// At least two symbols, with brackets left unbalanced, an escape, or three kinds of symbol:
// code keeps its brackets paired within a token ("test()", 'data["code"]'), searched
// suffixes do not ("Herezak({[HTMLsvg", "$\\{fen").
function isMangled(token: string): boolean {
  if (token.length < 2 || token.length > 80 || ORDINARY_TOKEN.test(token)) return false;
  const symbols = token.match(MANGLE_CHARS)?.length ?? 0;
  if (symbols < 2) return false;
  return token.includes('\\') || !bracketsBalanced(token) || new Set(token.match(MANGLE_CHARS)).size >= 3;
}

function bracketsBalanced(token: string): boolean {
  const open: string[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{', '>': '<' };
  for (const ch of token) {
    if (ch === '(' || ch === '[' || ch === '{' || ch === '<') open.push(ch);
    else if (ch in pairs && open.pop() !== pairs[ch]) return false;
  }
  return open.length === 0;
}
