import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';
import type { BenchReport } from './model.js';
import { renderText, type TextStyle } from './text.js';

/**
 * Every text format of a bench report, by name: each a function of the one `BenchReport`
 * (`benchReport(result, options)`), none of which lists a column of its own. `--json` prints the
 * result itself (`benchJson`), the data these render.
 */
export const benchRenderers = {
  /** Terminal tables; `style` emphasises titles and the bottleneck (chalk fits). */
  table: (report: BenchReport, style?: TextStyle) => renderText(report, style),
  /** GitHub-flavoured Markdown for a job summary. */
  markdown: (report: BenchReport) => renderMarkdown(report),
  /** A self-contained HTML page with charts. */
  html: (report: BenchReport) => renderHtml(report),
} satisfies Record<string, (report: BenchReport, style?: TextStyle) => string>;

export type BenchTextFormat = keyof typeof benchRenderers;
