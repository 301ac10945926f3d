import type { BaselineReport, BenchReport, Inline, ReportRow, ReportSection, ReportTable } from './model.js';

/**
 * GitHub-flavoured Markdown for a job summary (`>> $GITHUB_STEP_SUMMARY`): the baseline verdict
 * first when there is one, one table per section, the settings folded away at the end.
 */
export function renderMarkdown(report: BenchReport): string {
  const out: string[] = ['## taboot bench', '', cell(report.run), ''];
  if (report.baseline) out.push(...baselineSection(report.baseline));
  for (const section of report.sections) out.push(...sectionLines(section));
  return `${out.join('\n').trimEnd()}\n`;
}

function sectionLines(section: ReportSection): string[] {
  const tables = section.tables.filter((table) => table.rows.length > 0);
  if (section.id === 'settings') {
    return tables.length === 0
      ? []
      : ['<details><summary>Settings</summary>', '', ...tables.map(markdownTable), '', '</details>', ''];
  }
  const out = [`### ${section.title}`, ''];
  if (section.about.length > 0) out.push(inline(section.about), '');
  for (const table of tables) out.push(markdownTable(table), '');
  return out;
}

function baselineSection(baseline: BaselineReport): string[] {
  const out = ['### Baseline', ''];
  const verdict = `${baseline.verdict.charAt(0).toUpperCase()}${baseline.verdict.slice(1)}.`;
  out.push(`${baseline.regressed === 0 ? '✅' : '❌'} ${verdict}`, '');
  const regressed = baseline.table.rows.filter((row) => row.mark === 'regressed');
  if (regressed.length > 0) out.push(markdownTable({ ...baseline.table, rows: regressed }), '');
  if (baseline.table.rows.length > 0) {
    out.push('<details><summary>Every compared metric</summary>', '');
    out.push(markdownTable(baseline.table), '', '</details>', '');
  }
  if (baseline.skipped.length > 0) {
    const skipped = baseline.skipped.map((entry) => `\`${code(entry.metric)}\` ${cell(entry.reason)}`);
    out.push(`Not compared: ${skipped.join('; ')}.`, '');
  }
  return out;
}

function markdownTable(table: ReportTable): string {
  const rule = table.headers.map((_, index) => (index === 0 || table.kind === 'text' ? '---' : '--:'));
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(table.headers.map(cell)), line(rule), ...table.rows.map((row) => line(rowCells(row)))].join(
    '\n',
  );
}

/** The bottleneck's first cell in bold; a regressed row ends with ❌. */
function rowCells(row: ReportRow): string[] {
  const cells = row.cells.map((part) => inline([part]));
  if (row.mark === 'highlight' && cells.length > 0) cells[0] = `**${cells[0]}**`;
  if (row.mark === 'regressed' && cells.length > 0) cells[cells.length - 1] += ' ❌';
  return cells;
}

function inline(parts: readonly Inline[]): string {
  return parts.map((part) => (typeof part === 'string' ? cell(part) : `\`${code(part.code)}\``)).join('');
}

/** Text for a Markdown table cell: no HTML, no pipes, no line breaks. */
function cell(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\|/g, '\\|')
    .replace(/\r?\n/g, ' ');
}

/** Text inside backticks: a backtick would end the span, and pipes still split table cells. */
function code(text: string): string {
  return text.replace(/`/g, "'").replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}
