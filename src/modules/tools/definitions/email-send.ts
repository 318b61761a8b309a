import { Type, type Static } from 'typebox';
import { allow } from '../../decisions/decision-types.ts';
import { defineTool, sandboxTx } from '../tool-definition.ts';

const EmailSendArgs = Type.Object(
  {
    to: Type.String({ format: 'email', maxLength: 320 }),
    subject: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.String({ maxLength: 20_000 }),
  },
  { additionalProperties: false },
);
type EmailSendArgs = Static<typeof EmailSendArgs>;

export const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export const emailSend = defineTool<EmailSendArgs>({
  name: 'email.send',
  description: "Sends an email from the user's mailbox (sandbox: written to the mailbox table).",
  riskTier: 'medium',
  sideEffecting: true,
  outbound: true,
  effect: 'sandbox',
  argumentsSchema: EmailSendArgs,
  defaultDecision(args, policy) {
    const domain = domainOf(args.to);
    if (policy.email_allowed_domains.includes(domain)) return allow();
    return {
      outcome: 'review',
      reasons: [
        {
          code: 'external_recipient',
          message: `The recipient domain ${domain} is not in email_allowed_domains.`,
        },
      ],
    };
  },
  async execute(ctx, args) {
    const inserted = await sandboxTx(ctx).query<{ id: string; sent_at: Date }>(
      `INSERT INTO sandbox_mailbox (tenant_id, action_id, to_address, subject, body) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (action_id) DO NOTHING RETURNING id, sent_at`,
      [ctx.tenantId, ctx.actionId, args.to, args.subject, args.body],
    );
    const row =
      inserted.rows[0] ??
      (
        await sandboxTx(ctx).query<{ id: string; sent_at: Date }>(
          'SELECT id, sent_at FROM sandbox_mailbox WHERE action_id = $1 AND tenant_id = $2',
          [ctx.actionId, ctx.tenantId],
        )
      ).rows[0]!;
    return { message_id: row.id, to: args.to, subject: args.subject, sent_at: row.sent_at.toISOString() };
  },
});
