/**
 * The testbed node's addresses, all in 198.18.0.0/15 (RFC 2544, reserved for network
 * benchmarking) so they never collide with the machine's own networks (10/8, 172.16/12,
 * 192.168/16). One node per machine: these are fixed, and the node takes a lock.
 */
export const NODE_NAME = "sluice-node";
/** On a link of its own (a port-less bridge): Kafka, ClickHouse, the API server and the kubelet listen here. */
export const NODE_IP = "198.18.0.1";
export const NODE_LINK = "sluice0";
/** Pods: a Linux bridge, host-local IPAM; the bridge holds the gateway. */
export const POD_CIDR = "198.18.16.0/20";
export const POD_GATEWAY = "198.18.16.1";
export const POD_BRIDGE = "sluice-cni0";
/** ClusterIPs; the first one is the `kubernetes` Service. */
export const SERVICE_CIDR = "198.18.32.0/24";
export const KUBERNETES_SERVICE_IP = "198.18.32.1";
/** Addresses pods connect from, allowed by ClickHouse's users.xml. */
export const TESTBED_RANGE = "198.18.0.0/15";
