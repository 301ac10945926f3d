import { toJson } from '@bufbuild/protobuf';
import { FilterSchema } from '@qdrant/js-client-grpc';
import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { filterSyntaxHelp } from '../../src/qdrant/filter-syntax.js';
import { parseFilters } from '../../src/qdrant/filters.js';

const payloadIndexes = {
  source: 'keyword',
  tags: { type: 'keyword' },
  created_at: 'integer',
  chunk_index: { type: 'integer' },
  published: 'bool',
  score: 'float',
  updated: 'datetime',
  title: 'text',
} as const;

function filterJson(expressions: string[]): unknown {
  const { filter } = parseFilters(expressions, { payloadIndexes });
  return filter === undefined ? undefined : toJson(FilterSchema, filter);
}

const field = (key: string, rest: Record<string, unknown>) => ({ field: { key, ...rest } });
const should = (...conditions: unknown[]) => ({ filter: { should: conditions } });

/** 2024-01-01T00:00:00Z and 2024-02-01T00:00:00Z in Unix seconds. */
const jan1 = 1_704_067_200;
const feb1 = 1_706_745_600;

describe('parseFilters builds Qdrant filters', () => {
  it.each<[string, string[], unknown]>([
    ['no expressions: no filter', [], undefined],
    ['keyword match', ['source=github'], { must: [field('source', { match: { keyword: 'github' } })] }],
    [
      'keyword match on an array field',
      ['tags=python'],
      { must: [field('tags', { match: { keyword: 'python' } })] },
    ],
    [
      'any of keywords',
      ['source=github,gitlab'],
      { must: [field('source', { match: { keywords: { strings: ['github', 'gitlab'] } } })] },
    ],
    [
      'a repeated value collapses to one',
      ['source=a,a'],
      { must: [field('source', { match: { keyword: 'a' } })] },
    ],
    [
      'an integer-looking value on a keyword index stays a keyword',
      ['source=2024'],
      { must: [field('source', { match: { keyword: '2024' } })] },
    ],
    [
      'integer match on an integer index',
      ['chunk_index=3'],
      { must: [field('chunk_index', { match: { integer: '3' } })] },
    ],
    [
      'any of integers',
      ['chunk_index=0,-1,+2'],
      { must: [field('chunk_index', { match: { integers: { integers: ['0', '-1', '2'] } } })] },
    ],
    [
      'bool match on a bool index',
      ['published=true'],
      { must: [field('published', { match: { boolean: true } })] },
    ],
    [
      'a float index turns equality into a one-point range',
      ['score=0.5'],
      { must: [field('score', { range: { gte: 0.5, lte: 0.5 } })] },
    ],
    [
      'not equal is must_not, so points without the field stay',
      ['source!=web'],
      { mustNot: [field('source', { match: { keyword: 'web' } })] },
    ],
    [
      'none of',
      ['source!=a,b'],
      { mustNot: [field('source', { match: { keywords: { strings: ['a', 'b'] } } })] },
    ],
    [
      'none of integers',
      ['chunk_index!=0,1'],
      { mustNot: [field('chunk_index', { match: { integers: { integers: ['0', '1'] } } })] },
    ],
    ['integer range', ['chunk_index<3'], { must: [field('chunk_index', { range: { lt: 3 } })] }],
    ['greater-than range', ['chunk_index>3'], { must: [field('chunk_index', { range: { gt: 3 } })] }],
    [
      'negative and fractional numbers',
      ['score>=-1.5e1'],
      { must: [field('score', { range: { gte: -15 } })] },
    ],
    [
      'a date starts its UTC day with >=',
      ['created_at>=2024-01-01'],
      { must: [field('created_at', { range: { gte: jan1 } })] },
    ],
    [
      'a date starts its UTC day with <',
      ['created_at<2024-02-01'],
      { must: [field('created_at', { range: { lt: feb1 } })] },
    ],
    [
      '<= a date includes the whole day',
      ['created_at<=2024-01-31'],
      { must: [field('created_at', { range: { lt: feb1 } })] },
    ],
    [
      '> a date starts after the whole day',
      ['created_at>2023-12-31'],
      { must: [field('created_at', { range: { gte: jan1 } })] },
    ],
    [
      'an ISO datetime without offset is UTC',
      ['created_at>=2024-01-01T12:30:00'],
      { must: [field('created_at', { range: { gte: jan1 + 12 * 3600 + 30 * 60 } })] },
    ],
    [
      'an ISO datetime with Z and milliseconds',
      ['created_at<=2024-01-01T00:00:01.500Z'],
      { must: [field('created_at', { range: { lte: jan1 + 1.5 } })] },
    ],
    [
      'an ISO datetime with an offset',
      ['created_at>2024-01-01T02:00+02:00'],
      { must: [field('created_at', { range: { gt: jan1 } })] },
    ],
    [
      'a datetime index gets a datetime range',
      ['updated>=2024-01-01T10:00:00+02:00'],
      { must: [field('updated', { datetimeRange: { gte: '2024-01-01T08:00:00Z' } })] },
    ],
    [
      'full-text match, quoted',
      ['title~"health check"'],
      { must: [field('title', { match: { text: 'health check' } })] },
    ],
    ['full-text match, bare', ['title~health'], { must: [field('title', { match: { text: 'health' } })] }],
    [
      'full-text match of any of several texts',
      ['title~"health check",readiness'],
      {
        must: [
          should(
            field('title', { match: { text: 'health check' } }),
            field('title', { match: { text: 'readiness' } }),
          ),
        ],
      },
    ],
    [
      'quoted values keep commas, equals signs, quotes and spaces',
      ['source=" a,b=c \\"d\\" ",x'],
      { must: [field('source', { match: { keywords: { strings: [' a,b=c "d" ', 'x'] } } })] },
    ],
    [
      'an equals sign inside a bare value is part of it',
      ['source=a=b'],
      { must: [field('source', { match: { keyword: 'a=b' } })] },
    ],
    [
      'spaces around field and values are trimmed',
      [' source = github , gitlab '],
      { must: [field('source', { match: { keywords: { strings: ['github', 'gitlab'] } } })] },
    ],
    [
      'an unindexed integer-looking value matches the number or the string',
      ['version=2'],
      {
        must: [
          should(
            field('version', { match: { integer: '2' } }),
            field('version', { match: { keyword: '2' } }),
          ),
        ],
      },
    ],
    [
      'an unindexed true/false value matches the bool or the string',
      ['draft!=true'],
      {
        mustNot: [
          should(
            field('draft', { match: { boolean: true } }),
            field('draft', { match: { keyword: 'true' } }),
          ),
        ],
      },
    ],
    [
      'an unindexed plain value is a keyword',
      ['kind=guide'],
      { must: [field('kind', { match: { keyword: 'guide' } })] },
    ],
    [
      'nested field paths are kept',
      ['meta.author=ann'],
      { must: [field('meta.author', { match: { keyword: 'ann' } })] },
    ],
    [
      'several expressions are ANDed',
      ['source=github', 'source!=web', 'created_at>=2024-01-01', 'chunk_index<3'],
      {
        must: [
          field('source', { match: { keyword: 'github' } }),
          field('created_at', { range: { gte: jan1 } }),
          field('chunk_index', { range: { lt: 3 } }),
        ],
        mustNot: [field('source', { match: { keyword: 'web' } })],
      },
    ],
  ])('%s: %j', (_name, expressions, expected) => {
    expect(filterJson(expressions)).toEqual(expected);
  });
});

describe('parseFilters rejects malformed expressions with a usage error naming them', () => {
  const syntax = 'expected field=value, field!=value, field>=value, field<value, field~text';
  it.each<[string, string]>([
    ['source==x', syntax],
    ['source', syntax],
    ['source!x', syntax],
    ['source=<x', syntax],
    ['source=>x', syntax],
    ['=x', 'empty field name'],
    ['  !=x', 'empty field name'],
    ['source=', 'empty value'],
    ['source=""', 'empty value'],
    ['source=a,,b', 'empty value'],
    ['source=a,', 'empty value'],
    ['my field=x', 'a field name cannot contain spaces or quotes'],
    ['source="abc', 'unterminated quote'],
    ['source="a"b', 'unexpected text after a quoted value'],
    ['source=a"b"', 'a quoted value must be quoted as a whole'],
    [
      'created_at>=yesterday',
      'a range needs a number or a date (2024-01-01, 2024-01-01T12:00:00Z), got `yesterday`',
    ],
    [
      'created_at<2024-02-30',
      'a range needs a number or a date (2024-01-01, 2024-01-01T12:00:00Z), got `2024-02-30`',
    ],
    [
      'created_at<2024-01-01T25:00',
      'a range needs a number or a date (2024-01-01, 2024-01-01T12:00:00Z), got `2024-01-01T25:00`',
    ],
    ['created_at>1,2', 'a range takes one value, got 2'],
    ['chunk_index=first', '`chunk_index` has an integer index: expected an integer, got `first`'],
    ['chunk_index=1.5', '`chunk_index` has an integer index: expected an integer, got `1.5`'],
    [
      'chunk_index=99999999999999999999',
      '`chunk_index` has an integer index: expected an integer, got `99999999999999999999`',
    ],
    ['published=yes', '`published` has a bool index: expected true or false, got `yes`'],
    ['score=high', '`score` has a float index: expected a number, got `high`'],
  ])('`%s`: %s', (expression, reason) => {
    let caught: unknown;
    try {
      parseFilters(['source=ok', expression], { payloadIndexes });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(UsageError);
    expect((caught as UsageError).exitCode).toBe(ExitCode.Usage);
    expect((caught as UsageError).message).toBe(`invalid --filter \`${expression}\`: ${reason}`);
  });
});

describe('parseFilters warns about filters Qdrant cannot serve from an index', () => {
  it('warns once per unindexed field and not for indexed ones', () => {
    const { warnings } = parseFilters(['kind=a', 'kind!=b', 'source=github', 'chunk_index<3'], {
      payloadIndexes,
    });
    expect(warnings).toEqual([
      '--filter on `kind`: no payload index on this field, so Qdrant scans every point (add it to collection.payloadIndexes)',
    ]);
  });

  it('says full-text match needs a text index when the field has none', () => {
    expect(parseFilters(['source~git'], { payloadIndexes }).warnings).toEqual([
      '--filter on `source`: full-text match (~) needs a text index on this field; without one Qdrant compares exact substrings and scans every point (add `source: text` to collection.payloadIndexes)',
    ]);
    expect(parseFilters(['title~git'], { payloadIndexes }).warnings).toEqual([]);
  });

  it('says a range cannot use a keyword index', () => {
    expect(parseFilters(['source>=3'], { payloadIndexes }).warnings).toEqual([
      '--filter on `source`: a range cannot use its keyword index, so Qdrant scans every point and compares only numeric values',
    ]);
  });

  it('says an exact match cannot use a text index', () => {
    expect(parseFilters(['title!=draft'], { payloadIndexes }).warnings).toEqual([
      '--filter on `title`: an exact match cannot use its text index, so Qdrant scans every point (use ~ for full-text match, or index the field as keyword)',
    ]);
  });

  it('warns about nothing without payload index gaps', () => {
    expect(parseFilters(['created_at>=2024-01-01', 'tags=a,b'], { payloadIndexes }).warnings).toEqual([]);
  });
});

describe('filterSyntaxHelp', () => {
  it('shows every operator', () => {
    for (const operator of [
      'field=value',
      'field=a,b',
      'field!=value',
      'field>=value',
      'field~text',
      '"health check"',
    ])
      expect(filterSyntaxHelp).toContain(operator);
  });
});
