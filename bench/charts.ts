// SVG charts of a bench/run's figures, drawn with vega-lite (compiled to vega, rendered headless to
// SVG): throughput against concurrency for each path beside its limit, and latency percentiles.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Figure } from "./report";

type BenchFigure = Figure & { bench: string };

export interface Chart {
  file: string;
  title: string;
}

/** Draws every chart the figures allow into `dir`; returns them for the report to show. */
export async function drawCharts(figures: BenchFigure[], dir: string): Promise<Chart[]> {
  // vega is ESM with top-level await: load it the dynamic way from this CommonJS-transpiled file.
  const vega = await import("vega");
  const { compile } = await import("vega-lite");
  const render = async (spec: object) => new vega.View(vega.parse(compile(spec as never).spec), { renderer: "none" }).toSVG();
  const charts: Chart[] = [];

  for (const bench of [...new Set(figures.filter((f) => f.chart).map((f) => f.bench))]) {
    const values = figures
      .filter((f) => f.bench === bench && f.chart && f.perSecond !== undefined)
      .map((f) => ({ path: f.chart!.path, concurrency: f.chart!.concurrency, perSecond: Math.round(f.perSecond!), limit: /\(limit\)/.test(f.chart!.path) }));
    const file = `perf-${bench}-throughput.svg`;
    const title = `bench/${bench}: throughput against concurrency (dashed: the limit)`;
    writeFileSync(
      join(dir, file),
      await render({
        title,
        width: 560,
        height: 300,
        data: { values },
        mark: { type: "line", point: true },
        encoding: {
          x: { field: "concurrency", type: "quantitative", title: "concurrent clients", scale: { type: "log", base: 2 } },
          y: { field: "perSecond", type: "quantitative", title: "per second (log scale)", scale: { type: "log" } },
          color: { field: "path", type: "nominal", legend: { orient: "bottom", columns: 1, labelLimit: 500 } },
          strokeDash: { field: "limit", type: "nominal", legend: null },
        },
      }),
    );
    charts.push({ file, title });
  }

  // Latency: the figures with percentiles, at the highest concurrency measured for each path.
  const highest = new Map<string, number>();
  for (const f of figures) if (f.chart) highest.set(`${f.bench}|${f.chart.path}`, Math.max(highest.get(`${f.bench}|${f.chart.path}`) ?? 0, f.chart.concurrency));
  const latency = figures
    .filter((f) => f.p50Ms !== undefined && (!f.chart || highest.get(`${f.bench}|${f.chart.path}`) === f.chart.concurrency))
    .flatMap((f) =>
      (["p50", "p95", "p99"] as const)
        .filter((p) => f[`${p}Ms`] !== undefined && !Number.isNaN(f[`${p}Ms`]))
        .map((p) => ({ what: `${f.bench}: ${f.metric}`, percentile: p, ms: Number(f[`${p}Ms`]!.toFixed(1)) })),
    );
  if (latency.length) {
    const file = "perf-latency.svg";
    const title = "latency percentiles (ms, log scale), highest concurrency of each path";
    writeFileSync(
      join(dir, file),
      await render({
        title,
        width: 420,
        data: { values: latency },
        mark: "bar",
        encoding: {
          y: { field: "what", type: "nominal", title: null, axis: { labelLimit: 520 } },
          yOffset: { field: "percentile", sort: ["p50", "p95", "p99"] },
          x: { field: "ms", type: "quantitative", title: "ms", scale: { type: "symlog" } },
          color: { field: "percentile", type: "nominal", sort: ["p50", "p95", "p99"] },
        },
      }),
    );
    charts.push({ file, title });
  }
  return charts;
}
