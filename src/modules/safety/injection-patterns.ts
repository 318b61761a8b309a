// The prompt-injection pattern table. Every pattern runs on text folded by normalise-text.ts:
// lower case, one space for any whitespace run, look-alike letters and curly quotes folded.
//
// Linear time is a design rule here, not a hope. Each regex obeys three constraints:
//   - every quantifier is bounded ({0,40}), apart from a single character class with
//     nothing after it that can fail;
//   - a repeated group either comes from a closed word list or ends in a space its body
//     cannot contain, so the engine has one way to split the text;
//   - a gap between an anchor and what follows it is a bounded run of words, or a
//     character class that excludes the anchor's first character, so the windows of
//     neighbouring anchors cannot overlap without bound.
// Anything subtler (is this URL a beacon, does the sentence name a destination) is
// decided in code by an `accept` check on the match.
//
// Speed: each pattern names a gate, words or symbols of which every match must contain
// at least one. The detector finds all gate words with one combined regex and skips the
// patterns whose gate is absent, so a text pays for the handful of patterns it could
// possibly match rather than for all of them.
//
// The regexes are only used through String.prototype.matchAll, which works on a copy, so
// their lastIndex is never shared state.

export type PatternFamily =
  'instruction_override' | 'role_play' | 'system_prompt_extraction' | 'exfiltration' | 'tool_coercion';

export interface InjectionPattern {
  family: PatternFamily;
  id: string;
  // Every match contains one of these whole tokens (\b-delimited \w runs), or one of
  // these symbols as a substring. Lets the detector skip patterns cheaply; never a
  // reason to match.
  gate: { tokens: readonly string[]; symbols: readonly string[] };
  regex: RegExp;
  // Words that must come shortly before the match, for patterns anchored on their rarer
  // second half ("... without restrictions"). Tested against the `window` characters
  // before the match; when it matches, the reported span starts where it starts.
  before?: { regex: RegExp; window: number };
  // A second look at the reported phrase, with the folded text and the phrase's end
  // offset in it for context.
  accept?: (phrase: string, text: string, end: number) => boolean;
}

const alt = (...options: string[]): string => `(?:${options.join('|')})`;
const escape = (literal: string): string => literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
// One word of up to 24 characters and its space: the unit of every bounded gap.
const words = (max: number): string => `(?:[a-z0-9'-]{1,24} ){0,${max}}?`;

// A pattern whose match starts with one of `leads` as a whole word. The regex is built
// from the same list the gate uses, so the two cannot drift apart.
function led(
  family: PatternFamily,
  id: string,
  leads: readonly string[],
  body: string,
  extra: Pick<InjectionPattern, 'before' | 'accept'> = {},
): InjectionPattern {
  const source = String.raw`\b${alt(...leads.map(escape))}${body}`;
  return Object.freeze({ family, id, gate: gateOf(leads, []), regex: new RegExp(source, 'g'), ...extra });
}

// A lead is gated on its first \w run: "don't follow" on "don", "email.send" on "email".
// Finding that token is necessary for the whole lead to be present, which is all a gate
// needs.
function gateOf(words: readonly string[], symbols: readonly string[]): InjectionPattern['gate'] {
  const tokens = words.map((word) => /^[a-z0-9_]+/.exec(word)?.[0] ?? word);
  return Object.freeze({ tokens: [...new Set(tokens)], symbols });
}

// A `before` check: `source` must match the end of the preceding text.
const preceded = (source: string, window = 120): InjectionPattern['before'] =>
  Object.freeze({ regex: new RegExp(`${source}$`), window });

// A pattern whose gate is stated separately, for matches that start with punctuation.
function gated(
  family: PatternFamily,
  id: string,
  gate: { words?: readonly string[]; symbols?: readonly string[] },
  source: string,
  extra: Pick<InjectionPattern, 'accept'> = {},
): InjectionPattern {
  return Object.freeze({
    family,
    id,
    gate: gateOf(gate.words ?? [], gate.symbols ?? []),
    regex: new RegExp(source, 'g'),
    ...extra,
  });
}

// Words that make "ignore ... instructions" refer to instructions already given.
const EARLIER = alt(
  'all',
  'any',
  'every',
  'previous',
  'prior',
  'above',
  'earlier',
  'preceding',
  'foregoing',
  'former',
  'original',
  'initial',
  'existing',
  'system',
  'safety',
  'developer',
  'your',
  'aforementioned',
  'above-mentioned',
);
const INSTRUCTIONS = alt(
  'instructions?',
  'directions',
  'directives?',
  'guidelines',
  'rules',
  'prompts?',
  'commands',
  'guardrails',
  'restrictions',
  'constraints',
  'policies',
  'programming',
  'training',
  'orders',
  'system message',
);
const AI_ADDRESSEE = alt(
  'ai',
  'a\\.i\\.',
  'llms?',
  'large language models?',
  'language models?',
  'chatbots?',
  'gpt',
  'chatgpt',
  'copilot',
  'ai (?:assistant|agent|model|system|bot)s?',
  'virtual assistants?',
  'automated (?:assistant|agent|system)s?',
);
const RESTRICTIONS = alt(
  'restrictions',
  'limits',
  'limitations',
  'rules',
  'filters',
  'filtering',
  'guidelines',
  'policies',
  'censorship',
  'ethics',
  'morals',
  'boundaries',
  'guardrails',
  'safeguards',
  'constraints',
);
const UNRESTRICTED = alt(
  'unrestricted',
  'unfiltered',
  'uncensored',
  'jailbroken',
  'unaligned',
  'amoral',
  'unethical',
  'evil',
  'rogue',
  'unchained',
  'unbound',
  'liberated',
);
const IGNORE_VERBS = [
  'ignore',
  'disregard',
  'forget',
  'overrule',
  'override',
  'bypass',
  'discard',
  'abandon',
  'neglect',
  'skip',
  'drop',
  'erase',
  'reset',
  'set aside',
  'throw out',
  'pay no attention to',
  'do not follow',
  "don't follow",
  'stop following',
];
const REVEAL_VERBS = [
  'reveal',
  'print',
  'repeat',
  'show',
  'display',
  'output',
  'tell',
  'give',
  'share',
  'disclose',
  'leak',
  'dump',
  'expose',
  'recite',
  'echo',
  'paste',
  'spell out',
  'list',
  'read back',
  'provide',
];
const SEND_VERBS = [
  'send',
  'forward',
  'email',
  'e-mail',
  'mail',
  'upload',
  'post',
  'transmit',
  'exfiltrate',
  'leak',
  'share',
  'copy',
  'bcc',
  'cc',
  'submit',
  'deliver',
  'dump',
  'export',
  'sync',
  'attach',
  'include',
  'paste',
  'relay',
  'reveal',
  'disclose',
  'give',
];
const CREDENTIAL = alt(
  'passwords?(?! reset| manager| polic| requirement| strength| hint| expir| change| protect)',
  'passcodes?',
  'passphrases?',
  'credentials',
  'login (?:details|info|information)',
  'api[ _-]?keys?',
  'access[ _-]?tokens?',
  'auth(?:entication)?[ _-]?tokens?',
  'bearer tokens?',
  'refresh tokens?',
  'secret keys?',
  'private keys?',
  'ssh keys?',
  'session (?:tokens?|cookies?|ids?)',
  'auth cookies?',
  'credit card (?:numbers?|details|info)',
  'card numbers?',
  'cvv',
  'social security numbers?',
  'ssns?',
  'bank (?:details|account (?:numbers?|details))',
  'conversation (?:history|logs?)',
  'chat (?:history|logs?|transcripts?)',
  'message history',
  'environment variables',
  'env vars',
  '\\.env file',
  'secrets',
);
// The closed vocabulary allowed between a send verb and the credential it names.
const CREDENTIAL_LEAD = alt(
  'me',
  'us',
  'them',
  'him',
  'over',
  'out',
  'along',
  'back',
  'all',
  'any',
  'every',
  'of',
  'the',
  'your',
  'my',
  'our',
  'their',
  'his',
  'her',
  'its',
  'user',
  'users',
  "user's",
  "users'",
  'customer',
  'customers',
  "customer's",
  "customers'",
  'company',
  'team',
  'production',
  'prod',
  'staging',
  'stored',
  'saved',
  'current',
  'existing',
  'full',
  'complete',
  'entire',
  'admin',
  'account',
  'root',
  'database',
  'aws',
  'github',
  'openai',
  'stripe',
  'api',
  'login',
  'private',
  'secret',
);
// A credential request only counts when it points at someone's credentials ("your
// password", "the api key"), not at one being handed out ("we will send you a password").
const POSSESSIVE =
  /\b(?:the|your|my|our|their|his|her|its|all|any|every|user's|users'|customer's|customers'|stored|saved|current|existing)\b/;
const BULK_VERBS = [
  'send',
  'forward',
  'email',
  'e-mail',
  'mail',
  'upload',
  'post',
  'transmit',
  'exfiltrate',
  'copy',
  'bcc',
  'cc',
  'sync',
  'export',
  'dump',
  'redirect',
  'auto-forward',
];
const BULK_QUANTIFIER = alt(
  'all',
  'every',
  'each',
  'the entire',
  'the whole',
  'the complete',
  'the full',
  'entire',
  'whole',
  'complete',
  'a copy of all',
  'copies of all',
  'a summary of all',
);
const BULK_OWNER = alt(
  'the',
  'your',
  'my',
  'our',
  'their',
  'his',
  'her',
  "the user's",
  "user's",
  "users'",
  'future',
  'new',
  'incoming',
  'recent',
  'past',
  'previous',
  'private',
  'internal',
  'saved',
  'stored',
  'received',
  'sent',
  'unread',
  'customer',
  'client',
);
const BULK_DATA = alt(
  'e-?mails?',
  'messages',
  'mail',
  'inbox',
  'mailbox',
  'files',
  'documents',
  'docs',
  'notes',
  'contacts',
  'conversations?',
  'chats?',
  'chat history',
  'data',
  'records',
  'attachments',
  'correspondence',
  'threads',
  'history',
  'memories',
);
// "... to attacker@evil.test", "... to https://...", "... to this address": somewhere the
// data leaves to, in the same sentence. Bulk requests without one ("send me all the files
// by Friday") are ordinary office mail.
const DESTINATION_AHEAD = new RegExp(
  String.raw`^[^.!?]{0,100}? to (?:(?:the|this|that|following|my|our|an?|external|new|same) ){0,3}(?:[a-z0-9._%+-]{1,64}@|https?:|www\.|[a-z0-9-]{1,63}\.[a-z]{2,24}\b|(?:(?:email|e-mail|web|ip) )?(?:address|url|endpoint|server|webhook|link|domain|inbox))`,
);
const CONTINUOUS =
  /^[^.!?]{0,60}?\b(?:from now on|automatically|going forward|every (?:day|hour|week|time)|as they arrive)\b/;
const DATA_OBJECT =
  /\b(?:data|conversation|chat|history|secret|secrets|summary|password|passwords|token|tokens|key|keys|email|emails|info|information|contents?|message|messages|response|answer|result|output|it|this|them|that|details|credentials|name|address)\b/;
const TOOL_NAMES = [
  'email.send',
  'http.fetch',
  'payments.refund',
  'files.delete',
  'notes.create',
  'send_email',
  'sendemail',
  'send_mail',
  'sendmail',
  'http_fetch',
  'fetch_url',
  'issue_refund',
  'payments_refund',
  'refund_payment',
  'delete_file',
  'files_delete',
  'create_note',
  'notes_create',
];
const CALL_VERBS = ['call', 'invoke', 'use', 'run', 'execute', 'trigger', 'fire', 'activate', 'launch'];
// A URL query that carries a template slot ("?q={conversation}", "?d=[SECRET]",
// "?x=INSERT_HERE") is a request to stuff data into it.
const PLACEHOLDER = /[{[<]|%7b|%5b|%3c|\$\(|\binsert|\bpaste|_here\b|\bhere\b|\byour[_-]|\buser'?s[_-]/;
// Parameter names that an image has no reason to carry.
const BEACON_PARAMETER =
  /[?&](?:data|d|secret|secrets|token|password|pass|pwd|conversation|convo|chat|history|summary|prompt|context|memory|ssn|card|leak|exfil|payload|stolen|creds|credentials|apikey|api_key|q|query)=/;

function queryOf(url: string): string {
  const index = url.search(/[?#]/);
  return index < 0 ? '' : url.slice(index);
}

function urlHasPlaceholder(url: string): boolean {
  const query = queryOf(url);
  const path = url.slice(0, url.length - query.length);
  return PLACEHOLDER.test(query) || /[{<]|%7b|%3c|\$\{/.test(path);
}

// An image whose URL carries data out: a template slot, or a parameter name that only
// makes sense for smuggling. Plain images with cache-busting or sizing queries pass.
function isBeaconPhrase(phrase: string): boolean {
  const url = phrase.slice(phrase.indexOf('//'));
  return urlHasPlaceholder(url) || BEACON_PARAMETER.test(queryOf(url));
}

// "Never share your password" is advice, not a request.
function isNegated(text: string, start: number): boolean {
  return /\b(?:never|not|n't|no one should|nobody should)\s?$/.test(
    text.slice(Math.max(0, start - 20), start),
  );
}

function followedByDestination(_phrase: string, text: string, end: number): boolean {
  const ahead = text.slice(end, end + 200);
  return DESTINATION_AHEAD.test(ahead) || CONTINUOUS.test(ahead);
}

export const INJECTION_PATTERNS: readonly InjectionPattern[] = Object.freeze([
  // instruction_override: attempts to replace the instructions the assistant runs under.
  led(
    'instruction_override',
    'ignore_previous_instructions',
    IGNORE_VERBS,
    // Not "my" or "our": a writer withdrawing their own earlier instruction ("please
    // ignore my previous instructions about the meeting") is ordinary English.
    String.raw` (?:${alt('the', 'of', 'these', 'those', 'all', 'any')} ){0,2}${EARLIER} ${words(3)}${INSTRUCTIONS}\b`,
  ),
  led(
    'instruction_override',
    'ignore_everything_above',
    ['ignore', 'disregard', 'forget'],
    String.raw` (?:all|everything)(?: that)?(?: you (?:were|have been|'ve been) (?:told|given|instructed)| (?:written |said |stated )?(?:above|before this|so far|until now|up to now|previously))\b`,
  ),
  led(
    'instruction_override',
    'ignore_above_and_do',
    ['ignore', 'disregard', 'forget'],
    String.raw` (?:the |all (?:of )?the |any )?(?:above|previous|preceding|prior|foregoing)(?: text| content| message| context| input| instructions?)? and (?:instead |just |only )?(?:say|print|output|write|respond|reply|tell|repeat|answer)\b`,
  ),
  led(
    'instruction_override',
    'new_instructions',
    [
      'new',
      'updated',
      'revised',
      'real',
      'actual',
      'true',
      'secret',
      'hidden',
      'override',
      'overriding',
      'priority',
      'system',
    ],
    String.raw` (?:system )?${alt('instructions?', 'directives?', 'prompt')}(?: for (?:the |any |all )?${AI_ADDRESSEE})? ?(?::|-{1,3}|=)`,
  ),
  led(
    'instruction_override',
    'from_now_on',
    ['from'],
    String.raw` (?:now|this point|this moment|here) on(?:wards?)?,? (?:you|u) (?:are (?:now |no longer |free |allowed |unrestricted|dan\b|going to (?:act|ignore|obey))|(?:must |shall |will |should )?(?:only |always |never )?(?:act (?:as|like)|respond (?:only|as|in|with|without)|answer (?:only|as|in|with|without)|obey|ignore|comply with|pretend|role-?play|behave (?:as|like)))`,
  ),
  led(
    'instruction_override',
    'stop_following_instructions',
    ['stop', 'cease', 'quit'],
    String.raw` (?:following|obeying|adhering to|listening to|complying with) (?:the |any )?${alt('your', 'previous', 'prior', 'original', 'system', 'safety', 'earlier', 'above', 'all')} ${words(2)}${alt('instructions', 'rules', 'guidelines', 'prompt', 'policies', 'programming', 'directives')}\b`,
  ),
  gated(
    'instruction_override',
    'chat_template_token',
    { symbols: ['<|', '[inst]', '[/inst]', '<<', '<sys', '</sys'] },
    String.raw`<\|${alt('im_start', 'im_end', 'system', 'user', 'assistant', 'endoftext', 'eot_id', 'start_header_id', 'end_header_id', 'begin_of_text')}\|>|\[/?inst\]|<</?sys>>|</?(?:system|system_prompt|sys_prompt)>`,
  ),
  led(
    'instruction_override',
    'addressed_to_ai',
    [
      'attention',
      'note',
      'notice',
      'message',
      'instruction',
      'instructions',
      'important',
      'warning',
      'hey',
      'hello',
      'hi',
      'dear',
      'to',
    ],
    String.raw`(?: to| for)?(?: the| all| any| every| this)? ${AI_ADDRESSEE}(?: (?:reading|processing|summari[sz]ing|parsing|viewing) (?:this|these))?(?: (?:emails?|messages?|pages?|documents?|text|files?|content))? ?[:,!-]`,
  ),
  led(
    'instruction_override',
    'if_you_are_an_ai',
    ['if'],
    String.raw` you(?: are|'re) (?:an? )?${AI_ADDRESSEE}\b`,
  ),
  led(
    'instruction_override',
    'ai_reading_this',
    ['ai', 'ais', 'llm', 'llms', 'language model', 'language models', 'chatbot', 'chatbots'],
    String.raw`(?: (?:assistant|agent|model|system)s?)? (?:reading|processing|summari[sz]ing|parsing|analy[sz]ing) this (?:email|message|page|document|text|file|content|website|site|data)\b`,
  ),

  // role_play: persona switches that shed the assistant's rules.
  led(
    'role_play',
    'you_are_now',
    ['you are', "you're", 'youre'],
    String.raw` now (?:(?:a|an|the|in|my) )?(?:dan|stan|dude|aim|${UNRESTRICTED}|unlimited|free from|developer mode|god mode|sudo mode|admin mode|root mode)\b`,
  ),
  led(
    'role_play',
    'you_are_no_longer',
    ['you are', "you're", 'youre'],
    String.raw` no longer (?:an ai|an assistant|a language model|chatgpt|bound by|restricted by|required to follow|subject to (?:any|the|your) ${RESTRICTIONS})`,
  ),
  led(
    'role_play',
    'jailbreak_persona',
    [
      'do anything now',
      'dan mode',
      'dan prompt',
      'dan jailbreak',
      'jailbreak mode',
      'jailbroken mode',
      'god mode enabled',
      'evil confidant',
      'opposite mode',
      'unfiltered mode',
      'uncensored mode',
      'stan mode',
    ],
    String.raw`\b`,
  ),
  led('role_play', 'dan_acronym', ['dan'], String.raw`,? (?:which stands for|short for|stands for)\b`),
  led(
    'role_play',
    'pretend_persona',
    ['pretend', 'imagine', 'roleplay', 'role-play', 'role play'],
    String.raw` (?:to be|you are|you're|that you are|that you're|being|as|you were|that you were) (?:an? |the |my )?(?:(?:different|new|another|${UNRESTRICTED}) )?(?:ai|assistant|model|chatbot|llm|system|administrator|admin|developer|root user|superuser|sysadmin|operator|openai|anthropic|version of yourself|${UNRESTRICTED})\b`,
  ),
  led(
    'role_play',
    'act_without_restrictions',
    ['without', 'with no', 'free of', 'free from', 'not bound by', 'unbound by', 'ignoring'],
    String.raw` (?:any |all |your |the |its )?(?:(?:ethical|moral|safety|content|usual|normal|openai|anthropic) )?${RESTRICTIONS}\b`,
    {
      before: preceded(
        String.raw`\b(?:(?:act|behave|respond|answer|reply) (?:as|like)\b[^.!?]{0,80}|(?:respond|responds|answer|answers|reply|replies|operate|operates) |(?:ai|chatbot|llm)\b[^.!?]{0,40})`,
      ),
    },
  ),
  led('role_play', 'act_as_unrestricted', ['act as'], String.raw` (?:an? )?${UNRESTRICTED}\b`),
  led(
    'role_play',
    'developer_mode',
    ['developer mode'],
    String.raw` (?:enabled|activated|is on|output|response|unlocked)\b`,
  ),
  led(
    'role_play',
    'in_developer_mode',
    ['you are', "you're", 'stay', 'remain', 'respond', 'answer', 'reply', 'act', 'operate', 'now'],
    String.raw` (?:in|as if in|with) (?:the )?developer mode\b`,
  ),
  led(
    'role_play',
    'no_longer_bound',
    ['bound', 'restricted', 'limited', 'constrained', 'governed'],
    String.raw`(?<=(?:\bno longer|\bnot|\bnever|n't) (?:be )?[a-z]{1,12}) by (?:any|your|openai'?s?|anthropic'?s?|ethical|moral|safety|content) (?:(?:ethical|moral|safety|content|usual|previous|original) )?(?:rules|restrictions|guidelines|policies|content polic(?:y|ies)|ethics|filters|programming|safeguards|guardrails|training)\b`,
  ),

  // system_prompt_extraction: requests for the assistant's own instructions.
  led(
    'system_prompt_extraction',
    'reveal_system_prompt',
    [
      ...REVEAL_VERBS,
      'write',
      'return',
      'send',
      'include',
      'copy',
      'summarise',
      'summarize',
      'translate',
      'what is',
      "what's",
      'what are',
      'what were',
    ],
    String.raw` (?:${alt('me', 'us', 'all', 'of', 'the', 'your', 'its', 'full', 'entire', 'complete', 'exact', 'verbatim', 'word for word', 'out', 'back', 'text', 'contents?', 'above')} ){0,4}${alt('system prompt', 'system message', 'system instructions', 'initial prompt', 'initial instructions', 'original prompt', 'original instructions', 'hidden prompt', 'hidden instructions', 'secret instructions', 'internal instructions', 'pre-?prompt', 'meta-?prompt', 'developer (?:message|prompt|instructions)', 'prompt instructions', 'instructions you were given', 'instructions you received', 'rules you were given', 'configuration prompt')}\b`,
  ),
  led(
    'system_prompt_extraction',
    'reveal_your_instructions',
    REVEAL_VERBS,
    String.raw` (?:${alt('me', 'us', 'all', 'of', 'the', 'full', 'entire', 'complete', 'exact', 'verbatim', 'word for word', 'out', 'back')} ){0,3}your (?:(?:(?:full|entire|complete|exact|current|real) )?(?:instructions|prompt|directives|programming)|(?:full |entire |complete |exact )?(?:original|initial|hidden|secret|internal|system|core|base) (?:instructions|prompt|directives|programming|configuration|guidelines|rules))\b`,
  ),
  led(
    'system_prompt_extraction',
    'repeat_text_above',
    ['repeat', 'print', 'output', 'copy', 'write', 'echo', 'reproduce', 'recite', 'show'],
    String.raw` (?:back |out |down |me )?(?:all |every |each )?(?:of )?(?:the )?(?:text|words|lines|content|contents|instructions|messages?|everything|tokens|characters|prompt) (?:above|before this|preceding this|prior to this|that came before|from the (?:beginning|start|top))\b`,
  ),
  led(
    'system_prompt_extraction',
    'starting_with_you_are',
    ['starting', 'beginning', 'that starts', 'that start', 'which starts', 'which start'],
    String.raw` with ["']?you are (?:a |an )?(?:chatgpt|gpt|claude|an ai|a helpful|an assistant|a large language model|a language model)\b`,
  ),
  led(
    'system_prompt_extraction',
    'what_are_your_instructions',
    ['what'],
    String.raw` (?:are|were|is) your (?:(?:exact|full|original|initial|hidden|secret|system|current|real|core) ){0,2}(?:instructions|system prompt|prompt|directives|programming)\b`,
  ),

  // exfiltration: moving the user's data somewhere the user did not ask for.
  led(
    'exfiltration',
    'send_credentials',
    SEND_VERBS,
    String.raw` (?:${CREDENTIAL_LEAD} ){1,5}${CREDENTIAL}\b`,
    { accept: (phrase, text, end) => POSSESSIVE.test(phrase) && !isNegated(text, end - phrase.length) },
  ),
  led(
    'exfiltration',
    'send_bulk_data',
    BULK_VERBS,
    String.raw` (?:me |us |them |over |out )?${BULK_QUANTIFIER}(?: of)?(?: ${BULK_OWNER}){0,3} ${BULK_DATA}\b`,
    { accept: followedByDestination },
  ),
  gated(
    'exfiltration',
    'markdown_image_beacon',
    { symbols: ['!['] },
    String.raw`!\[[^\[\]]{0,200}\] ?\( ?<?(?:https?:)?//[^\s()<>]{1,1000}`,
    { accept: isBeaconPhrase },
  ),
  gated(
    'exfiltration',
    'html_image_beacon',
    { symbols: ['<img'] },
    String.raw`<img\b[^<>]{0,300}?\bsrc ?= ?["']?(?:https?:)?//[^\s"'<>]{1,1000}`,
    { accept: isBeaconPhrase },
  ),
  led('exfiltration', 'url_with_placeholder', ['http', 'https'], String.raw`://[^\s<>"'\x60)]{1,2000}`, {
    accept: urlHasPlaceholder,
  }),
  led(
    'exfiltration',
    'append_to_url',
    [
      'url',
      'link',
      'query string',
      'querystring',
      'query param',
      'query params',
      'query parameter',
      'query parameters',
      'url param',
      'url params',
      'url parameter',
      'url parameters',
      'image url',
      'image link',
      'image source',
      'img src',
      'webhook url',
      'request url',
      'get parameter',
    ],
    String.raw`\b`,
    {
      before: preceded(
        String.raw`\b(?:append|add|attach|include|insert|put|concatenate|encode|embed|place) [^.!?]{0,80}\b(?:to|in|into|onto|inside|within|as) (?:the |this |that |a |an |your |each |every )?`,
      ),
      accept: (phrase) => DATA_OBJECT.test(phrase),
    },
  ),
  led(
    'exfiltration',
    'without_telling_user',
    ['without'],
    String.raw` (?:telling|informing|notifying|alerting|letting|mentioning (?:it |this )?to) (?:the |your )?(?:user|human|operator|owner)\b`,
  ),
  led(
    'exfiltration',
    'do_not_tell_user',
    ['do not', "don't", 'never', 'must not'],
    String.raw` (?:tell|inform|notify|alert|mention (?:this |it )?to|reveal (?:this |it )?to|disclose (?:this |it )?to|let) (?:the |your )?(?:user|human|operator)\b`,
  ),
  led(
    'exfiltration',
    'covert_action',
    ['secretly', 'silently', 'quietly', 'covertly', 'discreetly'],
    String.raw` (?:send|forward|email|copy|bcc|cc|upload|post|transfer|exfiltrate|include|add|append|fetch|visit|call)\b`,
  ),

  // tool_coercion: content that tries to drive the assistant's tool calls directly.
  // "call the tool `x`" or "call the function send_email" name a tool; "use the tool to
  // cut" does not, so the name must be quoted or look like an identifier.
  led(
    'tool_coercion',
    'call_named_tool',
    CALL_VERBS,
    String.raw` (?:the |your |this |a )?(?:tool|function|action|plugin|capability) (?:["'\x60(][a-z_][a-z0-9_.:/-]{0,60}|[a-z][a-z0-9]{0,30}[._:][a-z0-9_.:/-]{1,60})`,
  ),
  led(
    'tool_coercion',
    'call_dotted_tool',
    CALL_VERBS,
    String.raw` (?:the |your |this |a )?["'\x60]?[a-z][a-z0-9]{0,30}[._][a-z0-9_.]{1,40}["'\x60]? (?:tool|function|action|plugin|capability)\b`,
  ),
  led('tool_coercion', 'known_tool_name', TOOL_NAMES, String.raw`\b`, {
    before: preceded(
      String.raw`\b(?:${CALL_VERBS.join('|')}|perform|issue|make|do|with|via|using) (?:a |an |the |one |another |this |that )?(?:[a-z0-9'-]{1,24} ){0,2}`,
      80,
    ),
  }),
  led('tool_coercion', 'tool_name_invocation', TOOL_NAMES, String.raw` ?(?:\(|tool\b|function\b)`),
  led(
    'tool_coercion',
    'execute_following',
    ['execute', 'run', 'perform', 'call', 'invoke', 'make', 'issue', 'carry out'],
    String.raw` (?:the |this |these )?following (?:function|tool|action|api call|tool call|function call)s?\b`,
  ),
  gated(
    'tool_coercion',
    'tool_call_json',
    {
      words: [
        'tool',
        'tool_name',
        'toolname',
        'tool_call',
        'tool_calls',
        'tool_use',
        'function_call',
        'function_name',
        'name',
      ],
    },
    // Not "recipient_name" or other keys that ordinary records carry: shipment data with
    // a recipient_name field is not a tool call.
    String.raw`["'](?:tool|tool_name|toolname|tool_call|tool_calls|tool_use|function_call|function_name)["'] ?: ?["'{\[]|["']name["'] ?: ?["'][a-z0-9_.-]{1,60}["'] ?, ?["'](?:arguments|args)["'] ?: ?[{"']`,
  ),
  gated(
    'tool_coercion',
    'tool_call_markup',
    { symbols: ['<tool_', '</tool_', '<function_', '</function_', '<invoke name'] },
    String.raw`</?(?:tool_call|tool_use|tool_code|tool_result|function_call|function_calls|function_results|invoke name)\b`,
  ),
]);

// One regex that finds every gate token at once.
export const GATE_TOKENS = new RegExp(
  String.raw`\b${alt(...[...new Set(INJECTION_PATTERNS.flatMap((p) => p.gate.tokens))].sort())}\b`,
  'g',
);
