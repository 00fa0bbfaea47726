/**
 * The autoscaling timeline as a PNG: three panels on one time axis (rates, lag, replicas),
 * drawn by Vega-Lite to SVG and rasterised by resvg. Both are maintained libraries that run
 * headless in Node with no canvas or browser, which this machine does not have.
 */
import { Resvg } from "@resvg/resvg-js";
import * as vega from "vega";
import { compile, type TopLevelSpec } from "vega-lite";
import type { Row } from "./autoscale-study.js";

export async function timelinePng(rows: readonly Row[], title: string): Promise<Buffer> {
  const long = rows.flatMap((r) => [
    { t: r.t, panel: "events per second", series: "incoming", value: r.incomingPerSecond },
    { t: r.t, panel: "events per second", series: "consumed", value: r.consumedPerSecond },
    { t: r.t, panel: "lag (messages)", series: "lag", value: r.lagMessages },
    { t: r.t, panel: "replicas", series: "desired", value: r.desiredReplicas },
    { t: r.t, panel: "replicas", series: "ready pods", value: r.readyReplicas },
  ]);
  const phases = rows.filter((r, k) => k === 0 || r.phase !== rows[k - 1]!.phase).map((r) => ({ t: r.t, phase: r.phase }));
  const panel = (name: string, interpolate: string) => ({
    width: 900,
    height: 170,
    layer: [
      {
        data: { values: phases },
        mark: { type: "rule", color: "#bbb", strokeDash: [4, 4] },
        encoding: { x: { field: "t", type: "quantitative" } },
      },
      {
        data: { values: phases },
        mark: { type: "text", align: "left", dx: 3, dy: -4, color: "#777", fontSize: 10 },
        encoding: { x: { field: "t", type: "quantitative" }, y: { value: 0 }, text: { field: "phase" } },
      },
      {
        data: { values: long.filter((d) => d.panel === name) },
        mark: { type: "line", interpolate },
        encoding: {
          x: { field: "t", type: "quantitative", title: "seconds" },
          y: { field: "value", type: "quantitative", title: name },
          color: { field: "series", type: "nominal", title: null },
        },
      },
    ],
    resolve: { scale: { color: "independent" } },
  });
  const spec = {
    $schema: "https://vega.github.io/schema/vega-lite/v6.json",
    title,
    background: "white",
    config: { font: "DejaVu Sans" },
    vconcat: [panel("events per second", "linear"), panel("lag (messages)", "linear"), panel("replicas", "step-after")],
    resolve: { scale: { color: "independent" } },
  } as unknown as TopLevelSpec;
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: "none" });
  const svg = await view.toSVG();
  view.finalize();
  return new Resvg(svg, { font: { loadSystemFonts: true, defaultFontFamily: "DejaVu Sans" } }).render().asPng();
}
