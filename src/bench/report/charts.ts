/**
 * Small SVG charts for the HTML report: a line chart, grouped vertical bars and horizontal bars.
 * The output is inline SVG (no namespace URL, no script) styled by the page's CSS classes, so one
 * stylesheet switches every chart between light and dark. Every label passes through `escapeHtml`.
 */

/**
 * Escapes text for HTML content and attribute values. `://` is written `:&#47;&#47;` as well, so a
 * URL among the settings shows as text but the page holds no literal URL that a mail client or
 * scanner could take for a reference.
 */
export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/:\/\//g, ':&#47;&#47;');
}

export interface LineSeries {
  name: string;
  points: ReadonlyArray<readonly [x: number, y: number]>;
}

export interface LineChartOptions {
  title: string;
  series: readonly LineSeries[];
  xLabel: string;
  yLabel: string;
  formatX?: (value: number) => string;
  formatY?: (value: number) => string;
  /** `log` spaces x by log2 (e.g. hnsw_ef 16, 32, ... 512); the ticks are then the data's x values. */
  xScale?: 'linear' | 'log';
  /** Fixed y range; by default 0 up to a rounded maximum. */
  yDomain?: readonly [number, number];
  /** Shade the area under a single series. */
  area?: boolean;
  /** Dot every point (for sparse series). */
  markers?: boolean;
  /** A dashed horizontal reference line, e.g. the mean. */
  reference?: { value: number; label: string };
}

export interface BarGroup {
  label: string;
  values: readonly number[];
}

export interface GroupedBarChartOptions {
  title: string;
  groups: readonly BarGroup[];
  seriesNames: readonly string[];
  yLabel: string;
  formatY?: (value: number) => string;
}

export interface HorizontalBar {
  label: string;
  value: number;
  /** Shown after the value, e.g. a share. */
  note?: string;
  /** Drawn in the accent colour (e.g. the bottleneck). */
  highlight?: boolean;
}

const WIDTH = 640;
const HEIGHT = 280;
const MARGIN = { top: 20, right: 20, bottom: 48, left: 64 };
const PLOT_W = WIDTH - MARGIN.left - MARGIN.right;
const PLOT_H = HEIGHT - MARGIN.top - MARGIN.bottom;

export function lineChart(options: LineChartOptions): string {
  const formatX = options.formatX ?? compact;
  const formatY = options.formatY ?? compact;
  const all = options.series.flatMap((series) => series.points);
  if (all.length === 0) return '';
  const log = options.xScale === 'log' && all.every(([x]) => x > 0);
  const xs = all.map(([x]) => (log ? Math.log2(x) : x));
  const xMin = log ? Math.min(...xs) : Math.min(0, ...xs);
  const xMax = Math.max(...xs);
  const xSpan = xMax - xMin || 1;
  const [yMin, yMax] = options.yDomain ?? [0, niceCeiling(Math.max(...all.map(([, y]) => y), 0))];
  const ySpan = yMax - yMin || 1;
  const px = (x: number) => MARGIN.left + (((log ? Math.log2(x) : x) - xMin) / xSpan) * PLOT_W;
  const py = (y: number) =>
    MARGIN.top + PLOT_H - ((Math.min(Math.max(y, yMin), yMax) - yMin) / ySpan) * PLOT_H;

  const parts: string[] = [];
  for (const tick of ticks(yMin, yMax)) {
    const y = py(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}"/>`);
    parts.push(axisText(MARGIN.left - 8, Number(y) + 4, formatY(tick), 'end'));
  }
  const xTicks = log ? [...new Set(all.map(([x]) => x))].sort((a, b) => a - b) : ticks(xMin, xMax);
  for (const tick of xTicks)
    parts.push(axisText(px(tick), HEIGHT - MARGIN.bottom + 18, formatX(tick), 'middle'));
  parts.push(axes());

  options.series.forEach((series, index) => {
    const points = [...series.points].sort((a, b) => a[0] - b[0]);
    const path = points.map(([x, y], at) => `${at === 0 ? 'M' : 'L'}${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    const colour = `series-${index % 4}`;
    if (options.area && options.series.length === 1 && points.length > 1) {
      const first = px(points[0]![0]).toFixed(1);
      const last = px(points[points.length - 1]![0]).toFixed(1);
      const base = py(yMin).toFixed(1);
      parts.push(
        `<path class="area ${colour}" d="M${first},${base} L${path.join(' ').slice(1)} L${last},${base} Z"/>`,
      );
    }
    parts.push(
      `<path class="line ${colour}" d="${path.join(' ')}"><title>${escapeHtml(series.name)}</title></path>`,
    );
    if (options.markers || points.length === 1) {
      for (const [x, y] of points) {
        const tip = `${series.name}: ${formatY(y)} at ${formatX(x)}`;
        parts.push(
          `<circle class="dot ${colour}" cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="4"><title>${escapeHtml(tip)}</title></circle>`,
        );
      }
    }
  });
  if (options.reference && options.reference.value >= yMin && options.reference.value <= yMax) {
    const y = py(options.reference.value).toFixed(1);
    parts.push(
      `<line class="reference" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}"/>`,
    );
    parts.push(
      `<text class="reference-label" x="${WIDTH - MARGIN.right - 4}" y="${Number(y) - 6}" text-anchor="end">${escapeHtml(options.reference.label)}</text>`,
    );
  }
  parts.push(axisLabels(options.xLabel, options.yLabel));
  const legend = options.series.length > 1 ? legendHtml(options.series.map((series) => series.name)) : '';
  return figure(options.title, parts, legend);
}

export function groupedBarChart(options: GroupedBarChartOptions): string {
  const formatY = options.formatY ?? compact;
  if (options.groups.length === 0) return '';
  const yMax = niceCeiling(Math.max(0, ...options.groups.flatMap((group) => group.values)));
  const py = (y: number) => MARGIN.top + PLOT_H - (Math.max(0, y) / (yMax || 1)) * PLOT_H;
  const parts: string[] = [];
  for (const tick of ticks(0, yMax)) {
    const y = py(tick).toFixed(1);
    parts.push(`<line class="grid" x1="${MARGIN.left}" x2="${WIDTH - MARGIN.right}" y1="${y}" y2="${y}"/>`);
    parts.push(axisText(MARGIN.left - 8, Number(y) + 4, formatY(tick), 'end'));
  }
  const slot = PLOT_W / options.groups.length;
  const series = Math.max(1, options.seriesNames.length);
  const barWidth = Math.min(36, (slot * 0.8) / series);
  options.groups.forEach((group, groupIndex) => {
    const start = MARGIN.left + slot * groupIndex + (slot - barWidth * series) / 2;
    group.values.forEach((value, seriesIndex) => {
      const x = start + barWidth * seriesIndex;
      const top = py(value);
      const tip = `${group.label}, ${options.seriesNames[seriesIndex] ?? ''}: ${formatY(value)}`;
      parts.push(
        `<rect class="bar series-${seriesIndex % 4}" x="${x.toFixed(1)}" y="${top.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(MARGIN.top + PLOT_H - top).toFixed(1)}" rx="2"><title>${escapeHtml(tip)}</title></rect>`,
      );
    });
    parts.push(
      axisText(MARGIN.left + slot * (groupIndex + 0.5), HEIGHT - MARGIN.bottom + 18, group.label, 'middle'),
    );
  });
  parts.push(axes());
  parts.push(axisLabels('', options.yLabel));
  return figure(options.title, parts, legendHtml(options.seriesNames));
}

export function horizontalBarChart(
  title: string,
  bars: readonly HorizontalBar[],
  format: (value: number) => string,
): string {
  if (bars.length === 0) return '';
  const row = 34;
  const left = 96;
  const right = 150;
  const height = bars.length * row + 16;
  const maxValue = Math.max(...bars.map((bar) => bar.value), 0) || 1;
  const parts = bars.map((bar, index) => {
    const y = 8 + index * row;
    const width = Math.max(1, (Math.max(0, bar.value) / maxValue) * (WIDTH - left - right));
    const text = `${format(bar.value)}${bar.note ? ` · ${bar.note}` : ''}`;
    return [
      axisText(left - 10, y + row / 2 + 1, bar.label, 'end'),
      `<rect class="bar ${bar.highlight ? 'accent' : 'series-0'}" x="${left}" y="${y + 5}" width="${width.toFixed(1)}" height="${row - 12}" rx="3"><title>${escapeHtml(`${bar.label}: ${text}`)}</title></rect>`,
      `<text class="value" x="${(left + width + 8).toFixed(1)}" y="${y + row / 2 + 1}">${escapeHtml(text)}</text>`,
    ].join('');
  });
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg></figure>`;
}

/** Axis tick values: about five "nice" steps (1, 2, 2.5, 5 × 10^n) from `from` to `to`. */
export function ticks(from: number, to: number, count = 5): number[] {
  if (!(to > from)) return [from];
  const step = niceStep((to - from) / count);
  const result: number[] = [];
  for (let value = Math.ceil(from / step) * step; value <= to + step * 1e-9; value += step) {
    result.push(Number(value.toPrecision(12)));
  }
  return result;
}

/** The smallest "nice" number (a tick boundary) at or above `value`. */
export function niceCeiling(value: number): number {
  if (!(value > 0)) return 1;
  const step = niceStep(value / 5);
  return Math.ceil(value / step - 1e-9) * step;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  const fraction = raw / power;
  const nice = fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 2.5 ? 2.5 : fraction <= 5 ? 5 : 10;
  return nice * power;
}

/** 1234 -> 1.2k, 2500000 -> 2.5M, 0.25 -> 0.25: short labels for axes. */
export function compact(value: number): string {
  const magnitude = Math.abs(value);
  if (magnitude >= 1e6) return `${trim(value / 1e6)}M`;
  if (magnitude >= 1e3) return `${trim(value / 1e3)}k`;
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toPrecision(3)));
}

function axisText(x: number, y: number, text: string, anchor: 'start' | 'middle' | 'end'): string {
  return `<text class="axis" x="${x.toFixed(1)}" y="${y.toFixed(1)}" text-anchor="${anchor}">${escapeHtml(text)}</text>`;
}

function axes(): string {
  const bottom = MARGIN.top + PLOT_H;
  return `<path class="axis-line" d="M${MARGIN.left},${MARGIN.top} V${bottom} H${WIDTH - MARGIN.right}"/>`;
}

function axisLabels(xLabel: string, yLabel: string): string {
  const x = xLabel
    ? `<text class="axis-label" x="${MARGIN.left + PLOT_W / 2}" y="${HEIGHT - 8}" text-anchor="middle">${escapeHtml(xLabel)}</text>`
    : '';
  const y = `<text class="axis-label" transform="translate(16 ${MARGIN.top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">${escapeHtml(yLabel)}</text>`;
  return x + y;
}

function legendHtml(names: readonly string[]): string {
  const items = names.map(
    (name, index) =>
      `<span class="legend-item"><i class="swatch series-${index % 4}"></i>${escapeHtml(name)}</span>`,
  );
  return `<div class="legend">${items.join('')}</div>`;
}

function figure(title: string, parts: readonly string[], legend: string): string {
  return `<figure class="chart"><figcaption>${escapeHtml(title)}</figcaption><svg viewBox="0 0 ${WIDTH} ${HEIGHT}" role="img" aria-label="${escapeHtml(title)}">${parts.join('')}</svg>${legend}</figure>`;
}
