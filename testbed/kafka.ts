import { mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { kafkaClient } from "../runtime/kafka/client.js";
import { acceptsConnection } from "../runtime/worker/kafka-reachability.js";
import { kafkaLibs, kafkaVersion } from "./paths.js";
import { freePorts } from "./ports.js";
import { GiveUp, waitFor } from "./poll.js";
import { logTail, spawnServer, type ServerHandle } from "./server-process.js";

export interface KafkaOptions {
  dir: string;
  logDir: string;
  /** 1 for the default testbed; 3 for replication and broker-failure tests. */
  brokers?: number;
  version?: string;
  detached?: boolean;
  /** Also listen on, and advertise, this address (the testbed node's: pods reach Kafka there). */
  nodeIp?: string;
  /** Extra broker properties (fault tests shorten the preferred-leader check). */
  properties?: Record<string, string>;
}

export interface KafkaCluster {
  bootstrap: string;
  /** Bootstrap servers on the node address, for pods; undefined without `nodeIp`. */
  nodeBootstrap?: string;
  servers: ServerHandle[];
  /** Stops every broker still running and starts them again on the same config, ports and data. */
  restart: () => Promise<void>;
  /** Starts broker `nodeId` (1-based) again after it died or was stopped, on the same config and data. */
  restartBroker: (nodeId: number) => Promise<void>;
}

/**
 * Starts Apache Kafka in KRaft combined mode (each node is broker and controller) with
 * one static quorum. Ready means every broker is registered and answers metadata.
 */
export async function startKafka(opts: KafkaOptions): Promise<KafkaCluster> {
  try {
    return await startKafkaIn(opts, opts.dir);
  } catch (err) {
    // The brokers' ports are picked free, then bound seconds later by the JVM: another
    // server starting meanwhile (or an outgoing connection) can take one. Once, on new ports.
    if (!(err instanceof PortTaken)) throw err;
    process.stderr.write(`${err.message.split("\n")[0]}\ntestbed: starting kafka again on new ports\n`);
    return await startKafkaIn(opts, join(opts.dir, "again"));
  }
}

/** A broker exited because its port was taken before it bound it. */
class PortTaken extends Error {}

async function startKafkaIn(opts: KafkaOptions, dir: string): Promise<KafkaCluster> {
  const n = opts.brokers ?? 1;
  const version = opts.version ?? kafkaVersion;
  const libs = kafkaLibs(version);
  if (!existsSync(join(libs, ".complete"))) {
    throw new Error(`testbed: kafka ${version} jars missing in ${libs}; run \`make setup\` (KAFKA_VERSION=${version})`);
  }
  const ports = await freePorts(3 * n);
  const nodes = Array.from({ length: n }, (_, i) => ({ id: i + 1, port: ports[3 * i]!, controller: ports[3 * i + 1]!, nodePort: ports[3 * i + 2]! }));
  const voters = nodes.map((nd) => `${nd.id}@127.0.0.1:${nd.controller}`).join(",");
  const clusterId = kafkaClusterId();
  mkdirSync(dir, { recursive: true });
  const logging = loggingFlags(version, dir);

  const classpath = `${libs}/*`;
  const jvm = ["-Xms128m", "-Xmx512m", ...logging, "-cp", classpath];
  const props = nodes.map((nd) => {
    const file = join(dir, `server-${nd.id}.properties`);
    writeFileSync(file, serverProperties(nd, voters, join(dir, `data-${nd.id}`), n, opts.nodeIp) + Object.entries(opts.properties ?? {}).map(([k, v]) => `${k}=${v}\n`).join(""));
    execFileSync("java", [...jvm, "kafka.tools.StorageTool", "format", "-t", clusterId, "-c", file, "--ignore-formatted"], {
      stdio: "pipe",
    });
    return file;
  });
  const bootstrap = nodes.map((nd) => `127.0.0.1:${nd.port}`).join(",");
  const spawnNode = (i: number): ServerHandle =>
    spawnServer({
      name: `kafka-${nodes[i]!.id}`,
      command: "java",
      args: [...jvm, "kafka.Kafka", props[i]!],
      logFile: join(opts.logDir, `kafka-${nodes[i]!.id}.log`),
      detached: opts.detached,
    });
  /**
   * Ready: all n brokers registered. A failure names the broker at fault (one that exited,
   * else one not listening) with its log, not the first one started.
   */
  const ready = async (started: { server: ServerHandle; port: number }[], fresh: boolean): Promise<void> => {
    try {
      await waitFor(`${n} kafka broker(s) at ${bootstrap}`, async () => {
        const gone = started.find((b) => b.server.exited());
        if (gone) throw new GiveUp(`${gone.server.name} exited`);
        return (await brokerCount(bootstrap)) >= n ? true : undefined;
      }, { timeoutMs: 90_000 });
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      let blamed = started.find((b) => b.server.exited());
      for (const b of started) if (!blamed && !(await acceptsConnection(`127.0.0.1:${b.port}`, 1000))) blamed = b;
      const { server } = blamed ?? started[0]!;
      const state = server.exited() ? `exited while ${n} broker(s) started` : `did not become ready (${reason})`;
      const message = `testbed: ${server.name} ${state}.\nLast lines of ${server.logFile}:\n${logTail(server.logFile)}`;
      if (fresh && server.exited() && logHolds(server.logFile, "Address already in use")) {
        await Promise.all(started.map((b) => (b.server.exited() ? undefined : b.server.stop())));
        throw new PortTaken(message);
      }
      throw new Error(message);
    }
  };
  const launch = async (fresh: boolean): Promise<ServerHandle[]> => {
    const servers = nodes.map((_, i) => spawnNode(i));
    await ready(servers.map((server, i) => ({ server, port: nodes[i]!.port })), fresh);
    return servers;
  };
  const cluster: KafkaCluster = {
    bootstrap,
    ...(opts.nodeIp && { nodeBootstrap: nodes.map((nd) => `${opts.nodeIp}:${nd.nodePort}`).join(",") }),
    servers: await launch(true),
    restart: async () => {
      for (const server of cluster.servers) if (!server.exited()) await server.stop();
      cluster.servers.splice(0, cluster.servers.length, ...(await launch(false)));
    },
    restartBroker: async (nodeId) => {
      const i = nodes.findIndex((nd) => nd.id === nodeId);
      if (!cluster.servers[i]!.exited()) await cluster.servers[i]!.stop();
      cluster.servers[i] = spawnNode(i);
      await ready([{ server: cluster.servers[i]!, port: nodes[i]!.port }], false);
    },
  };
  return cluster;
}

function logHolds(logFile: string, text: string): boolean {
  return existsSync(logFile) && readFileSync(logFile, "utf8").includes(text);
}

async function brokerCount(bootstrap: string): Promise<number> {
  // Our admin client retries (and logs) a refused connection for some twenty seconds:
  // ask it only once every listener accepts connections, so polling stays quick and quiet.
  const addresses = bootstrap.split(",");
  if (!(await Promise.all(addresses.map((a) => acceptsConnection(a, 1000)))).every(Boolean)) return 0;
  const admin = kafkaClient(addresses, "sluice-testbed").admin();
  try {
    await admin.connect();
    return (await admin.describeCluster()).brokers.length;
  } finally {
    await admin.disconnect();
  }
}

/**
 * Kafka cluster ids are 16 random bytes in URL-safe base64 without padding. Like Kafka's
 * own Uuid.randomUuid, skip ids starting with '-': StorageTool would read one as a flag.
 */
export function kafkaClusterId(): string {
  for (;;) {
    const id = Buffer.from(randomUUID().replaceAll("-", ""), "hex").toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function serverProperties(nd: { id: number; port: number; controller: number; nodePort: number }, voters: string, dataDir: string, n: number, nodeIp?: string): string {
  const rf = Math.min(3, n);
  // A client gets the addresses of the listener it connected to: the host keeps loopback,
  // pods connect to the node address and are told node addresses.
  const node = nodeIp ? `,NODE://${nodeIp}:${nd.nodePort}` : "";
  return [
    "process.roles=broker,controller",
    `node.id=${nd.id}`,
    `controller.quorum.voters=${voters}`,
    `listeners=PLAINTEXT://127.0.0.1:${nd.port},CONTROLLER://127.0.0.1:${nd.controller}${node}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${nd.port}${node}`,
    "controller.listener.names=CONTROLLER",
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,NODE:PLAINTEXT",
    `log.dirs=${dataDir}`,
    "num.partitions=1",
    // Topics are created explicitly by Sluice; auto-creation would hide missing ensure-topic steps.
    "auto.create.topics.enable=false",
    `offsets.topic.replication.factor=${rf}`,
    `transaction.state.log.replication.factor=${rf}`,
    "transaction.state.log.min.isr=1",
    "offsets.topic.num.partitions=4",
    "group.initial.rebalance.delay.ms=0",
    "log.flush.interval.messages=9223372036854775807",
    "",
  ].join("\n");
}

/** Kafka 3.x logs through log4j 1 (reload4j), 4.x through log4j2: each needs its own config. */
function loggingFlags(version: string, dir: string): string[] {
  if (version.startsWith("3.")) {
    writeFileSync(join(dir, "log4j.properties"), LOG4J);
    return [`-Dlog4j.configuration=file:${join(dir, "log4j.properties")}`];
  }
  writeFileSync(join(dir, "log4j2.properties"), LOG4J2);
  return [`-Dlog4j2.configurationFile=${join(dir, "log4j2.properties")}`];
}

const LOG4J2 = `rootLogger.level=INFO
rootLogger.appenderRef.stdout.ref=STDOUT
appender.stdout.type=Console
appender.stdout.name=STDOUT
appender.stdout.layout.type=PatternLayout
appender.stdout.layout.pattern=[%d] %p %m (%c)%n
`;

const LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
`;
