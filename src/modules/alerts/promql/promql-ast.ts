// The PromQL syntax tree the local evaluator runs, built from the grammar Prometheus' own UI
// uses (@prometheus-io/lezer-promql, docs/adr/0022-local-alert-evaluation.md). Only the part of
// PromQL the shipped rule files need is accepted; anything else is rejected when the rules
// are loaded, never silently evaluated differently from Prometheus.
import { parser } from '@prometheus-io/lezer-promql';

export type MatchOp = '=' | '!=' | '=~' | '!~';

export interface LabelMatcher {
  name: string;
  op: MatchOp;
  value: string;
  // Anchored as Prometheus anchors label regexes: the whole value must match.
  regex?: RegExp;
}

export type BinaryOp =
  '+' | '-' | '*' | '/' | '%' | '^' | '==' | '!=' | '>' | '<' | '>=' | '<=' | 'and' | 'or' | 'unless';

export interface VectorMatching {
  // on(...) when true, ignoring(...) when false; an absent clause is ignoring().
  on: boolean;
  labels: string[];
  group: 'one-to-one' | 'group_left' | 'group_right';
  include: string[];
}

export type AggregateOp = 'sum' | 'max' | 'min' | 'avg' | 'count';

export type Expr =
  | { kind: 'number'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'vector'; matchers: LabelMatcher[]; offsetMs: number }
  | { kind: 'matrix'; selector: Extract<Expr, { kind: 'vector' }>; rangeMs: number }
  | { kind: 'call'; func: string; args: Expr[] }
  | { kind: 'aggregate'; op: AggregateOp; without: boolean; grouping: string[] | undefined; expr: Expr }
  | { kind: 'binary'; op: BinaryOp; lhs: Expr; rhs: Expr; returnBool: boolean; matching: VectorMatching }
  | { kind: 'negate'; expr: Expr };

// The grammar's node type, without depending on @lezer/common directly.
type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export class PromqlError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PromqlError';
  }
}

const BINARY_OPS: Record<string, BinaryOp> = {
  Add: '+',
  Sub: '-',
  Mul: '*',
  Div: '/',
  Mod: '%',
  Pow: '^',
  Eql: '==',
  Neq: '!=',
  Gtr: '>',
  Lss: '<',
  Gte: '>=',
  Lte: '<=',
  And: 'and',
  Or: 'or',
  Unless: 'unless',
};

const MATCH_OPS: Record<string, MatchOp> = { EqlSingle: '=', Neq: '!=', EqlRegex: '=~', NeqRegex: '!~' };

const AGGREGATE_OPS: ReadonlySet<string> = new Set(['sum', 'max', 'min', 'avg', 'count']);

const DURATION_UNITS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  y: 31_536_000_000,
};

export function parseDuration(text: string): number {
  const parts = [...text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)];
  if (parts.length === 0 || parts.map((p) => p[0]).join('') !== text) {
    throw new PromqlError(`not a duration: "${text}"`);
  }
  return parts.reduce((total, [, n, unit]) => total + Number(n) * DURATION_UNITS[unit as string]!, 0);
}

function unquote(literal: string): string {
  if (literal.startsWith('`')) return literal.slice(1, -1);
  if (literal.startsWith("'"))
    return JSON.parse(`"${literal.slice(1, -1).replace(/\\'/g, "'").replace(/"/g, '\\"')}"`) as string;
  return JSON.parse(literal) as string;
}

function parseNumber(text: string): number {
  const lower = text.toLowerCase();
  if (lower === 'inf' || lower === '+inf') return Infinity;
  if (lower === '-inf') return -Infinity;
  if (lower === 'nan') return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new PromqlError(`not a number: "${text}"`);
  return value;
}

function children(node: SyntaxNode): SyntaxNode[] {
  const out: SyntaxNode[] = [];
  for (let child = node.firstChild; child; child = child.nextSibling) out.push(child);
  return out;
}

export function parsePromql(source: string): Expr {
  const tree = parser.parse(source);
  tree.iterate({
    enter(node) {
      if (node.type.isError) {
        throw new PromqlError(`syntax error at offset ${node.from} in: ${source.trim()}`);
      }
    },
  });
  const text = (node: SyntaxNode) => source.slice(node.from, node.to);
  const unsupported = (node: SyntaxNode): never => {
    throw new PromqlError(`unsupported PromQL (${node.name}): ${text(node)}`);
  };
  const child = (node: SyntaxNode, name: string) => children(node).find((c) => c.name === name);

  const labelNames = (grouping: SyntaxNode | undefined) =>
    grouping
      ? children(grouping)
          .filter((c) => c.name === 'LabelName')
          .map(text)
      : [];

  function selector(node: SyntaxNode, offsetMs: number): Extract<Expr, { kind: 'vector' }> {
    const matchers: LabelMatcher[] = [];
    const identifier = child(node, 'Identifier');
    if (identifier) matchers.push({ name: '__name__', op: '=', value: text(identifier) });
    for (const m of children(child(node, 'LabelMatchers') ?? node).filter((c) =>
      c.name.endsWith('LabelMatcher'),
    )) {
      const nameNode = child(m, 'LabelName') ?? child(m, 'QuotedLabelName') ?? unsupported(m);
      const opNode = child(m, 'MatchOp')?.firstChild ?? unsupported(m);
      const valueNode = child(m, 'StringLiteral') ?? unsupported(m);
      const name = nameNode.name === 'LabelName' ? text(nameNode) : unquote(text(nameNode));
      const op = MATCH_OPS[opNode.name] ?? unsupported(opNode);
      const value = unquote(text(valueNode));
      matchers.push({
        name,
        op,
        value,
        ...(op === '=~' || op === '!~' ? { regex: new RegExp(`^(?:${value})$`, 's') } : {}),
      });
    }
    if (!matchers.some((m) => (m.op === '=' && m.value !== '') || (m.op === '=~' && !m.regex?.test('')))) {
      throw new PromqlError(`a selector must match at least one non-empty label: ${text(node)}`);
    }
    return { kind: 'vector', matchers, offsetMs };
  }

  function convert(node: SyntaxNode): Expr {
    switch (node.name) {
      case 'PromQL':
      case 'ParenExpr':
      case 'FunctionCallBody': {
        const inner = children(node).filter((c) => c.name !== '(' && c.name !== ')');
        if (inner.length !== 1) return unsupported(node);
        return convert(inner[0]!);
      }
      case 'NumberDurationLiteral':
      case 'NumberLiteral':
        return { kind: 'number', value: parseNumber(text(node)) };
      case 'StringLiteral':
        return { kind: 'string', value: unquote(text(node)) };
      case 'VectorSelector':
        return selector(node, 0);
      case 'MatrixSelector': {
        const vector = child(node, 'VectorSelector') ?? unsupported(node);
        const range = child(node, 'DurationExpr') ?? unsupported(node);
        return { kind: 'matrix', selector: selector(vector, 0), rangeMs: parseDuration(text(range)) };
      }
      case 'OffsetExpr': {
        const [inner] = children(node);
        const offset = child(node, 'OffsetDurationExpr') ?? unsupported(node);
        const offsetMs = parseDuration(text(offset));
        const target = convert(inner ?? unsupported(node));
        if (target.kind === 'vector') return { ...target, offsetMs };
        if (target.kind === 'matrix') return { ...target, selector: { ...target.selector, offsetMs } };
        return unsupported(node);
      }
      case 'UnaryExpr': {
        const [sign, inner] = children(node);
        const expr = convert(inner ?? unsupported(node));
        return sign && text(sign) === '-' ? { kind: 'negate', expr } : expr;
      }
      case 'FunctionCall': {
        const name = text(child(node, 'FunctionIdentifier') ?? unsupported(node));
        const body = child(node, 'FunctionCallBody') ?? unsupported(node);
        const args = children(body)
          .filter((c) => !['(', ')', ','].includes(c.name))
          .map(convert);
        return { kind: 'call', func: name, args };
      }
      case 'AggregateExpr': {
        const op = text(child(node, 'AggregateOp') ?? unsupported(node));
        if (!AGGREGATE_OPS.has(op)) return unsupported(node);
        const modifier = child(node, 'AggregateModifier');
        const body = child(node, 'FunctionCallBody') ?? unsupported(node);
        return {
          kind: 'aggregate',
          op: op as AggregateOp,
          without: Boolean(modifier && child(modifier, 'Without')),
          grouping: modifier ? labelNames(child(modifier, 'GroupingLabels')) : undefined,
          expr: convert(body),
        };
      }
      case 'BinaryExpr': {
        const parts = children(node);
        const opNode = parts.find((c) => BINARY_OPS[c.name] !== undefined) ?? unsupported(node);
        const operands = parts.filter(
          (c) => c !== opNode && c.name !== 'MatchingModifierClause' && c.name !== 'BoolModifier',
        );
        if (operands.length !== 2) return unsupported(node);
        const clause = child(node, 'MatchingModifierClause');
        const groupNode = clause && (child(clause, 'GroupLeft') ?? child(clause, 'GroupRight'));
        const groupings = clause ? children(clause).filter((c) => c.name === 'GroupingLabels') : [];
        return {
          kind: 'binary',
          op: BINARY_OPS[opNode.name]!,
          lhs: convert(operands[0]!),
          rhs: convert(operands[1]!),
          returnBool: Boolean(child(node, 'BoolModifier')),
          matching: {
            on: Boolean(clause && child(clause, 'On')),
            labels: labelNames(groupings[0]),
            group: !groupNode ? 'one-to-one' : groupNode.name === 'GroupLeft' ? 'group_left' : 'group_right',
            include: labelNames(groupings[1]),
          },
        };
      }
      default:
        return unsupported(node);
    }
  }

  return convert(tree.topNode);
}
