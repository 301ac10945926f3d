import { UsageError } from '../errors.js';

/** What to send TEI's `/embed` for a search query. */
export interface QueryText {
  text: string;
  /** TEI `prompt_name`: TEI prepends that Sentence-Transformers prompt itself. */
  promptName?: string;
}

/**
 * The embedding input for a search query. Qwen3-Embedding embeds queries (not documents) with an
 * instruction, exactly `Instruct: {task}\nQuery:{query}` (no space after `Query:`, as the model
 * card formats it: any other spacing changes the tokens and so the vector). With `promptName`,
 * the raw query goes with that prompt name and TEI adds the prompt; an empty instruction sends
 * the raw query.
 * Throws `UsageError` for a query with nothing but whitespace.
 */
export function queryText(query: string, options: { instruction?: string; promptName?: string }): QueryText {
  const trimmed = query.trim();
  if (trimmed === '') throw new UsageError('the search query is empty');
  if (options.promptName) return { text: trimmed, promptName: options.promptName };
  const instruction = options.instruction?.trim();
  if (!instruction) return { text: trimmed };
  return { text: `Instruct: ${instruction}\nQuery:${trimmed}` };
}
