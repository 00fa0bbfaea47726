import { afterEach, describe, expect, it } from "vitest";
import { FakeClock } from "./clock.js";
import { Controller, type ReconcileResult, type WatchSource } from "./controller.js";
import type { Handler, Obj } from "./informer.js";
import { silentLogger } from "../runtime/log.js";

class FakeSource implements WatchSource {
  readonly objects = new Map<string, Obj>();
  private handlers: Handler[] = [];
  on(h: Handler) {
    this.handlers.push(h);
  }
  list() {
    return [...this.objects.values()];
  }
  emit(event: "add" | "update" | "delete", obj: Obj) {
    this.objects.set(`${obj.metadata!.namespace}/${obj.metadata!.name}`, obj);
    for (const h of this.handlers) h(event, obj);
  }
}

const obj = (name: string, generation: number, status: Record<string, unknown> = {}): Obj => ({ metadata: { name, namespace: "ns", generation }, status });
const settle = () => new Promise((r) => setTimeout(r, 0));

describe("a controller", () => {
  let controller: Controller | undefined;
  afterEach(async () => {
    await controller?.stop();
  });

  function start(results: (ReconcileResult | Error)[] = []) {
    const clock = new FakeClock();
    const source = new FakeSource();
    const calls: string[] = [];
    controller = new Controller({
      kind: "Test", primary: source, workers: 2, resyncPeriodMs: 60_000, backoff: { baseMs: 100, maxMs: 1000 }, clock, log: silentLogger,
      reconcile: async ({ namespace, name }) => {
        calls.push(`${namespace}/${name}`);
        const r = results.shift() ?? {};
        if (r instanceof Error) throw r;
        return r;
      },
    });
    controller.start();
    return { clock, source, calls };
  }

  it("reconciles a new object, and again only when its generation changes, not after a status write", async () => {
    const { source, calls } = start();
    source.emit("add", obj("a", 1));
    await settle();
    source.emit("update", obj("a", 1, { observedGeneration: 1 }));
    await settle();
    expect(calls).toEqual(["ns/a"]);
    source.emit("update", obj("a", 2, { observedGeneration: 1 }));
    await settle();
    expect(calls).toEqual(["ns/a", "ns/a"]);
  });

  it("retries a failed reconcile after its backoff, doubling per failure", async () => {
    const { source, calls, clock } = start([new Error("kafka down"), { retry: true }, {}]);
    source.emit("add", obj("a", 1));
    await settle();
    expect(calls).toHaveLength(1);
    clock.advance(99);
    await settle();
    expect(calls).toHaveLength(1);
    clock.advance(1);
    await settle();
    expect(calls).toHaveLength(2);
    clock.advance(199);
    await settle();
    expect(calls).toHaveLength(2);
    clock.advance(1);
    await settle();
    expect(calls).toHaveLength(3);
    expect(controller!.queue.failureCount("ns/a")).toBe(0);
  });

  it("reconciles every known object again at each resync, without a change", async () => {
    const { source, calls, clock } = start();
    source.emit("add", obj("a", 1));
    source.emit("add", obj("b", 1));
    await settle();
    clock.advance(60_000);
    await settle();
    expect(calls.sort()).toEqual(["ns/a", "ns/a", "ns/b", "ns/b"]);
  });

  it("keeps keys of different namespaces apart", async () => {
    const { source, calls } = start();
    source.emit("add", obj("a", 1));
    source.emit("add", { metadata: { name: "a", namespace: "other", generation: 1 } });
    await settle();
    expect(calls.sort()).toEqual(["ns/a", "other/a"]);
  });
});
