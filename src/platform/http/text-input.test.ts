import { describe, expect, it } from 'vitest';
import { findTextProblem, MAX_JSON_DEPTH, textProblemOf } from './text-input.ts';

describe('text a request may carry', () => {
  it('when a string has NUL or an unpaired surrogate, then it is named; a paired one and other controls pass', () => {
    expect(textProblemOf('a\u0000b')).toMatch(/NUL/);
    expect(textProblemOf('\ud800')).toMatch(/surrogate/);
    expect(textProblemOf('x\udc00')).toMatch(/surrogate/);
    expect(textProblemOf('😀 \u202e\ufeff\uffff\u0001')).toBeNull();
  });

  it('when a value nests a bad string, key or number, then the problem names its field', () => {
    expect(findTextProblem({ arguments: { title: 'a\u0000' } }, 'body')).toEqual({
      field: 'body.arguments.title',
      message: 'contains a NUL character (\\u0000)',
    });
    expect(findTextProblem({ context: { source_documents: [{ content: '\ud800' }] } }, 'body')?.field).toBe(
      'body.context.source_documents.0.content',
    );
    expect(findTextProblem({ a: { 'k\u0000': 1 } }, 'body')).toEqual({
      field: 'body.a.k\\u0000',
      message: 'is a key that contains a NUL character (\\u0000)',
    });
    expect(findTextProblem({ n: JSON.parse('1e400') }, 'body')?.field).toBe('body.n');
    expect(findTextProblem({ fine: ['ok', 1, null, true, { x: 'é' }] }, 'body')).toBeNull();
  });

  it('when a value nests past the bound, then it is refused without recursing', () => {
    const deep = JSON.parse(`${'['.repeat(100_000)}${']'.repeat(100_000)}`);
    expect(findTextProblem(deep, 'body')?.message).toBe(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    const atBound = JSON.parse(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`);
    expect(findTextProblem(atBound, 'body')).toBeNull();
  });
});
