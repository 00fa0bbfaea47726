/**
 * The Grafana dashboard's queries as Prometheus would run them: Grafana's variables
 * replaced by what a test chooses ($datasource only picks the server, so it goes).
 */
export interface DashboardTarget {
  refId: string;
  expr: string;
  legendFormat?: string;
  datasource?: unknown;
}
export interface DashboardPanel {
  id: number;
  title: string;
  datasource?: unknown;
  targets: DashboardTarget[];
}
export interface Dashboard {
  title: string;
  uid: string;
  templating: { list: { name: string; type: string; query?: unknown; includeAll?: boolean; multi?: boolean }[] };
  panels: DashboardPanel[];
}

export interface DashboardQuery {
  panel: string;
  refId: string;
  expr: string;
  /** The expression with $namespace (a regex: one namespace or several joined by |) and $__rate_interval replaced. */
  substituted(v: { namespace: string; rateInterval: string }): string;
}

export function dashboardQueries(d: Dashboard): DashboardQuery[] {
  return d.panels.flatMap((p) =>
    p.targets.map((t) => ({
      panel: p.title,
      refId: t.refId,
      expr: t.expr,
      substituted: (v: { namespace: string; rateInterval: string }) =>
        t.expr.replaceAll("$__rate_interval", v.rateInterval).replaceAll("${namespace}", v.namespace).replaceAll("$namespace", v.namespace),
    })),
  );
}
