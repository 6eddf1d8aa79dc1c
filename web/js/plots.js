// Drawing helpers: inline SVG line charts, heat maps and label maps on canvases. No numbers are
// computed here beyond what it takes to place them on screen.

const SVG = "http://www.w3.org/2000/svg";

// Ten distinguishable class colours (Okabe–Ito plus four), one per digit.
export const CLASS_COLORS = [
  "#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9",
  "#d55e00", "#f0e442", "#7f7f7f", "#8c564b", "#17becf",
];

function el(name, attrs = {}, text) {
  const e = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function niceLogTicks(lo, hi) {
  const ticks = [];
  const step = Math.max(1, Math.ceil((Math.log10(hi) - Math.log10(lo)) / 6));
  for (let k = Math.ceil(Math.log10(lo)); k <= Math.floor(Math.log10(hi)); k += step) ticks.push(10 ** k);
  return ticks;
}

function niceLinearTicks(lo, hi) {
  const span = hi - lo;
  const raw = span / 6;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? raw;
  const ticks = [];
  for (let t = Math.ceil(lo / step) * step; t <= hi + 1e-9 * span; t += step) ticks.push(Math.abs(t) < 1e-12 * span ? 0 : t);
  return ticks;
}

const fmtTick = (v, log) =>
  log ? `1e${Math.round(Math.log10(v))}` : Math.abs(v) >= 1000 ? v.toExponential(0) : String(+v.toPrecision(3));

// A line chart into `container` (replacing its contents). `series`: [{label, color, dashed,
// points: [[x, y], …]}]; points that cannot be shown (non-finite, or ≤ 0 on a log axis) break
// the line.
export function lineChart(container, { title, xLabel, yLabel, xLog = false, yLog = false, series }) {
  // Drawn at the container's width (at most 560 units), so that text is 11 px on a phone too;
  // a narrow chart lists its legend in one column.
  const W = Math.round(Math.max(280, Math.min(560, container.clientWidth || 560)));
  const cols = W < 480 ? 1 : 2;
  const rows = Math.ceil(series.length / cols);
  const H = Math.round(W * 0.55) + 16 * rows, m = { l: 58, r: 12, t: 28, b: 40 + 16 * rows };
  const ok = (x, y) => Number.isFinite(x) && Number.isFinite(y) && (!xLog || x > 0) && (!yLog || y > 0);
  let xs = [], ys = [];
  for (const s of series) for (const [x, y] of s.points) if (ok(x, y)) { xs.push(x); ys.push(y); }
  const svg = el("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": title });
  svg.append(el("title", {}, title));
  container.replaceChildren(svg);
  if (!xs.length) {
    svg.append(el("text", { x: W / 2, y: H / 2, "text-anchor": "middle", fill: "currentColor" }, "nothing to plot"));
    return;
  }
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)];
  let [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (yLog) { y0 = 10 ** Math.floor(Math.log10(y0)); y1 = 10 ** Math.ceil(Math.log10(y1)); }
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  if (x0 === x1) { x0 -= 1; x1 += 1; }
  const tx = (x) => m.l + ((xLog ? Math.log10(x) - Math.log10(x0) : x - x0) / (xLog ? Math.log10(x1) - Math.log10(x0) : x1 - x0)) * (W - m.l - m.r);
  const ty = (y) => H - m.b - ((yLog ? Math.log10(y) - Math.log10(y0) : y - y0) / (yLog ? Math.log10(y1) - Math.log10(y0) : y1 - y0)) * (H - m.t - m.b);

  const axes = el("g", { fill: "currentColor", "font-size": "11" });
  for (const t of xLog ? niceLogTicks(x0, x1) : niceLinearTicks(x0, x1)) {
    axes.append(el("line", { x1: tx(t), x2: tx(t), y1: m.t, y2: H - m.b, stroke: "currentColor", "stroke-opacity": "0.12" }));
    axes.append(el("text", { x: tx(t), y: H - m.b + 14, "text-anchor": "middle" }, fmtTick(t, xLog)));
  }
  for (const t of yLog ? niceLogTicks(y0, y1) : niceLinearTicks(y0, y1)) {
    axes.append(el("line", { x1: m.l, x2: W - m.r, y1: ty(t), y2: ty(t), stroke: "currentColor", "stroke-opacity": "0.12" }));
    axes.append(el("text", { x: m.l - 6, y: ty(t) + 4, "text-anchor": "end" }, fmtTick(t, yLog)));
  }
  axes.append(el("text", { x: (m.l + W - m.r) / 2, y: H - m.b + 30, "text-anchor": "middle" }, xLabel));
  axes.append(el("text", { x: 12, y: (m.t + H - m.b) / 2, "text-anchor": "middle", transform: `rotate(-90 12 ${(m.t + H - m.b) / 2})` }, yLabel));
  axes.append(el("text", { x: m.l, y: 16, "font-size": "12", "font-weight": "600" }, title));
  svg.append(axes);

  series.forEach((s, i) => {
    let d = "", pen = false;
    for (const [x, y] of s.points) {
      if (!ok(x, y)) { pen = false; continue; }
      d += `${pen ? "L" : "M"}${tx(x).toFixed(1)},${ty(Math.max(y, y0)).toFixed(1)}`;
      pen = true;
    }
    svg.append(el("path", { d, fill: "none", stroke: s.color, "stroke-width": "1.5", "stroke-dasharray": s.dashed ? "5 3" : "none" }));
    const lx = (cols === 1 ? 12 : m.l) + (i % cols) * 250, ly = H - m.b + 46 + Math.floor(i / cols) * 16;
    svg.append(el("line", { x1: lx, x2: lx + 20, y1: ly, y2: ly, stroke: s.color, "stroke-width": "2", "stroke-dasharray": s.dashed ? "5 3" : "none" }));
    svg.append(el("text", { x: lx + 26, y: ly + 4, "font-size": "11", fill: "currentColor" }, s.label));
  });
}

// Diverging colour for v in [−1, 1]: blue, white, red.
// White (0) to red (1): a magnitude.
function sequential(v) {
  const t = Math.max(0, Math.min(1, v));
  return [255 - Math.round(57 * t), Math.round(255 * (1 - t) + 40 * t), Math.round(255 * (1 - t) + 40 * t)];
}

function diverging(v) {
  const t = Math.max(-1, Math.min(1, v));
  const a = Math.round(255 * (1 - Math.abs(t)));
  return t >= 0 ? [255, a, a] : [a, a, 255];
}

// A heat map of `values` laid out as `shape` ([c, h, w] images side by side, or [n] wrapped
// into rows), coloured by value / scale: blue (−) to red (+), or with `magnitude` white (0)
// to red (scale). Returns the canvas.
export function heatMap(values, shape, scale, { magnitude = false } = {}) {
  let tiles, th, tw;
  if (shape.length === 3) [tiles, th, tw] = shape;
  else { tiles = 1; tw = Math.min(shape[0], 42); th = Math.ceil(shape[0] / tw); }
  const perRow = shape.length === 3 ? Math.min(tiles, Math.max(1, Math.floor(90 / (tw + 1)))) : 1;
  const rows = Math.ceil(tiles / perRow);
  const W = perRow * (tw + 1) - 1, H = rows * (th + 1) - 1;
  const canvas = document.createElement("canvas");
  canvas.width = W;
  canvas.height = H;
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(W, H);
  img.data.fill(255);
  const s = scale > 0 ? scale : 1;
  for (let i = 0; i < values.length; i++) {
    let t, r, c;
    if (shape.length === 3) { t = Math.floor(i / (th * tw)); r = Math.floor((i % (th * tw)) / tw); c = i % tw; }
    else { t = 0; r = Math.floor(i / tw); c = i % tw; }
    const x = (t % perRow) * (tw + 1) + c, y = Math.floor(t / perRow) * (th + 1) + r;
    const [R, G, B] = magnitude ? sequential(Math.abs(values[i]) / s) : diverging(values[i] / s);
    const o = 4 * (y * W + x);
    img.data[o] = R; img.data[o + 1] = G; img.data[o + 2] = B; img.data[o + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
  const zoom = Math.max(1, Math.floor(300 / W));
  canvas.style.width = `${W * zoom}px`;
  return canvas;
}

// A label map: cell (r, c) of a steps × steps grid coloured by `colorOf(index)`; row 0 is
// drawn at the bottom (the second direction points up), and the centre is marked.
export function labelMap(canvas, steps, colorOf) {
  const ctx = canvas.getContext("2d");
  const cell = canvas.width / steps;
  for (let r = 0; r < steps; r++) {
    for (let c = 0; c < steps; c++) {
      ctx.fillStyle = colorOf(r * steps + c);
      ctx.fillRect(Math.floor(c * cell), Math.floor((steps - 1 - r) * cell), Math.ceil(cell), Math.ceil(cell));
    }
  }
  const mid = canvas.width / 2;
  ctx.strokeStyle = "#000";
  ctx.lineWidth = 2;
  ctx.beginPath();
  ctx.moveTo(mid - 8, mid); ctx.lineTo(mid + 8, mid);
  ctx.moveTo(mid, mid - 8); ctx.lineTo(mid, mid + 8);
  ctx.stroke();
}

// A placeholder on `canvas` until it has something to show: a grey field with `text`.
export function placeholder(canvas, text) {
  const ctx = canvas.getContext("2d");
  ctx.fillStyle = "#d9dde3";
  ctx.fillRect(0, 0, canvas.width, canvas.height);
  ctx.fillStyle = "#3a4250";
  ctx.font = `${Math.round(canvas.width / 16)}px system-ui, sans-serif`;
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  const words = text.split(" ");
  const lines = [];
  for (const w of words) {
    const last = lines[lines.length - 1];
    if (last && ctx.measureText(`${last} ${w}`).width < canvas.width * 0.85) lines[lines.length - 1] = `${last} ${w}`;
    else lines.push(w);
  }
  const lh = canvas.width / 12;
  lines.forEach((l, i) => ctx.fillText(l, canvas.width / 2, canvas.height / 2 + (i - (lines.length - 1) / 2) * lh));
}

// `pixels` (intensities in [0, 1], 28 × 28) onto a 28 × 28 canvas, white ink on black.
export function drawPixels(canvas, pixels) {
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) {
    const v = Math.round(255 * Math.max(0, Math.min(1, pixels[i] ?? 0)));
    img.data.set([v, v, v, 255], 4 * i);
  }
  ctx.putImageData(img, 0, 0);
}
