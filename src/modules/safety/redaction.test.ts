import { Writable } from 'node:stream';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { REDACT_PATHS } from '../../platform/logger.ts';
import { REDACTED, redactForLog, redactText, redactValue } from './redaction.ts';
import { luhnValid } from './secret-detector.ts';

const fake = (...pieces: string[]): string => pieces.join('');
const GITHUB = fake('ghp_', 'x7Kp2LmQ9rT4vW8zN1yB6hJ3dC5sGa0FeT2u');

describe('redactText: emails', () => {
  it('when an address is outside the tenant domains, then it is replaced whole', () => {
    expect(redactText('write to jane.doe@example.test today', { tenantEmailDomains: ['acme.test'] })).toBe(
      `write to ${REDACTED.email} today`,
    );
  });

  it('when an address is in a tenant domain or its subdomain, then it stays', () => {
    const text = 'bob@acme.test and eu@sales.acme.test';
    expect(redactText(text, { tenantEmailDomains: ['acme.test'] })).toBe(text);
  });

  it('when no tenant domains are given, then every address is masked', () => {
    expect(redactText('bob@acme.test')).toBe(REDACTED.email);
  });

  it('when a domain merely ends like a tenant domain, then it is still masked', () => {
    expect(redactText('x@notacme.test', { tenantEmailDomains: ['acme.test'] })).toBe(REDACTED.email);
  });
});

describe('redactText: cards', () => {
  it.each([
    '4111 1111 1111 1111',
    '4111-1111-1111-1111',
    '4111111111111111',
    '378282246310005',
    '6011000990139424',
  ])('when the text holds the Luhn-valid number %s, then it is masked', (card) => {
    expect(redactText(`card ${card} ok`)).toBe(`card ${REDACTED.card} ok`);
  });

  it.each([
    ['a Luhn-invalid number', '4111 1111 1111 1112'],
    ['an order id with a prefix', 'ORD-4111111111111111'],
    ['a 12-digit number', '411111111111'],
    ['a 20-digit number', '41111111111111111113'],
  ])('when the text holds %s, then it is kept', (_label, text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe('redactText: phones', () => {
  it.each([
    '+1 415 555 2671',
    '+44 20 7946 0958',
    '+4930123456',
    '(415) 555-2671',
    '415-555-2671',
    '020 7946 0958',
    '01 23 45 67 89',
  ])('when the text holds the phone number %s, then it is masked', (phone) => {
    expect(redactText(`call ${phone} now`)).toBe(`call ${REDACTED.phone} now`);
  });

  it.each([
    ['a timestamp', '2024-05-12 10:30:00'],
    ['an ISO date', 'due 2024-05-12'],
    ['a bare ten-digit id', 'order 4155552671'],
    ['a unix time', 'at 1715509800'],
    ['a prefixed order number', 'ORD-415-555-2671'],
    ['a version number', 'v1.2.3'],
  ])('when the text holds %s, then it is kept', (_label, text) => {
    expect(redactText(text)).toBe(text);
  });
});

describe('redactText: secrets', () => {
  it('when the text holds a token, then it is masked and nothing of it survives', () => {
    const redacted = redactText(`use ${GITHUB} for CI`);
    expect(redacted).toBe(`use ${REDACTED.secret} for CI`);
    expect(redacted).not.toContain(GITHUB.slice(4, 12));
  });

  it('when a secret contains something email-like, then the secret mask wins', () => {
    expect(redactText('password=alice@example.test99')).toBe(`password=${REDACTED.secret}`);
  });

  it('when the text is longer than maxStringLength, then it is cut and marked', () => {
    expect(redactText('abcdef', { maxStringLength: 3 })).toBe(`abc${REDACTED.truncated}`);
  });

  it('when nothing sensitive is present, then the text is returned unchanged', () => {
    const text = 'The quarterly report is attached. Revenue is up 8%.';
    expect(redactText(text)).toBe(text);
  });
});

describe('redactValue', () => {
  it('when given nested JSON, then strings are redacted at every level', () => {
    const value = { note: 'mail a@x.test', items: [{ phone: '+1 415 555 2671' }, 'ok'], count: 3 };
    expect(redactValue(value)).toEqual({
      note: `mail ${REDACTED.email}`,
      items: [{ phone: REDACTED.phone }, 'ok'],
      count: 3,
    });
  });

  it('when keys name credentials, then their values are masked whatever they look like', () => {
    expect(
      redactValue({ password: 'x', apiKey: 42, headers: { Authorization: 'Basic abc' }, token: null }),
    ).toEqual({
      password: REDACTED.value,
      apiKey: REDACTED.value,
      headers: { Authorization: REDACTED.value },
      token: null,
    });
  });

  it('when a card number is stored as a number, then it is masked', () => {
    expect(redactValue({ card: 4111111111111111, total: 1999 })).toEqual({
      card: REDACTED.card,
      total: 1999,
    });
  });

  it('when a key is itself personal data, then the key is redacted and collisions kept apart', () => {
    expect(redactValue({ 'a@x.test': 1, 'b@y.test': 2 })).toEqual({
      [REDACTED.email]: 1,
      [`${REDACTED.email}#2`]: 2,
    });
  });

  it('when the input is redacted, then the input object is left untouched', () => {
    const input = { to: 'a@x.test', nested: { list: ['b@y.test'] } };
    const snapshot = structuredClone(input);
    redactValue(input);
    expect(input).toEqual(snapshot);
  });

  it('when the value nests deeper than maxDepth, then the deep part is truncated', () => {
    expect(redactValue({ a: { b: { c: 'x' } } }, { maxDepth: 2 })).toEqual({ a: { b: REDACTED.truncated } });
  });

  it('when the value refers to itself, then the cycle is cut', () => {
    const value: Record<string, unknown> = { name: 'loop' };
    value.self = value;
    expect(redactValue(value)).toEqual({ name: 'loop', self: REDACTED.circular });
  });

  it('when a value has toJSON, binary data, functions or symbols, then JSON semantics apply', () => {
    expect(
      redactValue({
        at: new Date('2024-01-02T03:04:05Z'),
        bytes: Buffer.from('x'),
        fn: () => 1,
        sym: Symbol('s'),
      }),
    ).toEqual({ at: '2024-01-02T03:04:05.000Z', bytes: REDACTED.binary });
  });

  it('when given a primitive, then it is handled like a field', () => {
    expect(redactValue('x@y.test')).toBe(REDACTED.email);
    expect(redactValue(true)).toBe(true);
    expect(redactValue(undefined)).toBeUndefined();
  });
});

describe('redactForLog', () => {
  it('when a log object carries personal data and long text, then it is masked and cut', () => {
    const logged = redactForLog({ user: 'a@x.test', body: 'y'.repeat(5000) }) as {
      user: string;
      body: string;
    };
    expect(logged.user).toBe(REDACTED.email);
    expect(logged.body.endsWith(REDACTED.truncated)).toBe(true);
    expect(logged.body.length).toBeLessThan(4200);
  });
});

describe('REDACT_PATHS', () => {
  function logThrough(object: Record<string, unknown>): Record<string, unknown> {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    pino({ redact: { paths: [...REDACT_PATHS], censor: '[REDACTED]' } }, sink).info(object, 'test');
    return JSON.parse(lines[0]!) as Record<string, unknown>;
  }

  it('when a request with credentials is logged, then headers and secrets are censored', () => {
    const line = logThrough({
      req: {
        method: 'POST',
        headers: { authorization: 'Bearer k', cookie: 's=1', 'x-api-key': 'k2', accept: 'json' },
      },
      config: { password: 'p', host: 'db' },
    });
    expect(line.req).toEqual({
      method: 'POST',
      headers: {
        authorization: '[REDACTED]',
        cookie: '[REDACTED]',
        'x-api-key': '[REDACTED]',
        accept: 'json',
      },
    });
    expect(line.config).toEqual({ password: '[REDACTED]', host: 'db' });
  });

  it('when a proposal is logged, then its free text is censored and its shape kept', () => {
    const line = logThrough({
      tool: 'email.send',
      arguments: { to: 'a@x.test', body: 'secret plans' },
      context: { user_prompt: 'p', source_documents: [{ source: 's', content: 'c' }] },
    });
    expect(line.tool).toBe('email.send');
    expect(line.arguments).toEqual({ to: 'a@x.test', body: '[REDACTED]' });
    expect(line.context).toEqual({ user_prompt: '[REDACTED]', source_documents: '[REDACTED]' });
  });
});

describe('luhnValid', () => {
  it('when digits pass the check, then it is true, and one digit off makes it false', () => {
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398714')).toBe(false);
  });
});
