import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cruise, type IConfiguration } from 'dependency-cruiser';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
const ruleSet = require('../../.dependency-cruiser.cjs') as IConfiguration;

async function violations(baseDir: string): Promise<string[]> {
  const tsConfig = extractTSConfig(join(baseDir, 'tsconfig.json'));
  const options = { ...ruleSet.options, validate: true, ruleSet, baseDir, outputType: 'json' as const };
  const result = await cruise(['src'], options, {}, { tsConfig });
  const output = JSON.parse(String(result.output)) as {
    summary: { violations: Array<{ rule: { name: string }; from: string; to: string }> };
  };
  return output.summary.violations.map(
    ({ rule, from, to }) => `${rule.name}: ${from} -> ${to.replace(/^.*node_modules\//, 'node_modules/')}`,
  );
}

/** `npm run layers` (in .ci/run) applies the rule to src/; these show that it catches what it should. */
describe('the layer rule', () => {
  it('fails each deliberately bad import of fixtures/layers, naming the rule and both files', async () => {
    const found = await violations(fileURLToPath(new URL('../../fixtures/layers', import.meta.url)));
    expect(found).toEqual(
      expect.arrayContaining([
        'adapters-stand-alone: src/qdrant/client.ts -> src/embed/probe.ts',
        'ui-renders-types: src/ui/report.ts -> src/bench/run.ts',
        'cores-never-print: src/gpu/status.ts -> src/ui/report.ts',
        expect.stringMatching(
          /^pipeline-speaks-no-protobuf: src\/pipeline\/ingest\.ts -> node_modules\/@bufbuild\/protobuf\//,
        ),
      ]),
    );
    // A type-only import of a core's result is how ui may name what it renders.
    expect(found.some((line) => line.includes('src/bench/result.ts'))).toBe(false);
  });
});
