import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import type { Series } from "../wire.ts";

/**
 * One time-series chart on uPlot (small, fast, made for time series). The series are
 * laid on the union of their timestamps; a missing point is a gap. The point count is
 * on the element for people and tests alike ("12 points").
 */
export interface ChartProps {
  id: string;
  title: string;
  unit: string;
  series: readonly Series[];
  start: number;
  end: number;
  log?: boolean;
  /** The y axis never goes past this (100 for percentages). */
  max?: number;
}

const COLOURS = ["#d9480f", "#1971c2", "#2f9e44", "#7048e8", "#868e96"];

export function alignSeries(series: readonly Series[], log: boolean): uPlot.AlignedData {
  const xs = [...new Set(series.flatMap((s) => s.points.map(([t]) => t)))].sort((a, b) => a - b);
  const index = new Map(xs.map((x, i) => [x, i]));
  const ys = series.map((s) => {
    const y: (number | null)[] = xs.map(() => null);
    for (const [t, v] of s.points) {
      const i = index.get(t);
      if (i !== undefined) y[i] = log && v <= 0 ? null : v;
    }
    return y;
  });
  return [xs, ...ys];
}

/** Some room around the data, capped (a success rate of 100% reads as the top of the chart). */
function yRange(min: number, max: number, cap: number): uPlot.Range.MinMax {
  const pad = Math.max(1, (max - min) * 0.1);
  return [Math.max(0, Math.floor(min - pad)), Math.min(cap, max + pad)];
}

export function Chart(props: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  // The x range follows the release as it grows: read through a ref, not the first render's props.
  const span = useRef({ start: props.start, end: props.end });
  span.current = { start: props.start, end: props.end };
  const labels = props.series.map((s) => s.label).join("|");
  const points = props.series.reduce((n, s) => n + s.points.length, 0);

  useEffect(() => {
    const element = box.current;
    if (element === null) return;
    const options: uPlot.Options = {
      width: Math.max(200, element.clientWidth),
      height: 180,
      scales: {
        x: { time: true, range: () => [span.current.start, span.current.end] },
        // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- 3 is Distr.Logarithmic, a const enum that isolated modules cannot read
        y:
          props.log === true
            ? { distr: 3 }
            : props.max === undefined
              ? {}
              : { range: (_u, min, max) => yRange(min, max, props.max ?? max) },
      },
      axes: [{}, { label: props.unit, size: 60 }],
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length] ?? "#000",
          width: 2,
          spanGaps: true,
          dash: s.label === "bound" ? [6, 4] : [],
        })),
      ],
      legend: { live: false },
    };
    const created = new uPlot(options, alignSeries(props.series, props.log === true), element);
    plot.current = created;
    const resize = new ResizeObserver(() => {
      created.setSize({ width: Math.max(200, element.clientWidth), height: 180 });
    });
    resize.observe(element);
    return () => {
      resize.disconnect();
      created.destroy();
      plot.current = null;
    };
    // A new set of series (labels) needs a new plot; new points only new data.
  }, [labels]);

  useEffect(() => {
    const current = plot.current;
    if (current === null) return;
    // Resetting the scales runs the range functions again: the x axis moves on with the release.
    current.setData(alignSeries(props.series, props.log === true), true);
  });

  return (
    <figure
      class="chart"
      id={props.id}
      data-points={points}
      aria-label={`${props.title}: ${String(points)} points`}
    >
      <figcaption>
        {props.title}{" "}
        <span class="muted">({points === 0 ? "no data yet" : `${String(points)} points`})</span>
      </figcaption>
      <div ref={box} class="plot" />
    </figure>
  );
}
