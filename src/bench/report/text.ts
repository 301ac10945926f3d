import { type BenchReport, plainText, type ReportTable } from './model.js';

/** How the terminal emphasises text (chalk's `bold` and `dim` fit); plain by default. */
export interface TextStyle {
  bold(text: string): string;
  dim(text: string): string;
}

const plain: TextStyle = { bold: (text) => text, dim: (text) => text };

/**
 * The report as terminal text: per section its title, what ran, and its tables with padded
 * columns. The settings are left to `--json`, Markdown and HTML, so the terminal shows figures.
 */
export function renderText(report: BenchReport, style: TextStyle = plain): string {
  const lines: string[] = [];
  for (const section of report.sections) {
    if (section.id === 'settings') continue;
    if (lines.length > 0) lines.push('');
    const about = plainText(section.about);
    lines.push(about ? `${style.bold(section.title)}  ${style.dim(about)}` : style.bold(section.title));
    section.tables
      .filter((table) => table.rows.length > 0)
      .forEach((table, index) => {
        if (index > 0) lines.push('');
        lines.push(...textTable(table, style));
      });
  }
  return lines.join('\n');
}

/** Columns padded to their widest cell: the first left-aligned, figures right-aligned. */
export function textTable(table: ReportTable, style: TextStyle = plain): string[] {
  const rows = table.rows.map((row) => ({
    cells: row.cells.map((cell) => plainText([cell])),
    mark: row.mark,
  }));
  const widths = table.headers.map((header, column) =>
    Math.max(header.length, ...rows.map((row) => (row.cells[column] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    `  ${cells
      .map((cell, column) =>
        column === 0 || table.kind === 'text' ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!),
      )
      .join('  ')
      .trimEnd()}`;
  return [
    line(table.headers),
    ...rows.map((row) => (row.mark ? style.bold(line(row.cells)) : line(row.cells))),
  ];
}
