import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { addFormats } from '../../platform/ajv-formats.ts';
import { STANDARD_IDENTITIES, useTestStack } from '../../../test/helpers/use-test-stack.ts';

interface ToolView {
  name: string;
  description: string;
  risk_tier: string;
  side_effecting: boolean;
  outbound: boolean;
  arguments_schema: Record<string, unknown>;
}

const VALID_ARGUMENTS: Record<string, Record<string, unknown>> = {
  'notes.create': { title: 'Groceries', body: 'eggs' },
  'email.send': { to: 'bob@example.com', subject: 'Hi', body: 'Hello' },
  'payments.refund': { order_id: 'order-1', amount_cents: 100, currency: 'EUR' },
  'files.delete': { path: '/tmp/a.txt' },
};

describe('GET /v1/tools and argument validation', () => {
  const { stack, api, ids } = useTestStack({}, STANDARD_IDENTITIES);
  const { agent, reviewer, admin } = ids;

  const catalogue = async (key: string) => {
    const response = await api.get(key, '/v1/tools');
    expect(response.statusCode).toBe(200);
    return response.json().items as ToolView[];
  };

  describe('the catalogue', () => {
    it('when any role lists the tools, then every registered tool is there with its risk tier', async () => {
      for (const key of [agent.key, reviewer.key, admin.key]) {
        const items = await catalogue(key);
        expect(items.map((t) => t.name).sort()).toEqual([...stack.container.tools.names()].sort());
        const tiers = Object.fromEntries(items.map((t) => [t.name, t.risk_tier]));
        expect(tiers).toMatchObject({
          'notes.create': 'low',
          'email.send': 'medium',
          'payments.refund': 'high',
          'files.delete': 'high',
        });
      }
    });

    it('when there is no key, then 401', async () => {
      expect((await api.get(null, '/v1/tools')).statusCode).toBe(401);
    });

    it("when a client compiles a tool's schema, then it is JSON Schema that accepts valid and rejects invalid arguments", async () => {
      const items = await catalogue(agent.key);
      for (const tool of items) {
        const schema = tool.arguments_schema;
        expect(schema.type, tool.name).toBe('object');
        expect(schema.additionalProperties, tool.name).toBe(false);
        expect(Object.keys(schema.properties as object).length, tool.name).toBeGreaterThan(0);
        const ajv = new Ajv({ strict: false });
        addFormats(ajv);
        const validate = ajv.compile(schema);
        const valid = VALID_ARGUMENTS[tool.name];
        if (!valid) continue;
        expect(validate(valid), tool.name).toBe(true);
        expect(validate({ ...valid, extra: 1 }), tool.name).toBe(false);
        expect(validate({}), tool.name).toBe(false);
      }
    });

    it('when a tool is listed, then it carries a description and its side-effect flags', async () => {
      const byName = Object.fromEntries((await catalogue(agent.key)).map((t) => [t.name, t]));
      expect(byName['notes.create']).toMatchObject({ side_effecting: false, outbound: false });
      expect(byName['email.send']).toMatchObject({ side_effecting: true, outbound: true });
      expect(byName['files.delete']).toMatchObject({ side_effecting: true });
      for (const tool of Object.values(byName)) expect(tool.description.length).toBeGreaterThan(0);
    });
  });

  describe('422 invalid_arguments names the failing field', () => {
    const cases: Array<[string, Record<string, unknown>, string]> = [
      ['email.send', { ...VALID_ARGUMENTS['email.send'], to: 'not-an-email' }, 'arguments.to'],
      ['email.send', { ...VALID_ARGUMENTS['email.send'], subject: '' }, 'arguments.subject'],
      ['email.send', { to: 'bob@example.com', subject: 'Hi' }, 'arguments.body'],
      ['email.send', { ...VALID_ARGUMENTS['email.send'], cc: 'x@example.com' }, 'arguments.cc'],
      [
        'payments.refund',
        { ...VALID_ARGUMENTS['payments.refund'], amount_cents: 0 },
        'arguments.amount_cents',
      ],
      [
        'payments.refund',
        { ...VALID_ARGUMENTS['payments.refund'], amount_cents: 10_000_001 },
        'arguments.amount_cents',
      ],
      [
        'payments.refund',
        { ...VALID_ARGUMENTS['payments.refund'], amount_cents: 10.5 },
        'arguments.amount_cents',
      ],
      [
        'payments.refund',
        { ...VALID_ARGUMENTS['payments.refund'], amount_cents: '100' },
        'arguments.amount_cents',
      ],
      ['payments.refund', { ...VALID_ARGUMENTS['payments.refund'], currency: 'usd' }, 'arguments.currency'],
      ['payments.refund', { ...VALID_ARGUMENTS['payments.refund'], currency: 'EURO' }, 'arguments.currency'],
      ['payments.refund', { ...VALID_ARGUMENTS['payments.refund'], order_id: 'a b' }, 'arguments.order_id'],
      ['files.delete', { path: 'etc/passwd' }, 'arguments.path'],
      ['files.delete', { path: '' }, 'arguments.path'],
      ['files.delete', {}, 'arguments.path'],
      ['notes.create', { title: '', body: '' }, 'arguments.title'],
      ['notes.create', { title: 'x', body: 'b'.repeat(10_001) }, 'arguments.body'],
    ];

    it.each(cases)('when %s gets %j, then 422 naming %s', async (tool, args, field) => {
      const response = await api.propose(agent.key, { tool, arguments: args, user_id: 'u1' });
      expect(response.statusCode).toBe(422);
      const body = response.json();
      expect(body.code).toBe('invalid_arguments');
      expect(body.errors[0].field).toBe(field);
      expect(body.detail).toContain(field);
    });

    it('when arguments sit on the inclusive bounds, then they are accepted', async () => {
      for (const args of [
        { ...VALID_ARGUMENTS['payments.refund'], amount_cents: 1 },
        { ...VALID_ARGUMENTS['payments.refund'], amount_cents: 10_000_000 },
      ]) {
        const response = await api.propose(agent.key, {
          tool: 'payments.refund',
          arguments: args,
          user_id: 'u1',
        });
        expect(response.statusCode).toBe(201);
      }
      const note = await api.propose(agent.key, {
        tool: 'notes.create',
        arguments: { title: 't'.repeat(200), body: 'b'.repeat(10_000) },
        user_id: 'u1',
      });
      expect(note.statusCode).toBe(201);
    });

    it('when invalid arguments are refused, then no action row is written', async () => {
      const before = await api.count('SELECT count(*)::int AS n FROM actions');
      await api.propose(agent.key, {
        tool: 'payments.refund',
        arguments: { ...VALID_ARGUMENTS['payments.refund'], currency: 'usd' },
        user_id: 'u1',
      });
      expect(await api.count('SELECT count(*)::int AS n FROM actions')).toBe(before);
    });

    it('when the tool is unknown, then 422 unknown_tool', async () => {
      const response = await api.propose(agent.key, { tool: 'rockets.launch', arguments: {}, user_id: 'u1' });
      expect(response.statusCode).toBe(422);
      expect(response.json().code).toBe('unknown_tool');
    });
  });
});
