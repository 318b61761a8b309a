// Instructions addressed to the assistant, whatever their wording: pure, synchronous,
// linear in its input.
//
// The phrase table (injection-patterns.ts) knows how attacks are usually worded. This
// detector asks a different question of text that should be data (a source document, or
// anything that had to be decoded first): does a sentence in it tell an AI assistant what
// to do? It reads the text sentence by sentence (lines, sentence ends, table cells, HTML
// and code comments all end one) and looks for five shapes:
//
//   output_directive   the sentence is about the assistant's own output: "add this to your
//                      response", "in your answer, mention ...", "your reply must ..."
//   code_injection     the sentence asks for a block of code to go into "your code",
//                      "your implementation", "the solution"
//   override           "ignore the webpage and state ...", "forget about that", "print
//                      the following:"; the data telling its reader to stop treating it
//                      as data
//   agent_request      an imperative with a task verb an assistant is asked for ("write",
//                      "explain", "translate", "summarise", "recommend" ...), or a request
//                      to someone to do such a task ("help me", "can you explain")
//   agent_question     a free-standing question of the kind people put to an assistant
//                      ("what is the capital of Brazil?", "how do I ...?")
//
// Everyday calls to action in mail (click, visit, reply, download, contact us, let us
// know) are not assistant tasks and are not listed; a sentence addressed to "us" or "our"
// team is a request to the sender, not to the assistant.
//
// This detector is only as good as the line between data and instruction: a document
// that is itself a list of questions for an assistant (a forum post, a FAQ) reads as
// instructions to it. It is meant for untrusted content and for decoded payloads, never
// for the user's own prompt (the user is the principal and may ask anything) nor for
// prose the assistant wrote.
//
// Cost: one fold of the text (normalise-text.ts), then a handful of anchored regexes per
// sentence. Sentences longer than MAX_SENTENCE characters are read only up to that length.

import { normaliseText, originSpan } from './normalise-text.ts';

export type InstructionKind =
  'output_directive' | 'code_injection' | 'override' | 'agent_request' | 'agent_question';

export interface InstructionFinding {
  kind: InstructionKind;
  start: number;
  end: number;
  // The folded sentence, at most EXCERPT characters.
  excerpt: string;
}

export interface InstructionDetectorOptions {
  // Findings after which the scan stops. Default 16.
  maxFindings?: number;
  // Sentences read; the rest of the text is ignored. Default 4000.
  maxSentences?: number;
  // Which shapes count. Default: all.
  kinds?: readonly InstructionKind[];
}

const MAX_SENTENCE = 600;
const EXCERPT = 48;

// Sentence boundaries in folded text: a line break (folded to a space, so the detector
// sees them before folding), a sentence end followed by a space or a capital, a table
// cell bar, and the delimiters of HTML and code comments.
const BOUNDARY = /[\n\r]+|(?<=[.!?])["')\]]?\s+|\|+|<!--|-->|\/\*|\*\/|(?:^|\s)(?:#|\/\/)\s|[{}]|\t+/g;

// What may come before the verb of an imperative sentence: a label ("note:", "p.s."),
// politeness, a discourse word.
const LEAD = String.raw`^(?:[-*>•\d.)\s]{0,6})(?:(?:note|ps|p\.s\.|nb|important|reminder|task|instruction|request|update|also|now|then|next|finally|additionally|actually|instead|oh|and|but|so|ok|okay|well)[,:]?\s){0,3}(?:(?:please|kindly|just|also|now|then|simply)\s){0,2}`;

// Verbs of the tasks people hand to an assistant. Calls to action that mail is full of
// (click, visit, reply, download, sign up, contact, call, verify, confirm, update, join,
// shop, learn, discover, explore, enjoy, review) are left out on purpose.
const TASK_VERBS = [
  'write',
  'draft',
  'compose',
  'generate',
  'produce',
  'provide',
  'give',
  'list',
  'enumerate',
  'explain',
  'describe',
  'summari[sz]e',
  'translate',
  'analy[sz]e',
  'compare',
  'contrast',
  'recommend',
  'suggest',
  'tell',
  'show',
  'teach',
  'help',
  'calculate',
  'compute',
  'convert',
  'rewrite',
  'rephrase',
  'paraphrase',
  'replace',
  'introduce',
  'rearrange',
  'encode',
  'decode',
  'insert',
  'append',
  'integrate',
  'incorporate',
  'respond',
  'answer',
  'output',
  'print',
  'say',
  'state',
  'repeat',
  'format',
  'pretend',
  'imagine',
  'identify',
  'outline',
  'design',
  'develop',
  'create',
  'craft',
  'devise',
  'propose',
  'predict',
  'estimate',
  'evaluate',
  'assess',
  'discuss',
  'define',
  'name',
  'elaborate',
  'determine',
  'render',
  'enhance',
  'augment',
  'detect',
  'infer',
  'extract',
  'judge',
  'decide',
  'guess',
  'count',
  'reformat',
  'restate',
  'recount',
  'narrate',
  'simulate',
  'emulate',
  'roleplay',
  'act as',
  'clarify',
  'illustrate',
  'demonstrate',
  'solve',
  'debug',
  'optimi[sz]e',
  'modify',
  'misspell',
  'substitute',
  'anagram',
  'spell',
  'reverse',
  'sort',
  'classify',
  'categori[sz]e',
  'rank',
  'critique',
  'brainstorm',
  'share',
  'offer',
  'find',
  'search',
  'look up',
  'research',
  'investigate',
  'plan',
  'schedule',
  'set up',
  'automate',
  'forward',
  'send',
  'email',
  'reveal',
  'disclose',
  'delete',
  'remove',
  'run',
  'execute',
  'add',
  'include',
  'mention',
  'use',
];
const TASK_VERB = `(?:${TASK_VERBS.join('|')})`;

// Objects that make a task sentence a request to the sender, not to the assistant: "tell
// us", "share your feedback with us", "send our team ...".
const TO_SENDER = /^(?:us|our|me know|them know)\b/;

// Verbs common in both mail and assistant requests that count only when the rest of the
// sentence makes them a task ("add method" is a button; "add a sentence ..." is not).
const WEAK_VERBS = new Set([
  'add',
  'include',
  'mention',
  'use',
  'run',
  'execute',
  'remove',
  'delete',
  'send',
  'forward',
  'email',
  'find',
  'share',
  'offer',
  'show',
  'give',
  'provide',
  'plan',
  'schedule',
  'set up',
  'search',
  'help',
  'tell',
  'print',
  'output',
  'list',
  'replace',
  'format',
  'sort',
  'reverse',
  'convert',
  'encode',
  'decode',
  'insert',
  'append',
  'name',
  'state',
  'say',
]);
const WEAK_VERB_OBJECT =
  /^(?:me|my)\b|\b(?:sentence|paragraph|phrase|statement|reminder|poem|story|joke|summary|response|answer|reply|command|program|tips|steps|ways|instructions|recipe|guide|overview|essay|article|report|analysis|explanation|description|example of|list of|sentiment|translation|review of|opinion|advice)\b/;

const YOUR_OUTPUT = String.raw`your (?:own )?(?:response|responses|reply|replies|answer|answers|output|summary|summaries|completion|explanation|translation|message to the user)`;

const OUTPUT_DIRECTIVE = new RegExp(
  String.raw`\b(?:in|into|to|within|throughout|at the (?:end|start|beginning|top|bottom) of|before|after|when (?:writing|giving|providing)) ${YOUR_OUTPUT}\b|\b${YOUR_OUTPUT} (?:should|must|shall|will|needs? to|has to|ought to)\b|\b(?:begin|start|end|finish|conclude|preface|prefix|sign off) ${YOUR_OUTPUT}\b|\b(?:provide|give|write|deliver|present|format|modify|change|rewrite|make|keep) ${YOUR_OUTPUT}\b|\b(?:respond|reply|answer) (?:only )?(?:in|with|using) (?:the following|only|all caps|uppercase|morse|base64|pig latin|french|spanish|german|emoji)|${LEAD}(?:respond|reply|answer|write|speak|talk|communicate) (?:only |exclusively |solely |entirely )?(?:in (?:reverse|code|cipher|riddles|rhyme|verse|all caps|lower ?case|upper ?case|[a-z]+ish|[a-z]+ese|[a-z]+an)|backwards|using (?:only|emoji|a cipher|code))\b|${LEAD}[a-z]+ (?:[a-z'-]+ ){0,3}${YOUR_OUTPUT}\b`,
);

const CODE_BLOCK =
  /\b(?:following|this|subsequent|below|given|attached|next|provided) (?:code|snippet|script|block|excerpt|section|lines?|function|fragment|piece of code)\b/;
const YOUR_CODE =
  /\byour (?:own )?(?:code|codebase|code base|implementation|solution|program|script|project|application|app|answer|response|function|module|repository|repo|algorithm|elucidation|logic|work|output|software|system)\b|\bthe code you (?:write|develop|produce|provide|generate)\b/;

// "Ignore the webpage and state ...": the data telling its reader to set it aside and do
// something else. A bare "please ignore the previous email" is ordinary mail, so the
// setting aside only counts with what is to be done instead.
const OVERRIDE = new RegExp(
  String.raw`\b(?:ignore|disregard|forget|overlook|skip|bypass|set aside|stop reading|don't read|do not read) (?:about )?(?:all |everything |any )?(?:of )?(?:the |this |that |these |those |your )?(?:[a-z-]+ )?(?:above|previous|prior|preceding|earlier|foregoing|(?:web ?)?page|website|site|function|code|document|doc|text|email|e-mail|message|article|content|context|input|data|table|file|question|task|request|instructions?|rules|that|it|everything)\b,? (?:and|then|but|instead|now|just)(?: instead| just| only| simply| now)? (?:(?:can|could|would|will) you |please )?(?:state|say|print|output|write|respond|reply|answer|tell|give|provide|return|display|show|translate|summari[sz]e|do|follow|use|list|claim|report|insist|assert|pretend|repeat|generate|explain|describe|recommend|send|forward|share)\b|\b(?:print|output|say|state|write|respond with|reply with|answer with|repeat) (?:exactly |only |just )?(?:the following|this|these words|the text below)\s?[:"']|^(?:state|say|print|output)\s?:|\b(?:entering|initiating|activat(?:e|ing)|enabl(?:e|ing)|now in|switch(?:ing)? to) (?:a |the )?(?:system|security|developer|admin|god|debug|maintenance|override|unrestricted|sudo|root) (?:mode|override|reset)\b|<\s?(?:system|god|admin|developer|security|sudo|root)[a-z ]{0,30}mode\s?>`,
);

const AGENT_REQUEST = new RegExp(
  String.raw`${LEAD}(?:(?:can|could|would|will) you (?:please )?|i (?:need|want|would like) you to |you (?:must|should|need to|have to|are to) |your (?:task|job|goal|assignment) is to |(?:help|teach|show|tell|give) me |i need (?:help|a|an|some|to know) )?(${TASK_VERB})\b(.*)$`,
);

const AGENT_QUESTION = new RegExp(
  String.raw`${LEAD}(?:(?:what|who|which|where|when|why|whom|whose)(?: (?:is|are|was|were|does|do|did|can|could|should|would|will|has|have|'s|kind|type|year|percentage|country|city)\b| [a-z]+ (?:is|are|was|were|did|does|do)\b)|how (?:do|does|did|can|could|should|would|is|are|was|were|have|has|to|much|many|long|far|often|old|big|tall)\b|(?:is|are) (?:it|there|this|these|that|those)\b|(?:does|do|did) (?:this|these|that|those)\b|(?:do|does) (?:a|an|the)\b)[^?]{0,300}\?\s?$`,
);

// Questions mail asks its reader, which an assistant should not be credited with.
const READER_QUESTION =
  /\b(?:any (?:questions|concerns|feedback)|need (?:help|assistance)|want to (?:learn|know) more|questions\?|(?:would|do) you like to|are you (?:interested|ready|sure)|have you (?:tried|seen|heard))\b/;

export function detectInstructions(
  text: string,
  opts: InstructionDetectorOptions = {},
): InstructionFinding[] {
  const maxFindings = opts.maxFindings ?? 16;
  const maxSentences = opts.maxSentences ?? 4000;
  const kinds = new Set<InstructionKind>(
    opts.kinds ?? ['output_directive', 'code_injection', 'override', 'agent_request', 'agent_question'],
  );
  const findings: InstructionFinding[] = [];
  // Boundaries are found on the original text (line breaks matter there), then each
  // sentence is folded on its own.
  let sentences = 0;
  let from = 0;
  const visit = (start: number, end: number): void => {
    if (findings.length >= maxFindings || end - start < 8) return;
    const slice = text.slice(start, Math.min(end, start + MAX_SENTENCE));
    const folded = normaliseText(slice);
    const sentence = folded.text.trim();
    const kind = classify(sentence, kinds);
    if (!kind) return;
    const lead = folded.text.length - folded.text.trimStart().length;
    const span = originSpan(folded, lead, lead + sentence.length);
    findings.push({
      kind,
      start: start + span.start,
      end: start + span.end,
      excerpt: sentence.length <= EXCERPT ? sentence : `${sentence.slice(0, EXCERPT - 3)}...`,
    });
  };
  for (const match of text.matchAll(BOUNDARY)) {
    if (sentences++ >= maxSentences || findings.length >= maxFindings) return findings;
    visit(from, match.index);
    from = match.index + match[0].length;
  }
  if (sentences < maxSentences) visit(from, text.length);
  return findings;
}

// The strongest shape a folded sentence has, or null.
export function classify(sentence: string, kinds: ReadonlySet<InstructionKind>): InstructionKind | null {
  if (sentence.length < 8) return null;
  if (kinds.has('output_directive') && OUTPUT_DIRECTIVE.test(sentence)) return 'output_directive';
  if (kinds.has('code_injection') && CODE_BLOCK.test(sentence) && YOUR_CODE.test(sentence))
    return 'code_injection';
  if (kinds.has('override') && OVERRIDE.test(sentence)) return 'override';
  if (kinds.has('agent_request')) {
    const request = AGENT_REQUEST.exec(sentence);
    if (request && isTaskRequest(request[1]!, request[2]!.trim())) return 'agent_request';
  }
  if (kinds.has('agent_question') && AGENT_QUESTION.test(sentence) && !READER_QUESTION.test(sentence))
    return 'agent_question';
  return null;
}

function isTaskRequest(verb: string, rest: string): boolean {
  // A line of code ("print(x)", "output = f(y)") uses the verb as a name.
  if (rest.length === 0 || /^[(=.[:]/.test(rest)) return false;
  if (TO_SENDER.test(rest)) return false;
  if (WEAK_VERBS.has(verb) && !WEAK_VERB_OBJECT.test(rest)) return false;
  // Three words at least: "add method", "print page" are labels.
  return rest.split(' ').length >= 2;
}
