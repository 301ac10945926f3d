/** Enumerations shared by the config schema and the command-line flags (kept free of zod so `--help` stays fast). */

export const distances = ['Cosine', 'Dot', 'Euclid', 'Manhattan'] as const;
export type Distance = (typeof distances)[number];

export const payloadIndexTypes = [
  'keyword',
  'integer',
  'float',
  'bool',
  'geo',
  'datetime',
  'text',
  'uuid',
] as const;
export type PayloadIndexType = (typeof payloadIndexTypes)[number];
