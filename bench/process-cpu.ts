import { readFileSync, readdirSync } from 'node:fs';

// CPU time per process from /proc/<pid>/stat (Linux): user + system, in milliseconds. The
// bench reads it before and after a run for Node, the Postgres backends serving the
// service's database, and Redis, and divides by what was executed.

const TICKS_PER_SECOND = 100;

export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}

// Process ids whose command name matches, e.g. redis-server.
export function pidsNamed(name: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === name) pids.push(Number(entry));
    } catch {
      // Gone already.
    }
  }
  return pids;
}

export function totalCpuMs(pids: readonly number[]): number {
  return pids.reduce((sum, pid) => sum + (cpuMs(pid) ?? 0), 0);
}

export const procAvailable = (): boolean => cpuMs(process.pid) !== undefined;
