import { readFileSync } from 'node:fs';
import { NoOperationTraceWriter, parseWorkflow } from '@actions/workflow-parser';
import { describe, expect, it } from 'vitest';
import { readYaml, repoPath } from './deploy-tools.ts';

const WORKFLOW = '.github/workflows/ci.yml';
const text = readFileSync(repoPath(WORKFLOW), 'utf8');

function workflowErrors(name: string, content: string): string[] {
  const result = parseWorkflow({ name, content }, new NoOperationTraceWriter());
  return result.context.errors.getErrors().map((e) => e.message);
}

interface Step {
  run?: string;
  uses?: string;
  with?: Record<string, string>;
}
interface Workflow {
  jobs: Record<
    string,
    { services?: Record<string, { image: string }>; steps: Step[]; env?: Record<string, string> }
  >;
}

describe('GitHub Actions workflow', () => {
  it("when GitHub's workflow parser reads ci.yml, then it reports no error", () => {
    expect(workflowErrors(WORKFLOW, text)).toEqual([]);
  });

  it('when the parser is given a misspelt key, then it reports it', () => {
    const broken = text.replace('runs-on: ubuntu-24.04', 'run-on: ubuntu-24.04');
    expect(workflowErrors('broken.yml', broken).length).toBeGreaterThan(0);
  });

  it('when it mirrors .ci/run, then it installs the same validators and runs typecheck, lint and npm test with CI=true', () => {
    const ciRun = readFileSync(repoPath('.ci/run'), 'utf8');
    const packages = [...ciRun.matchAll(/\[[a-z-]+\]=([a-z-]+)/g)].map((m) => m[1]).sort();
    const workflow = readYaml<Workflow>(WORKFLOW);
    const test = workflow.jobs.test!;
    const runs = test.steps.map((s) => s.run ?? '').join('\n');
    const installed = /apt-get install -y -qq --no-install-recommends (.+)/.exec(runs)![1]!.split(' ').sort();
    expect(installed).toEqual(packages);
    for (const command of ['npm ci', 'npm run --silent typecheck', 'npm run --silent lint', 'npm test']) {
      expect(runs).toContain(command);
    }
    expect(test.env?.CI).toBe('true');
    // .ci/run installs Chromium for the console's browser tests; the workflow provides it too.
    if (ciRun.includes('/usr/bin/chromium')) expect(runs).toContain('/usr/bin/chromium');
    expect(
      test.steps.find((s) => s.uses?.startsWith('actions/setup-node'))?.with?.['node-version-file'],
    ).toBe('.nvmrc');
    expect(readFileSync(repoPath('.nvmrc'), 'utf8').trim()).toBe('24');
  });

  it('when services start, then they use the same Postgres and Redis images as compose', () => {
    const compose = readYaml<{ services: Record<string, { image: string }> }>('docker-compose.yml');
    const services = readYaml<Workflow>(WORKFLOW).jobs.test!.services!;
    expect(services.postgres!.image).toBe(compose.services.postgres!.image);
    expect(services.redis!.image).toBe(compose.services.redis!.image);
  });

  it('when the image job runs, then it builds the image and validates compose with Compose v2', () => {
    const runs = readYaml<Workflow>(WORKFLOW)
      .jobs.image!.steps.map((s) => s.run ?? '')
      .join('\n');
    expect(runs).toContain('docker build');
    expect(runs).toContain('docker compose --profile load --profile tools config');
  });
});
