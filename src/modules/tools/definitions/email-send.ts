import { Type, type Static } from 'typebox';
import { allow } from '../../decisions/decision-types.ts';
import { defineTool, insertEffectOnce } from '../tool-definition.ts';

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
    const row = await insertEffectOnce<{ id: string; sent_at: Date }>(ctx, {
      table: 'sandbox_mailbox',
      columns: { to_address: args.to, subject: args.subject, body: args.body },
      returning: 'id, sent_at',
    });
    return { message_id: row.id, to: args.to, subject: args.subject, sent_at: row.sent_at.toISOString() };
  },
});
