import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { redactText } from '../../src/config/redact.js';
import { ConfigError } from '../../src/errors.js';

/** The embedder keys of the `tei` section: its kind, and what an OpenAI-compatible server needs. */
function projectWith(config: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'taboot-config-embedder-'));
  writeFileSync(join(dir, 'taboot.config.json'), JSON.stringify(config));
  return dir;
}

async function problemsOf(config: unknown, env: Record<string, string> = {}): Promise<readonly string[]> {
  const error = await loadConfig({ cwd: projectWith(config), env }).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  return (error as ConfigError).problems;
}

describe('embedder config', () => {
  it('defaults to TEI with base64 embeddings, as existing config files expect', async () => {
    const { config } = await loadConfig({ cwd: projectWith({ tei: { url: 'http://gpu:8080' } }), env: {} });
    expect(config.tei).toMatchObject({ kind: 'tei', url: 'http://gpu:8080', encodingFormat: 'base64' });
    expect(config.tei.model).toBeUndefined();
    expect(config.tei.maxInputTokens).toBeUndefined();
  });

  it('takes an OpenAI-compatible server with its model, limits and a key from the environment', async () => {
    const dir = projectWith({
      tei: {
        kind: 'openai',
        url: 'https://api.openai.com/v1',
        model: 'text-embedding-3-small',
        apiKey: '${OPENAI_API_KEY}',
        dimensions: 512,
        maxClientBatchSize: 256,
        maxBatchTokens: 100_000,
        maxInputTokens: 8191,
        encodingFormat: 'float',
      },
    });
    const { config } = await loadConfig({ cwd: dir, env: { OPENAI_API_KEY: 'sk-openai-secret-key' } });
    expect(config.tei).toMatchObject({
      kind: 'openai',
      model: 'text-embedding-3-small',
      apiKey: 'sk-openai-secret-key',
      dimensions: 512,
      maxClientBatchSize: 256,
      maxBatchTokens: 100_000,
      maxInputTokens: 8191,
      encodingFormat: 'float',
    });
    // Loaded keys are secrets wherever text is shown.
    expect(redactText('key sk-openai-secret-key')).toBe('key ***');
  });

  it('keeps TABOOT_TEI_URL and TEI_API_KEY working for an OpenAI-compatible server', async () => {
    const dir = projectWith({ tei: { kind: 'openai', model: 'm' } });
    const { config } = await loadConfig({
      cwd: dir,
      env: { TABOOT_TEI_URL: 'http://vllm:8000/v1', TEI_API_KEY: 'vllm-secret-key' },
    });
    expect(config.tei).toMatchObject({
      kind: 'openai',
      url: 'http://vllm:8000/v1',
      apiKey: 'vllm-secret-key',
    });
  });

  it('refuses an OpenAI-compatible server without a model, or with what only TEI takes, one line each', async () => {
    expect(await problemsOf({ tei: { kind: 'openai' } })).toEqual([
      'tei.model: required when tei.kind is "openai": the model name the server serves',
    ]);
    expect(
      await problemsOf({ tei: { kind: 'openai', model: 'm', promptName: 'document', normalize: false } }),
    ).toEqual([
      'tei.promptName: only TEI takes a prompt_name; an OpenAI-compatible server embeds the text as sent',
      'tei.normalize: an OpenAI-compatible server cannot be asked for unnormalised embeddings',
    ]);
    expect(
      await problemsOf({ tei: { kind: 'openai', model: 'm' }, search: { promptName: 'query' } }),
    ).toEqual([
      'search.promptName: only TEI takes a prompt_name; with tei.kind "openai" use search.instruction',
    ]);
  });

  it('names an unknown kind or encoding with its path', async () => {
    const problems = await problemsOf({ tei: { kind: 'vllm', encodingFormat: 'binary' } });
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^tei\.kind: /);
    expect(problems[1]).toMatch(/^tei\.encodingFormat: /);
  });
});
