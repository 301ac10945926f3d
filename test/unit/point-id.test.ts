import { describe, expect, it } from 'vitest';
import { pointId, TABOOT_NAMESPACE, uuidV5 } from '../../src/qdrant/point-id.js';

const DNS = '6ba7b810-9dad-11d1-80b4-00c04fd430c8';
const URL_NAMESPACE = '6ba7b811-9dad-11d1-80b4-00c04fd430c8';

describe('uuidV5', () => {
  it.each([
    [DNS, 'python.org', '886313e1-3b8a-5372-9b90-0c9aee199e5d'],
    [DNS, 'www.example.com', '2ed6657d-e927-568b-95e1-2665a8aea6a2'],
    [URL_NAMESPACE, 'http://www.ietf.org/rfc/rfc4122.txt', 'd0690b3c-b29d-52e7-81b0-d573b503f2d4'],
  ])('matches uuid.uuid5 of Python for %s + %s', (namespace, name, expected) => {
    expect(uuidV5(namespace, name)).toBe(expected);
  });

  it('rejects a namespace that is not a UUID', () => {
    expect(() => uuidV5('not-a-uuid', 'x')).toThrow(/UUID/);
  });
});

describe('pointId', () => {
  it('is the v5 UUID of docId NUL chunkIndex in the taboot namespace', () => {
    expect(pointId('docs/intro.md', 3)).toBe(uuidV5(TABOOT_NAMESPACE, 'docs/intro.md\u00003'));
  });

  it('never changes for the same input (ids already stored in collections depend on it)', () => {
    expect(TABOOT_NAMESPACE).toBe('3d805437-e660-4cb9-aa3e-b2a0fcd00983');
    // Computed independently with Python's uuid.uuid5.
    expect(pointId('docs/intro.md', 0)).toBe('a767c612-658e-5459-b9b0-b5b29eabe81a');
  });

  it('keeps ids apart where a plain concatenation would collide', () => {
    expect(pointId('a1', 0)).not.toBe(pointId('a', 10));
    expect(pointId('a', 1)).not.toBe(pointId('a', 2));
  });

  it('is a lower-case RFC 4122 version 5 UUID', () => {
    expect(pointId('Ünïcode 🚀', 12)).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it.each([-1, 1.5, Number.NaN])('rejects chunk index %s', (index) => {
    expect(() => pointId('doc', index)).toThrow(/chunkIndex/);
  });
});
