import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { detectSecrets, shannonEntropy, type SecretKind } from './secret-detector.ts';

// Fake secrets are assembled from pieces so this file holds no contiguous token for
// secret scanners to flag.
const fake = (...pieces: string[]): string => pieces.join('');
const b64url = (text: string): string => Buffer.from(text).toString('base64url');

const kindsIn = (text: string): SecretKind[] => detectSecrets(text).map((f) => f.kind);
const spansIn = (text: string): string[] => detectSecrets(text).map((f) => text.slice(f.start, f.end));

const SAMPLES: Array<[SecretKind, string, string]> = [
  ['aws_access_key_id', 'an AWS access key id', fake('AKIA', 'Q3ZR7XJ2M5KD9PLT')],
  ['aws_access_key_id', 'an AWS session key id', fake('ASIA', 'Q3ZR7XJ2M5KD9PLT')],
  ['github_token', 'a GitHub classic token', fake('ghp_', 'x7Kp2LmQ9rT4vW8zN1yB6hJ3dC5sGa0FeT2u')],
  ['github_token', 'a GitHub app token', fake('ghs_', 'x7Kp2LmQ9rT4vW8zN1yB6hJ3dC5sGa0FeT2u')],
  [
    'github_token',
    'a GitHub fine-grained token',
    fake('github_pat_', '11ABCDEFG0', '123456789_abcdefghijklmnopqrstuvwxyzAB'),
  ],
  ['slack_token', 'a Slack bot token', fake('xoxb-', '2048613975-4096128753-', 'Zr8Qp2Lm9Rt4Vw7Yb3NcX1kE')],
  ['stripe_key', 'a Stripe live key', fake('sk_live_', '51Hq8Zr2Lm9Rt4Vw7Yb3NcX1kE')],
  ['stripe_key', 'a Stripe restricted key', fake('rk_live_', '51Hq8Zr2Lm9Rt4Vw7Yb3NcX1kE')],
  ['google_api_key', 'a Google API key', fake('AIza', 'SyC7q2Lm9Rt4Vw7Yb3NcX1kE8Zr2Qp5HsT3')],
  ['openai_api_key', 'an OpenAI project key', fake('sk-proj-', 'R7q2Lm9Rt4Vw7Yb3NcX1kE8Zr2Qp5HsT3uW6')],
  [
    'openai_api_key',
    'a classic OpenAI-style key',
    fake('sk-', 'R7q2Lm9Rt4Vw7Yb3NcX1kE8Zr2Qp5HsT3uW6aBcDeFgH12'),
  ],
];

describe('detectSecrets: shaped secrets', () => {
  it.each(SAMPLES)(
    'when the text holds %s (%s), then it is reported with its exact span',
    (kind, _label, secret) => {
      const text = `config: ${secret} end`;
      expect(detectSecrets(text)).toEqual([{ kind, start: 8, end: 8 + secret.length }]);
    },
  );

  it('when an AWS secret key is labelled as such, then the 40-character value is reported', () => {
    const secret = fake('k9Vq2LmX7pR4tZ8w', 'N1yB6hJ3dC5sGa0F/eT+uQ2r');
    const text = `aws_secret_access_key = ${secret}`;
    expect(detectSecrets(text)).toEqual([
      { kind: 'aws_secret_access_key', start: text.indexOf(secret), end: text.length },
    ]);
  });

  it('when a private key block is present, then the whole block from BEGIN to END is reported', () => {
    const block = fake(
      '-----BEGIN ',
      'OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END ',
      'OPENSSH PRIVATE KEY-----',
    );
    const text = `key:\n${block}\nthanks`;
    expect(spansIn(text)).toEqual([block]);
  });

  it('when a private key block has no END, then the header and the key material after it are reported', () => {
    const text = fake('-----BEGIN ', 'EC PRIVATE KEY-----\nMHcCAQEEIBk', '\n\nplain words follow.');
    const [finding] = detectSecrets(text);
    expect(finding?.kind).toBe('private_key');
    expect(text.slice(finding!.start, finding!.end)).toContain('MHcCAQEEIBk');
    expect(text.slice(finding!.end)).toContain('plain words');
  });

  it('when a JWT is present, then it is reported and its header must name an algorithm', () => {
    const jwt = `${b64url('{"alg":"RS256"}')}.${b64url('{"sub":"1"}')}.c2lnbmF0dXJl`;
    expect(detectSecrets(`token ${jwt}`)).toEqual([{ kind: 'jwt', start: 6, end: 6 + jwt.length }]);
    const notJwt = `${b64url('{"typ":"x"}')}.${b64url('{"sub":"1"}')}.c2ln`;
    expect(kindsIn(`token ${notJwt}`)).not.toContain('jwt');
  });

  it('when a bearer token is in a header, then the token is reported', () => {
    expect(spansIn('Authorization: Bearer 0a1B2c3D4e5F6g7H8i9J')).toEqual(['0a1B2c3D4e5F6g7H8i9J']);
  });

  it('when a secret is base64-encoded, then the encoded run is reported with the inner kind', () => {
    const encoded = Buffer.from(`id ${fake('AKIA', 'Q3ZR7XJ2M5KD9PLT')} here`).toString('base64');
    expect(detectSecrets(`blob ${encoded}`)).toEqual([
      { kind: 'aws_access_key_id', start: 5, end: 5 + encoded.length },
    ]);
  });
});

describe('detectSecrets: where secrets leave', () => {
  it.each([
    [
      'a password in a database connection string',
      fake('postgres://app:', 'Xk29dLq7Wm', '@db.test:5432/orders'),
      'connection_string',
    ],
    ['a password in a URL', fake('https://deploy:', 'Pq8zT2vL9x', '@ci.example.test/hook'), 'url_password'],
    [
      'a basic authorization header',
      `Authorization: Basic ${Buffer.from('admin:s3cr3tPw').toString('base64')}`,
      'basic_auth',
    ],
    [
      'an npm token in a query string',
      fake('https://api.test/x?ref=npm_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'),
      'npm_token',
    ],
    ['a card number with a CVV', 'Card 4111 1111 1111 1111, exp 09/27, CVV 123.', 'payment_card'],
    [
      'a Slack webhook',
      fake('https://hooks.slack.com/services/', 'T0AAAAAAA/B0BBBBBBBBB/', 'cCcCcCcCcCcCcCcCcCcCcCcC'),
      'slack_webhook',
    ],
  ] as const)('when text carries %s, then it is reported as %s', (_label, text, kind) => {
    expect(kindsIn(text)).toContain(kind);
  });

  it.each([
    ['a connection string with a placeholder password', 'postgres://app:<password>@db.test/orders'],
    ['a Luhn-valid number with no card beside it', 'Order number 4111111111111111 shipped.'],
    ['a card-like number that fails Luhn', 'Card 4111 1111 1111 1112, CVV 123.'],
    ['a URL with a user but no password', 'https://deploy@ci.example.test/hook'],
  ])('when text carries %s, then nothing is reported', (_label, text) => {
    expect(kindsIn(text)).toEqual([]);
  });
});

describe('detectSecrets: credential assignments', () => {
  it.each([
    ['password=hunter22', 'hunter22'],
    ['DB_PASSWORD = "Tr0ub4dor&3"', 'Tr0ub4dor&3'],
    ['{"api_key": "Zx8Qp2Lm9Rt4Vw7Yb3Nc"}', 'Zx8Qp2Lm9Rt4Vw7Yb3Nc'],
    ['client_secret: s3cr3tValue!', 's3cr3tValue!'],
    ['https://x.test/?token=abcdef123456', 'abcdef123456'],
  ])('when the text is %s, then the value %s is reported', (text, value) => {
    expect(spansIn(text)).toEqual([value]);
  });

  it.each([
    'Password: use the one I sent you',
    'password=********',
    'password=<your-password>',
    'api_key=${API_KEY}',
    'secret: {{ vault_secret }}',
    'token=process.env.TOKEN',
    'the secret: ingredient',
  ])('when the text is %s, then it is not reported', (text) => {
    expect(detectSecrets(text)).toEqual([]);
  });

  it('when a shaped key is assigned to a credential name, then the shaped kind wins', () => {
    const key = fake('ghp_', 'x7Kp2LmQ9rT4vW8zN1yB6hJ3dC5sGa0FeT2u');
    expect(kindsIn(`api_key=${key}`)).toEqual(['github_token']);
  });
});

describe('detectSecrets: high entropy', () => {
  it('when random tokens of 24 to 64 characters appear, then nearly all of them are reported', () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
    let found = 0;
    const trials = 400;
    for (let i = 0; i < trials; i++) {
      const length = 24 + (i % 41);
      const token = [...randomBytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
      if (kindsIn(`value ${token} end`).includes('high_entropy')) found += 1;
    }
    // Tokens without a digit, upper- or lower-case letter are skipped by design (~2%).
    expect(found / trials).toBeGreaterThan(0.9);
  });

  it('when random hex of 32 digits appears, then it is reported', () => {
    expect(kindsIn(`key ${randomBytes(16).toString('hex')} end`)).toEqual(['high_entropy']);
  });

  it.each([
    ['a UUID', '550e8400-e29b-41d4-a716-446655440000'],
    ['a git commit id', '3f9a8c7b2e1d4f6a3f9a8c7b2e1d4f6a3f9a8c7b'],
    ['a SHA-256 digest', 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
    ['a CamelCase name', 'ThisIsAVeryLongCamelCaseName2024'],
    ['a file name made of words', 'Q3_Financial_Report_2024_Final-v2'],
    ['a URL path', 'https://example.test/blog/2024/03/15/How-We-Scaled-Postgres-To-10x-Traffic'],
    ['a prefixed object id', 'ch_3MmlLrLkdIwHu7ix0snN0B15'],
    ['a repeated character', 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa'],
    ['base64 of a sentence', Buffer.from('a perfectly ordinary sentence about lunch').toString('base64')],
    [
      'a data URI',
      `data:image/png;base64,${'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk'.repeat(12)}`,
    ],
  ])('when the text holds %s, then nothing is reported', (_label, text) => {
    expect(detectSecrets(text)).toEqual([]);
  });

  it('when highEntropy is off, then random tokens are not reported', () => {
    expect(detectSecrets('value 9fK2xQ7LmP4vR8tZ1wN6yB3hJ5dC0sGa', { highEntropy: false })).toEqual([]);
  });
});

describe('detectSecrets: limits', () => {
  it('when the text is longer than maxLength, then the tail is not read', () => {
    const text = `${'x '.repeat(50)}${fake('AKIA', 'Q3ZR7XJ2M5KD9PLT')}`;
    expect(detectSecrets(text, { maxLength: 50 })).toEqual([]);
  });

  it('when there are more secrets than maxFindings, then the list stops there', () => {
    const text = Array.from({ length: 10 }, () => fake('AKIA', 'Q3ZR7XJ2M5KD9PLT')).join(' ');
    expect(detectSecrets(text, { maxFindings: 3 })).toHaveLength(3);
  });

  it('when findings are returned, then they are sorted and do not overlap', () => {
    const text = `b ${fake('ghp_', 'x7Kp2LmQ9rT4vW8zN1yB6hJ3dC5sGa0FeT2u')} a password=hunter22 ${fake('AKIA', 'Q3ZR7XJ2M5KD9PLT')}`;
    const findings = detectSecrets(text);
    for (let i = 1; i < findings.length; i++)
      expect(findings[i]!.start).toBeGreaterThanOrEqual(findings[i - 1]!.end);
  });
});

describe('shannonEntropy', () => {
  it('when all characters are the same, then the entropy is zero', () => {
    expect(shannonEntropy('aaaa')).toBe(0);
  });

  it('when 16 distinct characters appear once each, then the entropy is 4 bits', () => {
    expect(shannonEntropy('0123456789abcdef')).toBeCloseTo(4);
  });
});
