import type { Logger } from './logger.ts';
import { createInterruptibleSleep } from './interruptible-sleep.ts';

export interface BackgroundLoop {
  start(): void;
  // Ends the current sleep and waits for the tick in progress to finish.
  stop(): Promise<void>;
  running(): boolean;
}

// A background task that runs `tick` every `intervalMs` (the audit chainer, the execution
// reconciler). A failing tick backs off exponentially up to `maxBackoffMs`, and an outage is
// logged when it starts (warn) and when it ends (info), not on every tick.
export function createBackgroundLoop(deps: {
  name: string;
  intervalMs: number;
  maxBackoffMs: number;
  logger: Logger;
  tick: () => Promise<void>;
}): BackgroundLoop {
  const { sleep, wake } = createInterruptibleSleep();
  let running = false;
  let loop: Promise<void> | undefined;
  let failures = 0;

  async function run(): Promise<void> {
    while (running) {
      try {
        await deps.tick();
        if (failures) deps.logger.info({ failures }, `${deps.name} works again`);
        failures = 0;
      } catch (err) {
        failures += 1;
        deps.logger[failures === 1 ? 'warn' : 'debug'](
          { err: { message: (err as Error).message }, failures },
          `${deps.name} failed; will retry`,
        );
      }
      if (!running) break;
      await sleep(failures ? Math.min(deps.intervalMs * 2 ** failures, deps.maxBackoffMs) : deps.intervalMs);
    }
  }

  return {
    start() {
      if (running) return;
      running = true;
      loop = run();
    },
    async stop() {
      running = false;
      wake();
      await loop;
    },
    running: () => running,
  };
}
