// Which software versions each HA mode may run, and why. Pure.

export type HaMode = "replicated-leveldb" | "shared-kahadb";

/** Debian 12's JDK; Ubuntu 24.04 ships the same package name. */
export const JDK_PACKAGE = "openjdk-17-jre-headless";

/**
 * Replicated LevelDB exists only up to 5.16.x (removed in 5.17.0, AMQ-7502). Below 5.16.7 the broker has
 * CVE-2023-46604 (unauthenticated remote code execution, exploited in the wild), so only these two remain.
 */
export const LEVELDB_ACTIVEMQ_VERSIONS = ["5.16.7", "5.16.8"] as const;
export const DEFAULT_LEVELDB_ACTIVEMQ_VERSION = "5.16.8";

/**
 * Shared KahaDB runs on a supported line, from its first release past every published advisory: 5.19.11 on 5.19,
 * which fixes CVE-2026-74761. (5.19.4 closed CVE-2026-34197, Jolokia code execution, and CVE-2026-39304; 5.19.9 the
 * rest rated important.) 6.x is not offered yet: see ACTIVEMQ_6_REFUSAL.
 */
export const SUPPORTED_ACTIVEMQ_FLOORS: readonly { line: string; floor: string }[] = [
  { line: "5.19", floor: "5.19.11" },
];
export const ACTIVEMQ_FLOOR_ADVISORY = "releases before 5.19.11 have CVE-2026-74761";

/**
 * Why 6.x is refused for now. Its web console runs on Jetty 11, whose configuration differs from the 5.x
 * jetty.xml that lib/render/jetty.ts renders: given that file, a 6.x broker with the console on stops at startup.
 * And no 6.x release has run in the project's cluster-in-a-box (test/e2e), where failover is measured.
 */
export const ACTIVEMQ_6_REFUSAL =
  "6.x is refused for now: its web console needs a Jetty 11 configuration this program does not render yet " +
  "(the 5.x jetty.xml stops a 6.x broker when the console is on), and 6.x has not run in the project's " +
  "cluster-in-a-box";

export const DEFAULT_KAHADB_ACTIVEMQ_VERSION = "5.19.11";

/**
 * ZooKeeper lines still maintained upstream, 3.8 ("stable") and 3.9 ("current"), each from its first release past
 * the advisories of 2026-09-15: 3.8.7 and 3.9.6 fix five that affect every earlier 3.8.x and 3.9.x, among them
 * CVE-2026-79993 (critical: the deleteContainer opcode skips session and ACL checks, so any client that reaches the
 * client port can delete znodes).
 */
export const ZOOKEEPER_FLOORS: readonly { line: string; floor: string }[] = [
  { line: "3.8", floor: "3.8.7" },
  { line: "3.9", floor: "3.9.6" },
];
export const ZOOKEEPER_FLOOR_ADVISORY =
  "earlier releases have CVE-2026-79993 (critical: deleteContainer skips session and ACL checks) and four more advisories";
export const DEFAULT_ZOOKEEPER_VERSION = "3.8.7";

export function parseVersion(text: string): number[] | undefined {
  return /^\d+\.\d+\.\d+$/.test(text) ? text.split(".").map(Number) : undefined;
}

export function compareVersions(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) {
      return d;
    }
  }
  return 0;
}

/** Returns undefined when `version` may run in `mode`, otherwise what is allowed. */
export function checkActiveMqVersion(mode: HaMode, version: string): string | undefined {
  if (mode === "replicated-leveldb") {
    return (LEVELDB_ACTIVEMQ_VERSIONS as readonly string[]).includes(version)
      ? undefined
      : `${LEVELDB_ACTIVEMQ_VERSIONS.join(" or ")} (replicated LevelDB was removed in 5.17.0; ` +
          `older 5.16.x releases have CVE-2023-46604)`;
  }
  const v = parseVersion(version);
  const allowed = `5.19.x from 5.19.11 (${ACTIVEMQ_FLOOR_ADVISORY}, and older ones more)`;
  if (!v) {
    return allowed;
  }
  if (v[0] === 6) {
    return `${allowed}; ${ACTIVEMQ_6_REFUSAL}`;
  }
  return atOrAboveFloor(v, SUPPORTED_ACTIVEMQ_FLOORS) ? undefined : allowed;
}

export function checkZookeeperVersion(version: string): string | undefined {
  const v = parseVersion(version);
  return v !== undefined && atOrAboveFloor(v, ZOOKEEPER_FLOORS)
    ? undefined
    : `3.8.x from 3.8.7 or 3.9.x from 3.9.6 (${ZOOKEEPER_FLOOR_ADVISORY})`;
}

/** Whether version `v` is on one of the lines, at or above its floor. */
function atOrAboveFloor(v: number[], floors: readonly { line: string; floor: string }[]): boolean {
  return floors.some(({ line, floor }) => {
    const sameLine = line
      .split(".")
      .map(Number)
      .every((part, i) => v[i] === part);
    return sameLine && compareVersions(v, parseVersion(floor) as number[]) >= 0;
  });
}

export type Product = "zookeeper" | "activemq";

/** The release tarball's file name in the Apache dist layout; lib/plan.ts artifactUrls downloads this file. */
export function artifactFileName(product: Product, version: string): string {
  return product === "zookeeper"
    ? `apache-zookeeper-${version}-bin.tar.gz`
    : `apache-activemq-${version}-bin.tar.gz`;
}

/**
 * SHA-512 digests of release tarballs, by file name (artifactFileName), pinned on top of the signature check
 * (lib/releaseKeys.ts), unless activemqSha512/zookeeperSha512 give one. Only digests that two independent public
 * sources agree on (nixpkgs, vcpkg and other build recipes that verify Apache's .sha512) are here; this machine
 * cannot reach Apache to read them itself. No digest of 5.16.x, 5.19.x or ZooKeeper 3.8.6 could be confirmed
 * that way, so those releases rest on their signatures alone.
 */
export const KNOWN_SHA512: Record<string, string> = {
  "apache-zookeeper-3.9.5-bin.tar.gz":
    "baa1c21dda4d57238fca751e4fa2bbf1daff9a28612b125e497dccd5c188ee6449e2f79947e474c2dd4d19992789d4d36b27b1ba2feb80c2b0c45e7df0e22aa8",
  "apache-zookeeper-3.9.4-bin.tar.gz":
    "36bffae6440ed0d71ed83a621b8c52c583860b414812197373237f0c148bd16e6b599977c90e5eb81c0fce6b82ef44aa782621535417cffc4c2a0a51a56f2cdf",
  "apache-zookeeper-3.9.3-bin.tar.gz":
    "d44d870c1691662efbf1a8baf1859c901b820dc5ff163b36e81beb27b6fbf3cd31b5f1f075697edaaf6d3e7a4cb0cc92f924dcff64b294ef13d535589bdaf143",
  "apache-zookeeper-3.8.4-bin.tar.gz":
    "4d85d6f7644d5f36d9c4d65e78bd662ab35ebe1380d762c24c12b98af029027eee453437c9245dbdf2b9beb77cd6b690b69e26f91cf9d11b0a183a979c73fa43",
};
