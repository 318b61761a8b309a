import { Type, type Static } from 'typebox';
import { allow } from '../../decisions/decision-types.ts';
import { defineTool, insertEffectOnce } from '../tool-definition.ts';

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
    const row = await insertEffectOnce<{ id: string; created_at: Date }>(ctx, {
      table: 'sandbox_notes',
      columns: { title: args.title, body: args.body },
      returning: 'id, created_at',
    });
    return { note_id: row.id, title: args.title, created_at: row.created_at.toISOString() };
  },
});
