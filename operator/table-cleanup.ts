/**
 * Deletion of a Sink or Aggregation whose deletionPolicy is Delete: stop its workers, then
 * drop the tables it owns, then let the object go. Ordered so a running worker cannot
 * write into (or, on a restart, re-create) a table that was just dropped, and guarded so
 * a table another live resource still writes is never dropped.
 */
import { ident } from "../runtime/clickhouse/table-ddl.js";
import type { ReconcileResult } from "./controller.js";
import type { OperatorContext } from "./context.js";
import { TransientError, errorMessage } from "./errors.js";
import { addFinalizer, hasFinalizer, removeFinalizer } from "./finalizer.js";
import { keyOf, type Obj } from "./informer.js";
import type { OwnerRef } from "./owner.js";
import { validateSpec } from "./validate.js";
import { DEFAULT_CLUSTER, readerClickHouse } from "./clusters.js";
import { workloadNames, type WorkerComponent } from "./workload/desired.js";
import { scaleToZero } from "./workload/scale-to-zero.js";

export interface TableRef {
  /** The ClickHouse it is on (a configured cluster name). */
  cluster: string;
  database: string;
  table: string;
}

type WriterKind = "Sink" | "Aggregation";

/** The tables a Sink or Aggregation writes, from its defaulted spec; none if the spec is invalid. */
export function tablesOf(kind: WriterKind, obj: Obj): TableRef[] {
  const valid = validateSpec<any>({ ...obj, kind });
  if (!valid.ok) return [];
  const spec = valid.spec;
  const cluster = readerClickHouse(spec.clusters);
  if (kind === "Sink") return [{ cluster, database: spec.clickhouse.database, table: spec.clickhouse.table }];
  const out: { database: string; table: string } = spec.output.clickhouse;
  const tables = [{ cluster, database: out.database, table: out.table }];
  if (spec.lateData.policy === "Table") tables.push({ cluster, database: out.database, table: spec.lateData.table ?? `${out.table}_late` });
  return tables;
}

/** db.table, with the cluster when it is not the default one. */
const tableName = (t: TableRef) => `${t.cluster === DEFAULT_CLUSTER ? "" : `${t.cluster}:`}${t.database}.${t.table}`;

export function deletionPolicyOf(kind: WriterKind, obj: Obj): "Retain" | "Delete" {
  const valid = validateSpec<{ deletionPolicy: "Retain" | "Delete" }>({ ...obj, kind });
  return valid.ok ? valid.spec.deletionPolicy : "Retain";
}

export interface Writer {
  kind: WriterKind;
  obj: Obj;
}

/**
 * The tables of `mine` that another writer still needs: one not being deleted, or being
 * deleted under Retain (its data is to be kept). Two writers both deleted under Delete
 * do not protect each other's shared table: both asked for it to go.
 */
export function sharedTables(self: Writer, mine: TableRef[], others: Writer[]): Map<string, string> {
  const shared = new Map<string, string>();
  const selfKey = `${self.kind}/${keyOf(self.obj)}`;
  for (const other of others) {
    const otherKey = `${other.kind}/${keyOf(other.obj)}`;
    if (otherKey === selfKey) continue;
    if (other.obj.metadata?.deletionTimestamp && deletionPolicyOf(other.kind, other.obj) === "Delete") continue;
    for (const t of tablesOf(other.kind, other.obj)) {
      if (mine.some((m) => m.cluster === t.cluster && m.database === t.database && m.table === t.table)) shared.set(tableName(t), otherKey);
    }
  }
  return shared;
}

/**
 * Keeps the finalizer in step with the policy: present only under Delete, so deleting a
 * Retain resource never waits for the operator.
 */
export async function syncFinalizer(ctx: OperatorContext, plural: string, kind: WriterKind, obj: Obj): Promise<void> {
  if (deletionPolicyOf(kind, obj) === "Delete") await addFinalizer(ctx.custom, plural, obj.metadata!);
  else await removeFinalizer(ctx.custom, plural, obj.metadata!);
}

/** The deletion step of a Sink or Aggregation reconcile. */
export async function finalizeWriter(ctx: OperatorContext, plural: string, component: WorkerComponent, owner: OwnerRef & { kind: WriterKind }, obj: Obj): Promise<ReconcileResult> {
  if (!hasFinalizer(obj.metadata!)) return {};
  if (deletionPolicyOf(owner.kind, obj) === "Delete") {
    // GC would stop the workers only once the owner is gone, too late: a worker restarting
    // after the drop re-creates its table at start-up.
    if (!(await scaleToZero(ctx, owner.namespace, workloadNames(component, owner.name).worker))) return { requeueAfterMs: 2_000 };
    const tables = tablesOf(owner.kind, obj);
    const shared = sharedTables({ kind: owner.kind, obj }, tables, ctx.writers());
    for (const t of tables) {
      const name = tableName(t);
      const user = shared.get(name);
      if (user) {
        await ctx.events.record(owner, "Warning", "TableShared", `kept table ${name}: ${user} still writes it`);
        continue;
      }
      try {
        await ctx.clickhouse(t.cluster).command({ query: `DROP TABLE IF EXISTS ${ident(t.database)}.${ident(t.table)}` });
      } catch (err) {
        // Keep the finalizer: letting the object go now would leave the table forever.
        throw new TransientError(`dropping table ${name}: ${errorMessage(err)}`, "ClickHouseUnavailable", { cause: err });
      }
      await ctx.events.record(owner, "Normal", "TableDropped", `dropped table ${name} (deletionPolicy Delete)`);
    }
  }
  await removeFinalizer(ctx.custom, plural, obj.metadata!);
  return {};
}
