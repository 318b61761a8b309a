// The sleep of a background loop (relay, chainer, reconciler): it waits for a timer, and
// wake() ends the current wait early, on a notification or at shutdown.
export function createInterruptibleSleep(): { sleep(ms: number): Promise<void>; wake(): void } {
  let wakeCurrent: (() => void) | undefined;
  return {
    sleep: (ms) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, ms);
        wakeCurrent = () => {
          clearTimeout(timer);
          resolve();
        };
      }),
    wake: () => wakeCurrent?.(),
  };
}
