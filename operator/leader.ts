/**
 * Leader election on a coordination.k8s.io Lease, so two operator replicas never reconcile
 * at once. The decision is a pure function of the Lease and the clock; the elector only
 * reads and writes the Lease, with its resourceVersion, so two candidates racing for an
 * expired Lease cannot both win (the loser gets a 409).
 *
 * Timing (client-go defaults): a Lease lasts 15 s, the leader renews every 2 s, a standby
 * retries every 2 s. A leader that cannot renew for 10 s (the renew deadline) steps down,
 * before a standby may take the Lease at 15 s, so two leaders never overlap.
 */
import * as k8s from "@kubernetes/client-node";
import type { Clock } from "./clock.js";
import type { Logger } from "../runtime/log.js";
import { errorMessage, isConflict, isNotFound } from "./errors.js";

export interface LeaseTiming {
  leaseDurationMs: number;
  retryPeriodMs: number;
  /** Shorter than the lease duration: the leader gives up before anyone else may take over. */
  renewDeadlineMs?: number;
}

export const defaultLeaseTiming: LeaseTiming = { leaseDurationMs: 15_000, retryPeriodMs: 2_000, renewDeadlineMs: 10_000 };

export type LeaseDecision = "create" | "renew" | "takeover" | "wait";

export function decideLease(lease: k8s.V1Lease | undefined, identity: string, nowMs: number): LeaseDecision {
  if (!lease) return "create";
  const spec = lease.spec ?? {};
  if (spec.holderIdentity === identity) return "renew";
  if (!spec.holderIdentity) return "takeover";
  const renewed = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
  const durationMs = (spec.leaseDurationSeconds ?? 0) * 1000;
  return nowMs > renewed + durationMs ? "takeover" : "wait";
}

export interface ElectorOptions {
  coordination: k8s.CoordinationV1Api;
  namespace: string;
  name: string;
  identity: string;
  clock: Clock;
  log: Logger;
  timing?: LeaseTiming;
}

export class LeaderElector {
  private leading = false;
  private lastRenewMs = 0;
  private timer: unknown;
  private stopped = false;
  private readonly timing: LeaseTiming;

  constructor(private readonly o: ElectorOptions) {
    this.timing = o.timing ?? defaultLeaseTiming;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves once this candidate leads; `onLost` is called if it later stops leading. */
  run(onLost: () => void): Promise<void> {
    return new Promise((resolve) => {
      const tick = async () => {
        if (this.stopped) return;
        const held = await this.tryAcquireOrRenew();
        const now = this.o.clock.now();
        if (held) this.lastRenewMs = now;
        if (held && !this.leading) {
          this.leading = true;
          this.o.log.info("became leader", { lease: this.o.name, identity: this.o.identity });
          resolve();
        } else if (!held && this.leading && now - this.lastRenewMs > (this.timing.renewDeadlineMs ?? (this.timing.leaseDurationMs * 2) / 3)) {
          this.leading = false;
          this.o.log.error("lost leadership", { lease: this.o.name, identity: this.o.identity });
          onLost();
          return;
        }
        this.timer = this.o.clock.setTimeout(() => void tick(), this.timing.retryPeriodMs);
      };
      void tick();
    });
  }

  /** Stops renewing and, if leading, releases the Lease so a standby takes over at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.o.clock.clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.read().catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.o.identity) return;
    await this.o.coordination
      .replaceNamespacedLease({ namespace: this.o.namespace, name: this.o.name, body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, renewTime: undefined } } })
      .catch(() => {});
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    try {
      const lease = await this.read();
      const now = this.o.clock.now();
      const decision = decideLease(lease, this.o.identity, now);
      if (decision === "wait") return false;
      const spec: k8s.V1LeaseSpec = {
        holderIdentity: this.o.identity,
        leaseDurationSeconds: Math.ceil(this.timing.leaseDurationMs / 1000),
        renewTime: new k8s.V1MicroTime(now),
        acquireTime: decision === "renew" ? lease?.spec?.acquireTime : new k8s.V1MicroTime(now),
        leaseTransitions: (lease?.spec?.leaseTransitions ?? 0) + (decision === "takeover" ? 1 : 0),
      };
      if (decision === "create") {
        await this.o.coordination.createNamespacedLease({ namespace: this.o.namespace, body: { metadata: { name: this.o.name, namespace: this.o.namespace }, spec } });
      } else {
        await this.o.coordination.replaceNamespacedLease({ namespace: this.o.namespace, name: this.o.name, body: { metadata: lease!.metadata, spec } });
      }
      return true;
    } catch (err) {
      // 409: another candidate wrote first. Anything else: the API server is unwell; either
      // way we do not hold the Lease this round.
      if (!isConflict(err)) this.o.log.warn("lease update failed", { lease: this.o.name, error: errorMessage(err) });
      return false;
    }
  }

  private async read(): Promise<k8s.V1Lease | undefined> {
    try {
      return await this.o.coordination.readNamespacedLease({ namespace: this.o.namespace, name: this.o.name });
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  }
}
