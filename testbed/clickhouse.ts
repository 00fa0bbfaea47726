import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TESTBED_RANGE } from "./node/addresses.js";
import { freePorts } from "./ports.js";
import { GiveUp, waitFor } from "./poll.js";
import { readyOrExplain, spawnServer, type ServerHandle } from "./server-process.js";

export interface ClickHouseOptions {
  dir: string;
  logDir: string;
  detached?: boolean;
  /** Also listen on this address (the testbed node's: pods reach ClickHouse there). */
  nodeIp?: string;
}

export interface ClickHouseServer {
  url: string;
  /** The HTTP URL on the node address, for pods; undefined without `nodeIp`. */
  nodeUrl?: string;
  servers: ServerHandle[];
  /**
   * Starts the server again on the same ports and data after it was stopped, for outage
   * tests: clients keep their URL, and the data written before the outage is still there.
   */
  restart: () => Promise<void>;
}

/**
 * Starts Debian's clickhouse-server as a plain user process with its own config:
 * loopback ports and all state under `dir`. Ready when the HTTP interface runs SELECT 1.
 */
export async function startClickHouse(opts: ClickHouseOptions): Promise<ClickHouseServer> {
  const [http, tcp, interserver] = (await freePorts(3)) as [number, number, number];
  const data = join(opts.dir, "data") + "/";
  mkdirSync(join(data, "tmp"), { recursive: true });
  mkdirSync(join(data, "user_files"), { recursive: true });
  const config = join(opts.dir, "config.xml");
  const users = join(opts.dir, "users.xml");
  writeFileSync(config, configXml({ http, tcp, interserver, data, users, logDir: opts.logDir, nodeIp: opts.nodeIp }));
  writeFileSync(users, usersXml(opts.nodeIp !== undefined));
  const url = `http://127.0.0.1:${http}`;
  const launch = async (): Promise<ServerHandle> => {
    const server = spawnServer({
      name: "clickhouse",
      command: "clickhouse-server",
      args: [`--config-file=${config}`],
      cwd: opts.dir,
      logFile: join(opts.logDir, "clickhouse.stdout.log"),
      detached: opts.detached,
    });
    await readyOrExplain(server, () =>
      waitFor(`clickhouse at ${url}`, async () => {
        if (server.exited()) throw new GiveUp("process exited");
        const res = await fetch(`${url}/?query=SELECT%201`);
        return res.ok && (await res.text()).trim() === "1" ? true : undefined;
      }),
    );
    return server;
  };
  const result: ClickHouseServer = {
    url,
    ...(opts.nodeIp && { nodeUrl: `http://${opts.nodeIp}:${http}` }),
    servers: [await launch()],
    restart: async () => {
      result.servers[0] = await launch();
    },
  };
  return result;
}

function configXml(p: { http: number; tcp: number; interserver: number; data: string; users: string; logDir: string; nodeIp?: string | undefined }): string {
  return `<?xml version="1.0"?>
<yandex>
  <logger>
    <level>information</level>
    <log>${p.logDir}/clickhouse.log</log>
    <errorlog>${p.logDir}/clickhouse.err.log</errorlog>
    <size>100M</size>
    <count>2</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>${p.nodeIp ? `\n  <listen_host>${p.nodeIp}</listen_host>` : ""}
  <http_port>${p.http}</http_port>
  <tcp_port>${p.tcp}</tcp_port>
  <interserver_http_port>${p.interserver}</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <max_connections>512</max_connections>
  <keep_alive_timeout>10</keep_alive_timeout>
  <max_concurrent_queries>100</max_concurrent_queries>
  <uncompressed_cache_size>1073741824</uncompressed_cache_size>
  <mark_cache_size>268435456</mark_cache_size>
  <path>${p.data}</path>
  <tmp_path>${p.data}tmp/</tmp_path>
  <user_files_path>${p.data}user_files/</user_files_path>
  <format_schema_path>${p.data}format_schemas/</format_schema_path>
  <users_config>${p.users}</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <timezone>UTC</timezone>
  <mlock_executable>false</mlock_executable>
  <builtin_dictionaries_reload_interval>3600</builtin_dictionaries_reload_interval>
  <max_session_timeout>3600</max_session_timeout>
  <default_session_timeout>60</default_session_timeout>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
`;
}

const usersXml = (node: boolean) => `<?xml version="1.0"?>
<yandex>
  <profiles>
    <default>
      <max_memory_usage>4000000000</max_memory_usage>
      <load_balancing>random</load_balancing>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip><ip>::1</ip>${node ? `<ip>${TESTBED_RANGE}</ip>` : ""}</networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
  </users>
  <quotas>
    <default>
      <interval><duration>3600</duration><queries>0</queries><errors>0</errors><result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval>
    </default>
  </quotas>
</yandex>
`;
