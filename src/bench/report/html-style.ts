/** The page's stylesheet: light and dark themes from `prefers-color-scheme`, no external resource. */
export const STYLE = `
:root{--bg:#f6f7f9;--surface:#fff;--text:#1f2328;--muted:#59636e;--border:#d8dee4;--grid:#e7eaee;
--s0:#2563eb;--s1:#d97706;--s2:#dc2626;--s3:#059669;--accent:#dc2626;--pass:#1a7f37;--fail:#cf222e;}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--surface:#161b22;--text:#e6edf3;--muted:#9198a1;
--border:#30363d;--grid:#262c36;--s0:#58a6ff;--s1:#e3b341;--s2:#ff7b72;--s3:#3fb950;--accent:#ff7b72;--pass:#3fb950;--fail:#f85149;}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--text);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:1100px;margin:0 auto;padding:32px 20px 48px}
h1{font-size:28px;margin:0}
h2{font-size:19px;margin:0 0 4px}
.meta,.lede,footer{color:var(--muted)}
.meta{margin:4px 0 24px}
.lede{margin:0 0 16px}
section{background:var(--surface);border:1px solid var(--border);border-radius:10px;padding:20px;margin:0 0 20px}
.tiles{display:grid;grid-template-columns:repeat(auto-fill,minmax(170px,1fr));gap:12px;background:none;border:0;padding:0}
.tile{background:var(--surface);border:1px solid var(--border);border-radius:10px;padding:14px 16px}
.tile-label{color:var(--muted);font-size:12px;text-transform:uppercase;letter-spacing:.06em}
.tile-value{font-size:22px;font-weight:650;font-variant-numeric:tabular-nums;margin:2px 0}
.tile-detail{color:var(--muted);font-size:13px}
.banner{border-radius:10px;padding:12px 16px;font-weight:600;margin:0 0 20px;border:1px solid}
.banner.pass{color:var(--pass);border-color:var(--pass)}
.banner.fail{color:var(--fail);border-color:var(--fail)}
.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(440px,1fr));gap:24px}
figure.chart{margin:0 0 16px;max-width:760px}
figcaption{font-weight:600;margin:0 0 6px}
svg{width:100%;height:auto;display:block;overflow:visible}
svg text{fill:var(--muted);font-size:13px;font-variant-numeric:tabular-nums}
svg .axis-label{font-size:13px}
svg .value{fill:var(--text)}
.grid{stroke:var(--grid);stroke-width:1}
.axis-line{fill:none;stroke:var(--border);stroke-width:1}
.line{fill:none;stroke-width:2.5;stroke-linejoin:round;stroke-linecap:round}
.area{stroke:none;opacity:.15}
.reference{stroke:var(--muted);stroke-dasharray:5 4;stroke-width:1}
svg .reference-label{fill:var(--muted);font-size:13px;paint-order:stroke;stroke:var(--surface);stroke-width:5px;stroke-linejoin:round}
.line.series-0{stroke:var(--s0)}.line.series-1{stroke:var(--s1)}.line.series-2{stroke:var(--s2)}.line.series-3{stroke:var(--s3)}
.bar.series-0,.dot.series-0,.area.series-0,.swatch.series-0{fill:var(--s0);background:var(--s0)}
.bar.series-1,.dot.series-1,.swatch.series-1{fill:var(--s1);background:var(--s1)}
.bar.series-2,.dot.series-2,.swatch.series-2{fill:var(--s2);background:var(--s2)}
.bar.series-3,.dot.series-3,.swatch.series-3{fill:var(--s3);background:var(--s3)}
.bar.accent{fill:var(--accent)}
.dot{stroke:var(--surface);stroke-width:2}
.legend{display:flex;gap:16px;font-size:13px;color:var(--muted);margin:6px 0 0 10%}
.swatch{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:6px}
.table-wrap{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-size:14px;font-variant-numeric:tabular-nums}
th,td{padding:6px 10px;border-bottom:1px solid var(--border);white-space:nowrap}
th{color:var(--muted);font-weight:600;text-align:right}
td{text-align:right}
th:first-child,td:first-child,table.text td,table.text th{text-align:left}
table.text td{white-space:normal;word-break:break-word}
tr.regressed td{color:var(--fail);font-weight:600}
tr.highlight td{color:var(--accent);font-weight:600}
code{font:13px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
footer{font-size:13px;text-align:center;margin-top:8px}
`;
