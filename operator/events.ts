/**
 * Kubernetes Events for notable actions and refusals. Callers emit one per condition
 * transition, never one per reconcile, so a stuck object does not flood the namespace.
 */
import * as k8s from "@kubernetes/client-node";
import { API_VERSION } from "../api/common.js";
import type { Logger } from "../runtime/log.js";
import { errorMessage } from "./errors.js";

export interface EventTarget {
  kind: string;
  name: string;
  namespace: string;
  uid: string;
}

export class EventRecorder {
  private seq = 0;
  constructor(private readonly core: k8s.CoreV1Api, private readonly log: Logger, private readonly now: () => Date) {}

  async record(target: EventTarget, type: "Normal" | "Warning", reason: string, message: string): Promise<void> {
    const at = this.now();
    // Event names only need to be unique; the timestamp plus a counter makes them so.
    const name = `${target.name}.${at.getTime().toString(16)}${(this.seq++ % 4096).toString(16)}`;
    try {
      await this.core.createNamespacedEvent({
        namespace: target.namespace,
        body: {
          metadata: { name, namespace: target.namespace },
          involvedObject: { apiVersion: API_VERSION, kind: target.kind, name: target.name, namespace: target.namespace, uid: target.uid },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: "sluice-operator" },
          firstTimestamp: at,
          lastTimestamp: at,
          count: 1,
        },
      });
    } catch (err) {
      // An event is a courtesy: failing to write one must not fail the reconcile.
      this.log.warn("event not recorded", { kind: target.kind, name: target.name, reason, error: errorMessage(err) });
    }
  }
}
