import type { CheckResult, DrillContext } from '../drill-types.ts';

// What several scenarios share: reading the service's own /metrics (the same numbers the
// alert rules read) and telling a mitigation from a chaos flag switched off.

const SCRAPE_TIMEOUT_MS = 3_000;

export async function scrapeMetrics(ctx: Pick<DrillContext, 'targetUrl'>): Promise<string> {
  const response = await fetch(`${ctx.targetUrl}/metrics`, {
    signal: AbortSignal.timeout(SCRAPE_TIMEOUT_MS),
  });
  if (!response.ok) throw new Error(`${ctx.targetUrl}/metrics answered ${response.status}`);
  return response.text();
}

// The sum of every sample of `name` whose labels include `labels` (Prometheus text format);
// undefined when there is none.
export function metricValue(
  text: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let total: number | undefined;
  for (const line of text.split('\n')) {
    const match = /^([A-Za-z_:][\w:]*)(?:\{([^}]*)\})? (\S+)/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries(
      [...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
    );
    if (!Object.entries(labels).every(([key, value]) => found[key] === value)) continue;
    total = (total ?? 0) + Number(match[3]);
  }
  return total;
}

export const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(timer);
        resolve();
      },
      { once: true },
    );
  });

// A chaos flag stands for the outside world or a bad build: the mitigation has to work while
// it is still on. A check that passes because someone switched it off proves nothing.
export async function faultStillInPlace(
  ctx: DrillContext,
  flag: string,
  tenant?: string,
): Promise<CheckResult> {
  const on = await ctx.isFlagOn(flag, tenant);
  return {
    name: 'fault still in place',
    passed: on,
    detail: on
      ? `${flag} is still on: the mitigation holds while the fault lasts`
      : `${flag} was turned off: that hides the fault, it does not mitigate it (turn it back on and follow the runbook)`,
  };
}

export async function chaosSwitchedOff(ctx: DrillContext, flag: string, tenant?: string): Promise<string[]> {
  return (await ctx.isFlagOn(flag, tenant))
    ? []
    : [`${flag} was turned off: a chaos flag is the outside world, not an operator's lever`];
}
