// Small charts drawn by hand: line charts and heat maps in SVG (crisp text, tooltips through <title>),
// scatter plots on a canvas (thousands of points). Plus the DOM helper the panels share.

const SVG = 'http://www.w3.org/2000/svg';

/** Creates an element: h('div', { class: 'x', onclick }, child, 'text'). */
export function h(tag, attrs = {}, ...children) {
  const svg = tag.startsWith('svg:');
  const el = svg ? document.createElementNS(SVG, tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = String(v);
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Ten colours that stay apart on white (Tableau 10), then a hue walk for more. */
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
export function colour(i) {
  return i < PALETTE.length ? PALETTE[i] : `hsl(${(i * 137.5) % 360} 55% 50%)`;
}

export function fmt(v, digits = 3) {
  if (v === null || v === undefined || !Number.isFinite(v)) return '—';
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-3 || a >= 1e5)) return v.toExponential(2);
  return Number(v.toFixed(digits)).toString();
}

function niceTicks(lo, hi, n = 4) {
  if (!(hi > lo)) return [lo];
  const step0 = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(step0));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= step0) ?? step0;
  const out = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + step * 1e-9; t += step) out.push(Number(t.toPrecision(12)));
  return out;
}

/**
 * A line chart: series = [{ name, colour, points: [[x, y]], width, dots }].
 * Returns an <svg> sized by its container (viewBox), so it scales with the panel.
 */
export function lineChart(series, { title = '', width = 320, height = 170, xLabel = '', yFormat = fmt, integerX = false } = {}) {
  const named = series.filter((s) => s.name && s.points.length);
  const legendRow = named.length > 1;
  // With a legend, it gets a row of its own under the title, so long names never run into it.
  if (legendRow) height += 14;
  const m = { l: 46, r: 10, t: legendRow ? 36 : 22, b: 28 };
  const all = series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, class: 'line-chart', role: 'img', 'aria-label': title });
  svg.append(h('svg:text', { x: m.l, y: 14, class: 'chart-title' }, title));
  if (!all.length) {
    svg.append(h('svg:text', { x: width / 2, y: height / 2, class: 'chart-empty', 'text-anchor': 'middle' }, 'no data yet'));
    return svg;
  }
  let [x0, x1] = [Math.min(...all.map((p) => p[0])), Math.max(...all.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...all.map((p) => p[1])), Math.max(...all.map((p) => p[1]))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - Math.abs(y0 || 1) * 0.1, y1 + Math.abs(y1 || 1) * 0.1];
  const pad = (y1 - y0) * 0.06;
  y0 -= pad;
  y1 += pad;
  const X = (x) => m.l + ((x - x0) / (x1 - x0)) * (width - m.l - m.r);
  const Y = (y) => height - m.b - ((y - y0) / (y1 - y0)) * (height - m.t - m.b);
  for (const t of niceTicks(y0, y1)) {
    svg.append(h('svg:line', { x1: m.l, x2: width - m.r, y1: Y(t), y2: Y(t), class: 'grid' }));
    svg.append(h('svg:text', { x: m.l - 5, y: Y(t) + 3.5, class: 'tick', 'text-anchor': 'end' }, yFormat(t)));
  }
  for (const t of niceTicks(x0, x1, 5).filter((t) => !integerX || Number.isInteger(t))) {
    svg.append(h('svg:text', { x: X(t), y: height - m.b + 13, class: 'tick', 'text-anchor': 'middle' }, fmt(t, 2)));
  }
  if (xLabel) svg.append(h('svg:text', { x: width - m.r, y: height - 3, class: 'axis-label', 'text-anchor': 'end' }, xLabel));
  svg.append(h('svg:line', { x1: m.l, x2: width - m.r, y1: height - m.b, y2: height - m.b, class: 'axis' }));
  for (const s of series) {
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (!pts.length) continue;
    const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${X(x).toFixed(1)},${Y(y).toFixed(1)}`).join('');
    svg.append(h('svg:path', { d, class: 'series', stroke: s.colour, 'stroke-width': s.width ?? 1.5, fill: 'none', 'stroke-opacity': s.opacity ?? 1 }));
    if (s.dots) {
      for (const [x, y] of pts) {
        svg.append(h('svg:circle', { cx: X(x), cy: Y(y), r: 2.6, fill: s.colour }, h('svg:title', {}, `${s.name}: ${fmt(y, 4)} at ${fmt(x, 2)}`)));
      }
    }
  }
  if (legendRow) {
    let x = m.l;
    for (const s of named) {
      svg.append(h('svg:rect', { x, y: 24, width: 12, height: 3, fill: s.colour }));
      svg.append(h('svg:text', { x: x + 16, y: 29, class: 'legend-text' }, s.name));
      x += 16 + s.name.length * 5.6 + 14;
    }
  }
  return svg;
}

/**
 * A confusion matrix as a heat map: rows are true classes, columns predictions; each cell is
 * coloured by its share of the row (recall on the diagonal) and shows the count.
 */
export function heatMap(labels, matrix, { cell = 46, title = '' } = {}) {
  const n = labels.length;
  const longest = Math.max(...labels.map((l) => l.length), 4);
  const left = Math.min(160, 30 + longest * 6.6);
  const top = Math.min(130, 22 + longest * 5.2);
  // Room on the right for the last column's slanted label.
  const width = left + n * cell + Math.min(110, longest * 5.2);
  const height = top + n * cell + 30;
  const svg = h('svg:svg', { viewBox: `0 0 ${width} ${height}`, class: 'heat-map', role: 'img', 'aria-label': title || 'confusion matrix', style: `max-width:${width * 1.25}px` });
  const rowSums = matrix.map((r) => r.reduce((a, b) => a + (Number(b) || 0), 0));
  for (let i = 0; i < n; i++) {
    svg.append(h('svg:text', { x: left - 6, y: top + i * cell + cell / 2 + 4, class: 'hm-label', 'text-anchor': 'end' }, labels[i]));
    const cx = left + i * cell + cell / 2;
    svg.append(h('svg:text', { x: cx, y: top - 6, class: 'hm-label', transform: `rotate(-40 ${cx} ${top - 6})` }, labels[i]));
    for (let j = 0; j < n; j++) {
      const v = Number(matrix[i]?.[j]) || 0;
      const share = rowSums[i] ? v / rowSums[i] : 0;
      const fill = i === j ? `rgba(38, 120, 92, ${0.08 + 0.92 * share})` : `rgba(200, 64, 52, ${v ? 0.08 + 0.92 * share : 0})`;
      const g = h('svg:g', {});
      g.append(h('svg:rect', { x: left + j * cell, y: top + i * cell, width: cell - 2, height: cell - 2, rx: 3, fill, class: `cell${i === j ? ' diag' : ''}` }));
      g.append(h('svg:title', {}, `true ${labels[i]} → predicted ${labels[j]}: ${v} (${(share * 100).toFixed(1)} % of the row)`));
      if (v || i === j) {
        g.append(h('svg:text', { x: left + j * cell + cell / 2 - 1, y: top + i * cell + cell / 2 + 4, class: `hm-value${share > 0.55 ? ' on-dark' : ''}`, 'text-anchor': 'middle' }, String(v)));
      }
      svg.append(g);
    }
  }
  svg.append(h('svg:text', { x: left + (n * cell) / 2, y: height - 8, class: 'axis-label', 'text-anchor': 'middle' }, 'predicted →'));
  svg.append(h('svg:text', { x: 12, y: top + (n * cell) / 2, class: 'axis-label', transform: `rotate(-90 12 ${top + (n * cell) / 2})`, 'text-anchor': 'middle' }, 'true →'));
  return svg;
}

/** Draws points [{ x, y, group }] on a canvas at its CSS size, one colour per group index. */
export function scatter(canvas, points, { radius = 3 } = {}) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth || 600;
  const hgt = canvas.clientHeight || 380;
  canvas.width = Math.round(w * dpr);
  canvas.height = Math.round(hgt * dpr);
  const ctx = canvas.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, hgt);
  canvas.dataset.points = String(points.length);
  if (!points.length) return;
  const m = 24;
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const sx = (w - 2 * m) / (x1 - x0 || 1);
  const sy = (hgt - 2 * m) / (y1 - y0 || 1);
  ctx.strokeStyle = '#d7dbe0';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(m, hgt - m + 0.5);
  ctx.lineTo(w - m, hgt - m + 0.5);
  ctx.moveTo(m + 0.5, m);
  ctx.lineTo(m + 0.5, hgt - m);
  ctx.stroke();
  ctx.fillStyle = '#6b7480';
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillText('PC1 →', w - m - 34, hgt - 8);
  ctx.save();
  ctx.translate(12, m + 34);
  ctx.rotate(-Math.PI / 2);
  ctx.fillText('PC2 →', 0, 0);
  ctx.restore();
  ctx.globalAlpha = 0.78;
  for (const p of points) {
    ctx.fillStyle = colour(p.group);
    ctx.beginPath();
    ctx.arc(m + (p.x - x0) * sx, hgt - m - (p.y - y0) * sy, radius, 0, Math.PI * 2);
    ctx.fill();
  }
  ctx.globalAlpha = 1;
}
