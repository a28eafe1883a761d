"use client";

import { useEffect, useRef } from "react";
import uPlot from "uplot";

/** A throughput sparkline (uPlot without axes, legend or cursor): one canvas per row, cheap to redraw every poll. */
export function Sparkline({ values, from, step = 60, width = 120, height = 28, label }: { values: (number | null)[]; from: number; step?: number; width?: number; height?: number; label: string }) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const data = [values.map((_, i) => from + i * step), values] as uPlot.AlignedData;

  useEffect(() => {
    if (!host.current) return;
    const u = new uPlot(
      {
        width, height, legend: { show: false }, cursor: { show: false }, select: { show: false, left: 0, top: 0, width: 0, height: 0 },
        scales: { x: { time: false }, y: { range: (_u, _min, max) => [0, Math.max(1, max ?? 1)] } },
        axes: [{ show: false }, { show: false }],
        series: [{}, { stroke: "#1d63d8", fill: "rgba(29, 99, 216, 0.12)", width: 1.25, points: { show: false } }],
      },
      data,
      host.current,
    );
    plot.current = u;
    return () => {
      u.destroy();
      plot.current = null;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [width, height]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return <div ref={host} role="img" aria-label={label} style={{ width, height }} />;
}
