import { Type, type Static } from 'typebox';
import { allow } from '../../decisions/decision-types.ts';
import { defineTool, sandboxTx } from '../tool-definition.ts';

const NotesCreateArgs = Type.Object(
  {
    title: Type.String({ minLength: 1, maxLength: 200 }),
    body: Type.String({ maxLength: 10_000 }),
  },
  { additionalProperties: false },
);
type NotesCreateArgs = Static<typeof NotesCreateArgs>;

export const notesCreate = defineTool<NotesCreateArgs>({
  name: 'notes.create',
  description: "Creates a note in the user's notebook.",
  riskTier: 'low',
  sideEffecting: false,
  outbound: false,
  effect: 'sandbox',
  argumentsSchema: NotesCreateArgs,
  defaultDecision: () => allow(),
  async execute(ctx, args) {
    // ON CONFLICT makes a redelivered job find the note the first attempt wrote.
    const inserted = await sandboxTx(ctx).query<{ id: string; created_at: Date }>(
      `INSERT INTO sandbox_notes (tenant_id, action_id, title, body) VALUES ($1, $2, $3, $4)
       ON CONFLICT (action_id) DO NOTHING RETURNING id, created_at`,
      [ctx.tenantId, ctx.actionId, args.title, args.body],
    );
    const row =
      inserted.rows[0] ??
      (
        await sandboxTx(ctx).query<{ id: string; created_at: Date }>(
          'SELECT id, created_at FROM sandbox_notes WHERE action_id = $1 AND tenant_id = $2',
          [ctx.actionId, ctx.tenantId],
        )
      ).rows[0]!;
    return { note_id: row.id, title: args.title, created_at: row.created_at.toISOString() };
  },
});
