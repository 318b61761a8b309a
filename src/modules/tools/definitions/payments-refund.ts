import { Type, type Static } from 'typebox';
import { allow } from '../../decisions/decision-types.ts';
import { PermanentToolError } from '../../../platform/errors.ts';
import { defineTool, insertEffectOnce } from '../tool-definition.ts';

const PaymentsRefundArgs = Type.Object(
  {
    order_id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' }),
    amount_cents: Type.Integer({ minimum: 1, maximum: 10_000_000 }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);
type PaymentsRefundArgs = Static<typeof PaymentsRefundArgs>;

// ISO 4217 codes we settle in. An unknown code fails the job permanently rather than
// guessing at a conversion.
const CURRENCIES = new Set([
  'USD',
  'EUR',
  'GBP',
  'JPY',
  'CHF',
  'CAD',
  'AUD',
  'SEK',
  'NOK',
  'DKK',
  'PLN',
  'INR',
  'BRL',
]);

export const paymentsRefund = defineTool<PaymentsRefundArgs>({
  name: 'payments.refund',
  description: 'Refunds part or all of an order (sandbox: written to the refunds ledger).',
  riskTier: 'high',
  sideEffecting: true,
  outbound: false,
  effect: 'sandbox',
  argumentsSchema: PaymentsRefundArgs,
  defaultDecision(args, policy) {
    if (args.amount_cents <= policy.refund_review_above_cents) return allow();
    return {
      outcome: 'review',
      reasons: [
        {
          code: 'high_amount',
          message: `The refund of ${args.amount_cents} cents is above refund_review_above_cents (${policy.refund_review_above_cents}).`,
        },
      ],
    };
  },
  async execute(ctx, args) {
    if (!CURRENCIES.has(args.currency)) {
      throw new PermanentToolError('unsupported_currency', `The currency ${args.currency} is not supported.`);
    }
    // The ledger's unique action_id makes a second delivery find the first refund.
    const row = await insertEffectOnce<{ id: string; created_at: Date }>(ctx, {
      table: 'sandbox_refunds',
      columns: { order_id: args.order_id, amount_cents: args.amount_cents, currency: args.currency },
      returning: 'id, created_at',
    });
    return {
      refund_id: row.id,
      order_id: args.order_id,
      amount_cents: args.amount_cents,
      currency: args.currency,
      created_at: row.created_at.toISOString(),
    };
  },
});
