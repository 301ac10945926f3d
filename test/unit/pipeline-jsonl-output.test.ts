import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ChunkReport } from '../../src/pipeline/chunk-report.js';
import { FailedChunkWriter } from '../../src/pipeline/failed-chunks.js';
import { JsonlOutput } from '../../src/pipeline/jsonl-output.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'taboot-jsonl-out-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('JsonlOutput', () => {
  it('writes one JSON line per record and closes without an error', async () => {
    const path = join(dir, 'out.jsonl');
    const output = new JsonlOutput('--chunks-out', path);
    output.write({ a: 1 });
    output.write({ b: 'two\nlines' });
    expect(await output.close()).toBeUndefined();
    expect(readFileSync(path, 'utf8')).toBe('{"a":1}\n{"b":"two\\nlines"}\n');
  });

  it('opens the file given, names the path the user gave', async () => {
    const output = new JsonlOutput('--failed-out', 'shown.jsonl', join(dir, 'real.partial'));
    output.write({ x: true });
    await output.close();
    expect(readFileSync(join(dir, 'real.partial'), 'utf8')).toBe('{"x":true}\n');
    expect(() => new JsonlOutput('--failed-out', 'shown.jsonl', join(dir, 'missing', 'f'))).toThrow(
      '--failed-out shown.jsonl: cannot write (ENOENT)',
    );
  });

  it('fails before any work, as a usage error, where the path cannot be written', () => {
    const nowhere = join(dir, 'no', 'such', 'dir.jsonl');
    expect(() => new ChunkReport({ chunkTokens: 512, minChunkTokens: 64 }, nowhere)).toThrow(UsageError);
    expect(() => new ChunkReport({ chunkTokens: 512, minChunkTokens: 64 }, nowhere)).toThrow(
      `--chunks-out ${nowhere}: cannot write (ENOENT)`,
    );
    expect(() => new FailedChunkWriter(nowhere, { idField: 'id', textField: 'text' }, [])).toThrow(
      `--failed-out ${nowhere}: cannot write (ENOENT)`,
    );
  });
});
