/**
 * Changes whenever the chunks of some input may change (boundaries, text, sections), so that a
 * document chunked by an older chunker is re-embedded. `2`: CommonMark (markdown-it) block
 * structure, MDX mode, minimum chunk size. Kept apart from the chunker so that fingerprints can be
 * computed (in reader threads too) without loading the Markdown parser.
 */
export const CHUNKER_VERSION = '2';
