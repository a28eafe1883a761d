"use client";

import "uplot/dist/uPlot.min.css";
import { useEffect, useMemo, useRef } from "react";
import uPlot from "uplot";

/**
 * A time-series chart on uPlot: canvas drawing, columnar data, and 10k+
 * points per series without a hitch (the 7-day monitor draws from hourly
 * rollups anyway). One wrapper for every chart of the Monitor tab, so they
 * share the cursor (hovering one shows the same instant on all) and the
 * timeline markers (deploys, scales, stops, failures).
 */
export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
  /** Dashed: a secondary series (max beside a median). */
  dash?: boolean;
}

export interface ChartMarker {
  /** Unix seconds. */
  at: number;
  label: string;
  color: string;
}

export interface TimeChartProps {
  title: string;
  /** Unix seconds, ascending. */
  t: number[];
  series: ChartSeries[];
  markers?: ChartMarker[];
  height?: number;
  /** Formats y-axis ticks and legend values. */
  format?: (v: number) => string;
  /** Shown instead of the plot when every value is missing. */
  emptyText?: string;
}

const compact = new Intl.NumberFormat("en", { notation: "compact", maximumFractionDigits: 1 });
export const formatCount = (v: number) => compact.format(v);

let firstChartMarked = false;

/** Without the cursor on the chart, the legend shows the newest bucket that has data (not dashes). */
function showNewest(u: uPlot) {
  if ((u.cursor.left ?? -1) >= 0) return;
  const xs = u.data[0];
  for (let i = xs.length - 1; i >= 0; i--) {
    if (u.data.slice(1).some((ys) => ys[i] !== null && ys[i] !== undefined)) {
      u.setLegend({ idx: i });
      return;
    }
  }
}

function drawMarkers(u: uPlot, markers: ChartMarker[]) {
  const { ctx, bbox } = u;
  const [min, max] = [u.scales.x.min ?? 0, u.scales.x.max ?? 0];
  ctx.save();
  ctx.lineWidth = 1 * devicePixelRatio;
  ctx.font = `${10 * devicePixelRatio}px system-ui, sans-serif`;
  for (const m of markers) {
    if (m.at < min || m.at > max) continue;
    const x = Math.round(u.valToPos(m.at, "x", true));
    ctx.strokeStyle = m.color;
    ctx.setLineDash([4 * devicePixelRatio, 3 * devicePixelRatio]);
    ctx.beginPath();
    ctx.moveTo(x, bbox.top);
    ctx.lineTo(x, bbox.top + bbox.height);
    ctx.stroke();
    ctx.fillStyle = m.color;
    ctx.fillText(m.label, x + 3 * devicePixelRatio, bbox.top + 10 * devicePixelRatio);
  }
  ctx.restore();
}

export function TimeChart({ title, t, series, markers = [], height = 170, format = formatCount, emptyText = "No data in this range" }: TimeChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markersRef = useRef(markers);
  markersRef.current = markers;
  const data = useMemo(() => [t, ...series.map((s) => s.values)] as uPlot.AlignedData, [t, series]);
  const hasData = series.some((s) => s.values.some((v) => v !== null));
  // The plot is rebuilt only when the set of series changes; new values are pushed with setData.
  const shape = series.map((s) => `${s.label}\u0000${s.color}`).join("\u0001");

  useEffect(() => {
    const el = host.current;
    if (!el || !hasData) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height,
      scales: { x: { time: true } },
      // Points are left to uPlot: drawn when the data is sparse (a minute or two), hidden when dense.
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 1.5, dash: s.dash ? [5, 4] : undefined, value: (_u: uPlot, v: number | null) => (v === null ? "–" : format(v)) }))],
      axes: [{ stroke: "#64748b", grid: { stroke: "#f1f5f9" } }, { stroke: "#64748b", grid: { stroke: "#f1f5f9" }, size: 64, values: (_u, vals) => vals.map((v) => format(v)) }],
      cursor: { sync: { key: "sluice-monitor" } },
      legend: { live: true },
      hooks: {
        draw: [(u) => drawMarkers(u, markersRef.current)],
        ready: [
          (u) => {
            showNewest(u);
            el.dataset.ready = "true";
            if (!firstChartMarked) {
              firstChartMarked = true;
              // Read by the monitor benchmark: time from navigation to the first drawn chart.
              performance.mark("sluice:first-chart");
            }
          },
        ],
      },
    };
    const u = new uPlot(opts, data, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
      delete el.dataset.ready;
    };
    // `data` is pushed by the next effect; rebuilding on every poll would lose the cursor and zoom.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [shape, height, hasData]);

  useEffect(() => {
    const u = plot.current;
    if (!u) return;
    u.setData(data);
    showNewest(u);
  }, [data]);

  return (
    <figure className="min-w-0 rounded-lg border border-slate-200 bg-white p-3" aria-label={title}>
      <figcaption className="mb-1 text-sm font-medium text-slate-700">{title}</figcaption>
      {hasData ? <div ref={host} data-testid="chart" className="w-full" /> : <p className="flex items-center justify-center text-sm text-slate-400" style={{ height }}>{emptyText}</p>}
    </figure>
  );
}
