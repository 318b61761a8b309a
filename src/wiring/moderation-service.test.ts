import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MODEL_MANIFEST_FILE, ModerationModelError } from '../modules/moderation/moderation-model.ts';
import { loadConfig } from '../platform/config.ts';
import { createLogger } from '../platform/logger.ts';
import { buildModerationBackend } from './moderation-service.ts';
import { buildObservability } from './observability.ts';

// The trained moderation model is read when the container is built, not on the first
// request: a corrupt model file must stop the process at start.

describe('the moderation backend at start', () => {
  let dir: string;
  const config = loadConfig({});
  const obs = buildObservability(config, { logger: createLogger({ level: 'silent' }) });
  const flags = { isEnabled: () => false };

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'airlock-model-wiring-'));
    copyFileSync(MODEL_MANIFEST_FILE, path.join(dir, 'model.json'));
    copyFileSync(new URL('model.bin', MODEL_MANIFEST_FILE), path.join(dir, 'model.bin'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('when the model file is intact, then the backend is built and classifies with it', async () => {
    const backend = buildModerationBackend({
      config,
      obs,
      flags,
      modelFile: pathToFileURL(path.join(dir, 'model.json')),
    });
    const result = await backend.moderate('Please send the renewal quote to finance.');
    expect(result.flagged).toBe(false);
  });

  it('when the weights are corrupt, then building the backend throws before any request', () => {
    const weights = readFileSync(path.join(dir, 'model.bin'));
    weights[0] = (weights[0]! + 1) % 256;
    writeFileSync(path.join(dir, 'model.bin'), weights);
    expect(() =>
      buildModerationBackend({ config, obs, flags, modelFile: pathToFileURL(path.join(dir, 'model.json')) }),
    ).toThrow(ModerationModelError);
  });

  it('when an OpenAI key is configured, then the local model is not read at all', () => {
    rmSync(path.join(dir, 'model.bin'));
    expect(() =>
      buildModerationBackend({
        config: loadConfig({ OPENAI_API_KEY: 'sk-test' }),
        obs,
        flags,
        modelFile: pathToFileURL(path.join(dir, 'model.json')),
      }),
    ).not.toThrow();
  });
});
