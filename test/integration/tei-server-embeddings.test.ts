import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cosine, teiCall } from '../support/tei-server/client.js';
import { startTeiServer, type TeiTestServer } from '../support/tei-server/index.js';

/**
 * How the stand-in model's embeddings behave: deterministic, similar texts close, and weighed the way
 * a real instruction-tuned model weighs a query (the instruction and function words do not decide the
 * match). The tests start their own test server, so they run in a real-server run too.
 */
const instruction =
  'Instruct: Given a web search query, retrieve relevant passages that answer the query\nQuery:';
let server: TeiTestServer;

beforeAll(async () => {
  server = await startTeiServer();
});
afterAll(async () => {
  await server?.close();
});

async function embed(inputs: string[], extra: Record<string, unknown> = {}): Promise<number[][]> {
  const reply = await teiCall(server.url, 'POST', '/embed', { inputs, ...extra });
  expect(reply.status).toBe(200);
  return reply.json as number[][];
}

describe('stand-in embeddings', () => {
  it('embeds a query with the Qwen3 instruction as the query alone, while counting its tokens', async () => {
    const query = 'how do I configure scrape intervals';
    const [instructed, plain] = await embed([instruction + query, query]);
    expect(cosine(instructed!, plain!)).toBeCloseTo(1, 6);
    const withTokens = await teiCall(server.url, 'POST', '/embed', { inputs: instruction + query });
    const without = await teiCall(server.url, 'POST', '/embed', { inputs: query });
    expect(Number(withTokens.headers['x-compute-tokens'])).toBeGreaterThan(
      Number(without.headers['x-compute-tokens']),
    );
    const [prompted] = await embed([query], { prompt_name: 'query' });
    expect(cosine(prompted!, plain!)).toBeCloseTo(1, 6);
  });

  it('lets the instruction words match nothing: a query about scraping is closer to scraping than to searching', async () => {
    const [query, scraping, searching] = await embed([
      `${instruction}how do I configure scrape intervals`,
      'Set scrape_interval in the global block to configure how often targets are scraped.',
      'A web search query retrieves relevant passages that answer the query.',
    ]);
    expect(cosine(query!, scraping!)).toBeGreaterThan(cosine(query!, searching!) + 0.3);
  });

  it('weighs function words lightly, so content words decide the match', async () => {
    const [question, content, chatter] = await embed([
      'how do I configure the retention of the storage',
      'storage retention configuration',
      'how do I do this and what is it that I should do',
    ]);
    expect(cosine(question!, content!)).toBeGreaterThan(0.7);
    expect(cosine(question!, chatter!)).toBeLessThan(0.3);
  });

  it('keeps inflections of a word close', async () => {
    const [a, b, unrelated] = await embed([
      'configuring scrape intervals',
      'configure the scrape interval',
      'bananas grow in tropical climates',
    ]);
    expect(cosine(a!, b!)).toBeGreaterThan(0.8);
    expect(Math.abs(cosine(a!, unrelated!))).toBeLessThan(0.2);
  });

  it('gives identical vectors for identical text, and a direction even to a text of function words only', async () => {
    const [first, again, filler] = await embed([
      'deterministic vectors',
      'deterministic vectors',
      'to be or not',
    ]);
    expect(first).toEqual(again);
    expect(filler!.some((value) => value !== 0)).toBe(true);
  });
});
