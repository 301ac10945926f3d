import { describe, expect, it } from 'vitest';
import { ExitCode, UsageError } from '../../src/errors.js';
import { queryText } from '../../src/search/query-text.js';

const task = 'Given a web search query, retrieve relevant passages that answer the query';

describe('queryText', () => {
  it('wraps the query in the Qwen3-Embedding instruction with no space after Query:', () => {
    expect(queryText('how do I scrape targets?', { instruction: task })).toEqual({
      text: `Instruct: ${task}\nQuery:how do I scrape targets?`,
    });
  });

  it('trims the query and the instruction', () => {
    expect(queryText('  alerting rules \n', { instruction: ` ${task} ` })).toEqual({
      text: `Instruct: ${task}\nQuery:alerting rules`,
    });
  });

  it('sends the raw query with the prompt name when one is set, ignoring the instruction', () => {
    expect(queryText('alerting rules', { instruction: task, promptName: 'query' })).toEqual({
      text: 'alerting rules',
      promptName: 'query',
    });
  });

  it('sends the raw query when there is no instruction', () => {
    expect(queryText('alerting rules', {})).toEqual({ text: 'alerting rules' });
    expect(queryText('alerting rules', { instruction: '  ' })).toEqual({ text: 'alerting rules' });
  });

  it('keeps newlines inside the query', () => {
    expect(queryText('line one\nline two', { instruction: 'Find docs' }).text).toBe(
      'Instruct: Find docs\nQuery:line one\nline two',
    );
  });

  it('rejects an empty query as a usage error', () => {
    for (const query of ['', '   \n']) {
      let caught: unknown;
      try {
        queryText(query, { instruction: task });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UsageError);
      expect((caught as UsageError).exitCode).toBe(ExitCode.Usage);
      expect((caught as UsageError).message).toBe('the search query is empty');
    }
  });
});
