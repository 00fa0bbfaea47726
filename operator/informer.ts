/**
 * A list-watch cache of one resource across the watched namespaces (or cluster-wide),
 * restarted with backoff when the watch fails: client-node's informer stops on error and
 * must be started again by its owner.
 */
import * as k8s from "@kubernetes/client-node";
import type { Clock } from "./clock.js";
import type { Logger } from "../runtime/log.js";
import { backoffDelay } from "./queue.js";

export type Obj = k8s.KubernetesObject & { spec?: any; status?: any };
export type Handler = (event: "add" | "update" | "delete", obj: Obj) => void;

export interface ResourceRef {
  /** e.g. "/apis/sluice.dev/v1alpha1" or "/api/v1" */
  prefix: string;
  plural: string;
}

export class KindInformer {
  private readonly informers: (k8s.Informer<Obj> & k8s.ObjectCache<Obj>)[] = [];
  private readonly handlers: Handler[] = [];
  private stopped = false;

  constructor(private readonly kc: k8s.KubeConfig, private readonly ref: ResourceRef, namespaces: string[], private readonly clock: Clock, private readonly log: Logger) {
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    const [group, version] = ref.prefix.replace(/^\/apis\//, "").split("/") as [string, string];
    for (const ns of namespaces.length > 0 ? namespaces : [undefined]) {
      const path = ns ? `${ref.prefix}/namespaces/${ns}/${ref.plural}` : `${ref.prefix}/${ref.plural}`;
      const list = () =>
        (ns
          ? custom.listNamespacedCustomObject({ group, version, namespace: ns, plural: ref.plural })
          : custom.listClusterCustomObject({ group, version, plural: ref.plural })) as Promise<k8s.KubernetesListObject<Obj>>;
      const informer = k8s.makeInformer<Obj>(kc, path, list);
      informer.on("add", (o) => this.emit("add", o));
      informer.on("update", (o) => this.emit("update", o));
      informer.on("delete", (o) => this.emit("delete", o));
      this.watchErrors(informer, path);
      this.informers.push(informer);
    }
  }

  on(handler: Handler): void {
    this.handlers.push(handler);
  }

  list(namespace?: string): Obj[] {
    return this.informers.flatMap((i) => [...i.list(namespace)]);
  }

  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.informers.map((i) => i.stop()));
  }

  private emit(event: "add" | "update" | "delete", obj: Obj): void {
    for (const h of this.handlers) h(event, obj);
  }

  private watchErrors(informer: k8s.Informer<Obj>, path: string): void {
    let failures = 0;
    informer.on("connect", () => {
      failures = 0;
    });
    informer.on("error", (err: unknown) => {
      if (this.stopped) return;
      failures++;
      const delay = backoffDelay(failures, { baseMs: 500, maxMs: 30_000 });
      this.log.warn("watch failed, restarting", { path, delayMs: delay, error: err instanceof Error ? err.message : String(err) });
      this.clock.setTimeout(() => {
        if (!this.stopped) informer.start().catch(() => {});
      }, delay);
    });
  }
}

export const keyOf = (o: k8s.KubernetesObject) => `${o.metadata?.namespace ?? ""}/${o.metadata?.name ?? ""}`;

export function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf("/");
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}
