import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { RunnerControl } from '../modules/drills/drills.service.ts';

const ROOT = path.resolve(import.meta.dirname, '../..');
const RUNNER = path.join(ROOT, 'src/cli/drill-runner.ts');

export const runnerLogPath = (drillId: string): string => path.join(tmpdir(), `airlock-drill-${drillId}.log`);

// The drill runner as an operating-system process: detached from the CLI that started it
// (so `drill start` returns) and found again by pid from any later CLI process. A pid is
// trusted only while its command line still names this drill: pids are reused.
export function createRunnerControl(): RunnerControl {
  function isAlive(pid: number, drillId: string): boolean {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      return cmdline.includes('drill-runner') && cmdline.includes(drillId);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || processTableReadable()) return false;
      return signalReaches(pid);
    }
  }

  async function waitForExit(pid: number, drillId: string, ms: number): Promise<boolean> {
    const deadline = Date.now() + ms;
    while (isAlive(pid, drillId)) {
      if (Date.now() > deadline) return false;
      await delay(100);
    }
    return true;
  }

  return {
    spawn(drillId) {
      const log = openSync(runnerLogPath(drillId), 'a');
      try {
        const child = spawn(process.execPath, [...process.execArgv, RUNNER, drillId], {
          // execArgv may name files relative to the repository (the Node version check).
          cwd: ROOT,
          detached: true,
          stdio: ['ignore', log, log],
        });
        child.unref();
        if (child.pid === undefined) throw new Error('the drill runner did not start');
        return child.pid;
      } finally {
        closeSync(log);
      }
    },
    isAlive,
    async terminate(pid, drillId) {
      process.kill(pid, 'SIGTERM');
      if (await waitForExit(pid, drillId, 10_000)) return;
      process.kill(pid, 'SIGKILL');
      if (!(await waitForExit(pid, drillId, 5_000)))
        throw new Error(`the drill runner (pid ${pid}) survived SIGKILL`);
    },
  };
}

// Without /proc (not Linux), a signal 0 is the only probe left.
const processTableReadable = (): boolean => {
  try {
    readFileSync('/proc/self/cmdline');
    return true;
  } catch {
    return false;
  }
};

function signalReaches(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
