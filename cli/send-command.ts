/**
 * `sluice send <stream> --file <events>`: posts a file of events (JSON or NDJSON) to the
 * stream's collector, or `--generate <n>` events made from the stream's schema
 * (send-generate.ts), optionally paced at `--rate` events/s, with a progress bar and a
 * summary of accepted, rejected (with the collector's reasons) and retried events. Ids are
 * set before the first attempt, so retries reuse them (send-input.ts, send-batches.ts).
 *
 * The bar is cli-progress: maintained, small, and it redraws one line in place on a TTY
 * and stays silent elsewhere, so piped or CI runs get only the summary.
 */
import { existsSync, readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { SingleBar } from "cli-progress";
import { v7 as uuidv7 } from "uuid";
import { loadPipeline } from "../runtime/pipeline/load.js";
import { CliError, EXIT_FAILURE, runAction, usageError, withHelp } from "./exit-codes.js";
import { sendAll, type SendSummary } from "./send-batches.js";
import { generateEvents } from "./send-generate.js";
import { parseEvents, withEventIds, type InputEvent } from "./send-input.js";
import type { CompiledStream } from "../runtime/pipeline/compiled.js";

export interface SendOptions {
  file?: string;
  generate?: string;
  rate?: string;
  url?: string;
  key?: string;
  tenant?: string;
  filename?: string[];
  namespace: string;
  idField: string;
  batch: string;
  retries: string;
  progress: boolean;
  output: "text" | "json";
}

const DEFAULT_URL = "http://127.0.0.1:8080";

interface StreamFacts {
  /** The stream as the manifests declare it (with -f). */
  stream?: CompiledStream;
  idField: string;
  apiKey?: string;
  maxEventsPerRequest?: number;
}

/** What the manifests say about the stream: its id field, its request limit and the tenant's key. */
function streamFacts(stream: string, o: SendOptions): StreamFacts {
  const key = o.key ?? process.env.SLUICE_API_KEY;
  if (!o.filename) {
    if (o.tenant) throw usageError("--tenant takes the key from the manifests' Secret: pass -f <manifest dir> too, or --key");
    return { idField: o.idField, apiKey: key };
  }
  const missing = o.filename.filter((p) => !existsSync(p));
  if (missing.length > 0) throw usageError(`${missing.join(", ")}: no such file or directory`);
  const pipeline = loadPipeline(o.filename, o.namespace);
  const s = pipeline.streams.find((x) => x.name === stream);
  if (!s) throw usageError(`no EventStream "${stream}" in ${o.filename.join(", ")}`, `the streams there: ${pipeline.streams.map((x) => x.name).join(", ")}`);
  let apiKey = key;
  if (o.tenant) {
    const secret = s.ingest.authSecret ? pipeline.secrets.get(s.ingest.authSecret) : undefined;
    apiKey = secret?.[o.tenant];
    if (apiKey === undefined) throw usageError(`no API key for tenant "${o.tenant}" in ${s.ingest.authSecret ? `Secret "${s.ingest.authSecret}"` : `stream "${stream}" (it has no auth)`}`, secret ? `its tenants: ${Object.keys(secret).join(", ")}` : undefined);
  }
  return { stream: s, idField: s.keys.eventId, apiKey, maxEventsPerRequest: s.ingest.maxEventsPerRequest };
}

function positive(name: string, text: string, min: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min) throw usageError(`${name} ${text} must be a whole number of at least ${min}`);
  return n;
}

/** The events to send: the file's, or generated from the stream's schema. */
function inputEvents(stream: string, o: SendOptions, facts: StreamFacts): { events: InputEvent[]; generated: boolean } {
  if (o.file !== undefined) {
    if (!existsSync(o.file)) throw usageError(`${o.file}: no such file`);
    return { events: withEventIds(parseEvents(readFileSync(o.file, "utf8"), o.file), facts.idField, uuidv7), generated: false };
  }
  const count = positive("--generate", o.generate!, 1);
  if (!facts.stream) throw usageError(`--generate makes events from the stream's schema: pass -f <manifest dir> declaring "${stream}"`);
  const tenant = facts.stream.keys.tenant ? o.tenant : undefined;
  if (facts.stream.keys.tenant && !tenant) throw usageError(`stream "${stream}" is per tenant (keys.tenant: ${facts.stream.keys.tenant}): say which with --tenant`);
  return { events: generateEvents(facts.stream, count, { tenant, now: Date.now, newId: uuidv7, random: Math.random }), generated: true };
}

export async function send(stream: string, o: SendOptions): Promise<SendSummary> {
  let batchSize = positive("--batch", o.batch, 1);
  const retries = positive("--retries", o.retries, 0);
  if ((o.file === undefined) === (o.generate === undefined)) throw usageError("say what to send: --file <events> or --generate <count>, one of them", "sluice send page-views --generate 1000 --rate 100 -f examples/clickstream --tenant shop-a");
  const rate = o.rate === undefined ? undefined : positive("--rate", o.rate, 1);
  const facts = streamFacts(stream, o);
  if (facts.maxEventsPerRequest !== undefined) batchSize = Math.min(batchSize, facts.maxEventsPerRequest);
  // Paced, a batch is at most a tenth of a second's events, so the rate holds smoothly.
  if (rate !== undefined) batchSize = Math.max(1, Math.min(batchSize, Math.ceil(rate / 10)));
  const { events, generated } = inputEvents(stream, o, facts);
  const timeField = facts.stream?.keys.eventTime;
  const timeIsTimestamp = facts.stream?.schema.fields.find((f) => f.name === timeField)?.type === "timestamp";
  const url = o.url ?? process.env.SLUICE_COLLECTOR_URL ?? DEFAULT_URL;

  const bar = new SingleBar({
    stream: process.stderr,
    format: "{bar} {percentage}% | {value}/{total} events | accepted {accepted}, rejected {rejected}, retried {retried} | ETA {eta_formatted}",
    hideCursor: true,
    noTTYOutput: false,
  });
  const showBar = o.progress && process.stderr.isTTY === true;
  if (showBar) bar.start(events.length, 0, { accepted: 0, rejected: 0, retried: 0 });
  try {
    return await sendAll(events, { url, stream, apiKey: facts.apiKey, batchSize, retries, ratePerSecond: rate }, {
      fetch,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
      // Generated events happen when they are sent: a paced run of minutes would otherwise
      // send event times minutes old, late for an Aggregation's windows.
      beforeFirstAttempt: generated && timeField
        ? (all, start, count) => {
            const at = Date.now();
            for (const e of all.slice(start, start + count)) (e.event as Record<string, unknown>)[timeField] = timeIsTimestamp ? new Date(at).toISOString() : at;
          }
        : undefined,
      onProgress: (s) => showBar && bar.update(s.sent, { accepted: s.accepted, rejected: s.rejected.length, retried: s.retried }),
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`sending to ${url} failed: ${err instanceof Error ? err.message : String(err)}`, "is the collector up (sluice run prints its URL)? pass --url");
  } finally {
    if (showBar) bar.stop();
  }
}

export function formatSummary(stream: string, s: SendSummary): string {
  const lines = [`sent ${s.sent} events to ${stream}: ${s.accepted} accepted, ${s.rejected.length} rejected, ${s.undelivered.length} not delivered; ${s.retried} retried in ${s.retriedRequests} repeated requests (same event ids)`];
  const list = (title: string, items: SendSummary["rejected"]) => {
    if (items.length === 0) return;
    lines.push(`${title}:`);
    for (const r of items.slice(0, 20)) lines.push(`  ${r.where}: ${r.reason}`);
    if (items.length > 20) lines.push(`  ... and ${items.length - 20} more (-o json lists all)`);
  };
  list("rejected", s.rejected);
  list("not delivered", s.undelivered);
  return `${lines.join("\n")}\n`;
}

export function sendCommand(): Command {
  const cmd = new Command("send")
    .description("Post events from a JSON or NDJSON file, or generated from the stream's schema, to its collector, with progress and a summary")
    .argument("<stream>", "EventStream name (metadata.name)")
    .option("--file <path>", "events: a JSON array, one JSON object, or NDJSON (one object per line)")
    .option("--generate <count>", "with -f: make this many events from the stream's schema instead (new ids, event time when sent, --tenant's tenant)")
    .option("--rate <events/s>", "pace the sending at this many events per second (default: as fast as the collector answers)")
    .option("--url <url>", `collector base URL (default: $SLUICE_COLLECTOR_URL, else ${DEFAULT_URL}, sluice run's)`)
    .option("--key <apiKey>", "API key of the stream (default: $SLUICE_API_KEY)")
    .option("--tenant <id>", "with -f: use this tenant's key from the Secret beside the manifests")
    .option("-f, --filename <path...>", "manifest files or folders declaring the stream: its event id field, request limit and keys")
    .option("-n, --namespace <ns>", "namespace the manifests are compiled in", "default")
    .option("--id-field <name>", "without -f: the event id field filled in where missing", "event_id")
    .option("--batch <n>", "events per request (at most the stream's maxEventsPerRequest)", "500")
    .option("--retries <n>", "attempts after the first for a batch answered 429/503 or lost", "5")
    .option("--no-progress", "no progress bar (it is shown only on a terminal anyway)")
    .addOption(new Option("-o, --output <format>", "summary as text or json").choices(["text", "json"]).default("text"))
    .action((stream: string, opts: SendOptions) =>
      runAction(async () => {
        const summary = await send(stream, opts);
        process.stdout.write(opts.output === "json" ? `${JSON.stringify({ stream, ...summary })}\n` : formatSummary(stream, summary));
        if (summary.rejected.length > 0 || summary.undelivered.length > 0) process.exitCode = EXIT_FAILURE;
      }),
    );
  return withHelp(cmd, [
    "sluice send page-views --file views.ndjson -f examples/clickstream --tenant shop-a",
    "sluice send page-views --file views.json --url http://collector.shop:8080 --key \"$KEY\" -o json",
    "sluice send page-views --generate 60000 --rate 1000 -f examples/clickstream --tenant shop-a   # a minute of load",
  ], [
    "Events without an id get one (UUIDv7) before the first attempt; a batch answered 429 or",
    "503, or lost, is sent again with the same ids, so the sinks drop what was stored twice.",
    "Exit 1 when any event was rejected or not delivered (the summary says which and why).",
  ]);
}
