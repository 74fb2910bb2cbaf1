// Charts with uPlot (vendored): a time series, and bars over named categories. Each chart
// also carries its figures as a table for screen readers and for copying.

import uPlot from "./vendor/uplot-1.6.32/uPlot.esm.js";
import { h, table } from "./dom.js";

const PALETTE = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed"];

function frame(title, points, rows, headers) {
  const plot = h("div", { class: "plot" });
  const figure = h(
    "figure",
    { class: "chart", "data-points": points, "aria-label": title },
    h("figcaption", {}, title),
    plot,
    h("details", {}, h("summary", {}, "Data"), table(headers, rows)),
  );
  return { figure, plot };
}

function sizeOf(plot) {
  const width = Math.max(240, Math.floor(plot.getBoundingClientRect().width || 600));
  return { width, height: Math.round(Math.min(280, Math.max(180, width * 0.4))) };
}

// Draw once the figure is in the page (uPlot measures it) and follow its width.
function mount(plot, options, data) {
  const chart = new uPlot({ ...options, ...sizeOf(plot) }, data, plot);
  const observer = new ResizeObserver(() => chart.setSize(sizeOf(plot)));
  observer.observe(plot);
  return chart;
}

// A value axis as wide as its longest label (uPlot's fixed 50 px clips "120,000").
function fitted(axis) {
  return {
    ...axis,
    size: (u, values, index, cycle) => {
      const own = u.axes[index];
      if (cycle > 1) return own._size;
      const labels = (values || []).map(String);
      if (!labels.length) return 30;
      u.ctx.font = own.font[0];
      const widest = Math.max(...labels.map((v) => u.ctx.measureText(v).width));
      return Math.ceil(own.ticks.size + own.gap + widest / devicePixelRatio + 4);
    },
  };
}

const DAY_S = 86_400;

// Where consecutive times are more than GAP_FACTOR typical spacings apart, a null point
// breaks the line: a gap in the data shows as a gap, not as a straight line across it.
const GAP_FACTOR = 3;
export function withGaps(x, columns) {
  const steps = x.slice(1).map((t, i) => t - x[i]);
  const typical = [...steps].sort((a, b) => a - b)[Math.floor(steps.length / 2)];
  if (steps.length < 2 || !(typical > 0)) return [x, columns];
  const xs = [x[0]];
  const ys = columns.map((c) => [c[0]]);
  steps.forEach((step, i) => {
    if (step > GAP_FACTOR * typical) {
      xs.push(x[i] + step / 2);
      ys.forEach((c) => c.push(null));
    }
    xs.push(x[i + 1]);
    ys.forEach((c, k) => c.push(columns[k][i + 1]));
  });
  return [xs, ys];
}

// The time axis spans the data (seconds): at least a day either side of a single point,
// not the years uPlot would pick.
export function timeRange(x) {
  const [first, last] = [Math.min(...x), Math.max(...x)];
  const pad = last - first < DAY_S ? DAY_S : 0;
  return [first - pad, last + pad];
}

// series: [{label, values, scale?, format?}] over times (ISO strings).
export function timeChart(container, title, times, series) {
  const x = times.map((t) => Date.parse(t) / 1000);
  const rows = times.map((t, i) =>
    h(
      "tr",
      {},
      h("td", {}, t.slice(0, 10)),
      series.map((s) => h("td", {}, fmt(s, s.values[i]))),
    ),
  );
  const { figure, plot } = frame(title, x.length, rows, ["date", ...series.map((s) => s.label)]);
  container.append(figure);
  const scales = { x: { time: true, range: timeRange(x) } };
  const axes = [{}];
  series.forEach((s, i) => {
    const scale = s.scale || "y";
    if (!scales[scale]) {
      scales[scale] = s.range ? { range: s.range } : {};
      axes.push(fitted({
        scale,
        side: axes.length === 1 ? 3 : 1,
        grid: { show: axes.length === 1 },
        values: (u, splits) => splits.map((v) => fmt(s, v)),
      }));
    }
    s.color = PALETTE[i % PALETTE.length];
  });
  const [gapped, columns] = withGaps(
    x,
    series.map((s) => s.values),
  );
  // How many breaks the line has (what the browser tests read; the canvas hides it).
  figure.dataset.gaps = gapped.length - x.length;
  mount(
    plot,
    {
      scales,
      axes,
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          scale: s.scale || "y",
          stroke: s.color,
          width: 2,
          points: { show: true, size: 5 },
          value: (u, v) => fmt(s, v),
        })),
      ],
    },
    [gapped, ...columns],
  );
  return figure;
}

// One value per named category, drawn as bars.
export function barChart(container, title, labels, values, { label = "", format } = {}) {
  const s = { label, format };
  const rows = labels.map((name, i) =>
    h("tr", {}, h("td", {}, name), h("td", {}, fmt(s, values[i]))),
  );
  const { figure, plot } = frame(title, values.length, rows, ["", label]);
  container.append(figure);
  const x = labels.map((_, i) => i);
  mount(
    plot,
    {
      scales: {
        x: { time: false, range: [-0.6, labels.length - 0.4] },
        y: { range: (u, lo, hi) => [0, hi * 1.1 || 1] },
      },
      axes: [
        { splits: () => x, values: (u, splits) => splits.map((i) => categoryName(u, labels[i])) },
        fitted({ values: (u, splits) => splits.map((v) => fmt(s, v)) }),
      ],
      legend: { show: false },
      cursor: { show: false },
      series: [
        {},
        {
          label,
          fill: PALETTE[0] + "cc",
          stroke: PALETTE[0],
          paths: uPlot.paths.bars({ size: [0.6, 80] }),
          points: { show: false },
        },
      ],
    },
    [x, values],
  );
  return figure;
}

// Category names shortened when the bars are too narrow for them (phones).
function categoryName(u, name) {
  if (name === undefined) return "";
  const room = u.bbox.width / devicePixelRatio / Math.max(1, u.data[0].length);
  return name.length * 7 > room ? name.slice(0, Math.max(3, Math.floor(room / 8))) + "." : name;
}

function fmt(series, value) {
  if (value === null || value === undefined) return "–";
  return series.format ? series.format(value) : String(Math.round(value * 100) / 100);
}
