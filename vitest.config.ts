import { defineConfig } from 'vitest/config';

// Against a real TEI (test:real) a model embeds, on a CPU about a thousand tokens a second: the
// limits, which only catch hangs, stretch as test/support/run-cli.ts's embedTimeout does.
const timeout = process.env.TABOOT_TEST_TEI_URL ? 300_000 : 30_000;

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: timeout,
    hookTimeout: timeout,
    // Two cores here: forks keep servers started by one file from competing with another's.
    pool: 'forks',
  },
});
