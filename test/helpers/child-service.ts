import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');

export interface ChildService {
  process: ChildProcess;
  output(): string;
  // Resolves with the exit code (or the signal name) once the process has ended.
  exited: Promise<number | string>;
  kill(signal: NodeJS.Signals): void;
  waitForLog(pattern: RegExp, timeoutMs?: number): Promise<string>;
}

// Runs `node src/main.ts <role>` as a real process, so tests can SIGKILL it mid-work.
export function startChildService(role: string, env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, ['src/main.ts', role], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')),
  );

  return {
    process: child,
    output: () => output,
    exited,
    kill: (signal) => void child.kill(signal),
    waitForLog(pattern, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const match = pattern.exec(output);
          if (match) {
            cleanup();
            resolve(match[0]);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new Error(
              `no log line matching ${pattern} within ${timeoutMs} ms; output:\n${output.slice(-2000)}`,
            ),
          );
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
