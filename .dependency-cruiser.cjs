/**
 * The layers of src/ and the imports allowed between them (DESIGN section 2), checked by
 * `npm run layers` in CI. From the bottom up:
 *
 *   base      errors.ts, version.ts, location.ts, format.ts,   imports nothing above it
 *             config/
 *   adapters  chunking/, sources/, embed/, qdrant/             one outside world each; base only
 *                                                              (sources may use the chunker's parser)
 *   cores     pipeline/, search/, collections/, gpu/, bench/   compose adapters; never print
 *   ui/                                                        renders results; values from base only,
 *                                                              types from anywhere below
 *   commands/, cli.ts                                          parse flags, call a core, render
 *
 * A new upward import fails the build; `npm run layers` names the rule and both files.
 */
const base = '^src/(errors|version|location|format)\\.ts$|^src/config/';
const adapters = '^src/(chunking|sources|embed|qdrant)/';
const cores = '^src/(pipeline|search|collections|gpu|bench)/';
const protobuf = '(^|/)node_modules/(@qdrant/js-client-grpc|@bufbuild|@connectrpc)/';

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle ties modules together so that neither can change alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'base-imports-nothing-above',
      comment:
        'Errors, the version, locations and config are used by everything: they depend on nothing of ours.',
      severity: 'error',
      from: { path: base },
      to: { path: '^src/', pathNot: `${base}|^src/sources/registry\\.ts$` },
    },
    {
      name: 'adapters-stand-alone',
      comment: "An adapter knows one outside world; composing them is the cores' job.",
      severity: 'error',
      from: { path: '^src/(chunking|embed|qdrant)/' },
      to: { path: '^src/', pathNot: `${base}|^src/$1/|^src/format\\.ts$` },
    },
    {
      name: 'sources-may-use-the-chunker-parser',
      comment:
        "Readers find a Markdown title with the chunker's parser; nothing else crosses between adapters.",
      severity: 'error',
      from: { path: '^src/sources/' },
      to: { path: '^src/', pathNot: `${base}|^src/(sources|chunking)/` },
    },
    {
      name: 'cores-never-print',
      comment: 'Cores emit events and return results; only commands and ui face the terminal.',
      severity: 'error',
      from: { path: cores },
      to: { path: '^src/(ui|commands)/|^src/cli\\.ts$' },
    },
    {
      name: 'cores-stay-apart',
      comment: 'Ingest, search, collection create and gpu-status do not call each other; bench drives them.',
      severity: 'error',
      from: { path: '^src/(pipeline|search|collections|gpu)/' },
      to: { path: cores, pathNot: '^src/$1/' },
    },
    {
      name: 'pipeline-speaks-no-protobuf',
      comment: 'Qdrant specifics live behind the sink and the document store in src/qdrant.',
      severity: 'error',
      from: { path: '^src/pipeline/' },
      to: { path: protobuf },
    },
    {
      name: 'ui-renders-types',
      comment: 'ui formats results it is given; it may name their types, not call into cores or adapters.',
      severity: 'error',
      from: { path: '^src/ui/' },
      to: { path: `${adapters}|${cores}`, dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'only-cli-runs-commands',
      comment: 'Commands are entry points; shared logic belongs in a core.',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/cli\\.ts$|^src/commands/' },
      to: { path: '^src/commands/|^src/cli\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|test|scripts)/' },
  },
};
