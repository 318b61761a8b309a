import type { Queryable } from '../../platform/db.ts';
import type { Logger } from '../../platform/logger.ts';
import { OUTBOX_CHANNEL } from './outbox.repository.ts';

// Wakes relays with NOTIFY after a commit that wrote to the outbox. Sent outside the
// writer's transaction, because a NOTIFY inside it takes Postgres's global notify lock at
// COMMIT and serialises every such commit in the database. Calls made while one is in
// flight are coalesced into a single follow-up: at most two NOTIFYs are ever outstanding,
// however many proposals commit.
export function createOutboxNotifier(deps: { db: Queryable; logger: Logger }): () => void {
  let inFlight = false;
  let again = false;

  const send = (): void => {
    inFlight = true;
    again = false;
    deps.db
      .query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, ''])
      .catch((err: Error) =>
        deps.logger.debug({ err: { message: err.message } }, 'outbox notify failed; relay will poll'),
      )
      .finally(() => {
        inFlight = false;
        if (again) send();
      });
  };

  return () => {
    if (inFlight) again = true;
    else send();
  };
}
