import { Type, type Static } from 'typebox';
import { PermanentToolError } from '../../../platform/errors.ts';
import { defineTool, sandboxTx } from '../tool-definition.ts';

const FilesDeleteArgs = Type.Object(
  {
    path: Type.String({ minLength: 1, maxLength: 1024, pattern: '^/[^\\u0000]*$' }),
  },
  { additionalProperties: false },
);
type FilesDeleteArgs = Static<typeof FilesDeleteArgs>;

export const filesDelete = defineTool<FilesDeleteArgs>({
  name: 'files.delete',
  description: "Deletes a file from the user's drive (sandbox: a soft delete in the files table).",
  riskTier: 'high',
  sideEffecting: true,
  outbound: false,
  effect: 'sandbox',
  argumentsSchema: FilesDeleteArgs,
  defaultDecision: () => ({
    outcome: 'review',
    reasons: [
      {
        code: 'destructive_tool',
        message: 'Deleting a file cannot be undone by the user; a human must approve.',
      },
    ],
  }),
  async execute(ctx, args) {
    // Soft delete, recorded against the action: a redelivery finds its own earlier delete.
    const { rows } = await sandboxTx(ctx).query<{ deleted_at: Date; deleted_by_action: string }>(
      `UPDATE sandbox_files SET deleted_at = COALESCE(deleted_at, now()), deleted_by_action = $3
        WHERE tenant_id = $1 AND path = $2 AND (deleted_at IS NULL OR deleted_by_action = $3)
        RETURNING deleted_at, deleted_by_action`,
      [ctx.tenantId, args.path, ctx.actionId],
    );
    const row = rows[0];
    if (!row)
      throw new PermanentToolError('file_not_found', `No file at ${args.path}, or it is already deleted.`);
    return { path: args.path, deleted: true, deleted_at: row.deleted_at.toISOString() };
  },
});
