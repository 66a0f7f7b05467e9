// What becomes known only once the hosts exist: their addresses and the generated secrets. The plan is
// rendered from settings plus these facts, by the Pulumi program (from resource outputs) and by the
// cluster-in-a-box harness (from its local hosts) alike.

export interface NodeFacts {
  /** 1-based; ZooKeeper's myid and server.N use it. */
  readonly index: number;
  /** The address peers and clients use; stable across instance replacement. */
  readonly privateIp: string;
}

export interface ClusterSecrets {
  readonly brokerPassword: string;
  readonly consolePassword: string;
  /** Replicated LevelDB: shared by the group so that a stray node cannot join it. */
  readonly replicationToken: string;
}

/** One broker's TLS identity. */
export interface NodeCertificate {
  readonly index: number;
  /** PEM: the broker's certificate, then the CA certificates that signed it. */
  readonly certificate: string;
  /** PEM; secret. */
  readonly privateKey: string;
}

/** The brokers' TLS material, when TLS is on (lib/tls.ts). */
export interface TlsFacts {
  readonly nodes: readonly NodeCertificate[];
  /**
   * PEM: the CAs whose certificates the brokers trust from their peers: the client CAs when clientCertificates is
   * on, and with several groups the CA of the brokers' own certificates too (a bridge dials another group over TLS
   * with its node certificate); "" when neither.
   */
  readonly trustedCaCertificates: string;
  /** Protects the PKCS#12 stores built on each host; secret. */
  readonly keystorePassword: string;
}

/** Another HA group of the network (settings.groups > 1), as this group's brokers bridge to it. */
export interface PeerGroup {
  readonly brokerName: string;
  /** Its brokers' private addresses, in node order. */
  readonly addresses: readonly string[];
}

/** One HA group's facts: its own nodes and secrets, and the other groups it links to. */
export interface ClusterFacts {
  readonly nodes: readonly NodeFacts[];
  /** The other groups, in group order; absent or empty with one group. */
  readonly peers?: readonly PeerGroup[];
  readonly secrets: ClusterSecrets;
  /** Absent when clientTransport is tcp. */
  readonly tls?: TlsFacts;
  /** shared-kahadb: the NFS server the hosts mount ("fs-….efs.<region>.amazonaws.com" on AWS). */
  readonly sharedStoreHost?: string;
}

/** Nodes sorted by index: ZooKeeper's server list and connect string name them in this order everywhere. */
export function inNodeOrder(nodes: readonly NodeFacts[]): NodeFacts[] {
  return [...nodes].sort((a, b) => a.index - b.index);
}
