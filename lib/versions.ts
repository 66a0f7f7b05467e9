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
 * Shared KahaDB runs on a supported line. The floors carry the 2025–2026 fixes: 5.19.4 and 6.2.4 close
 * CVE-2026-34197 (Jolokia code execution) and CVE-2026-39304; 6.2.4 also the MQTT regression CVE-2026-40046.
 */
export const SUPPORTED_ACTIVEMQ_FLOORS: readonly { line: string; floor: string }[] = [
  { line: "5.19", floor: "5.19.4" },
  { line: "6", floor: "6.2.4" },
];
export const DEFAULT_KAHADB_ACTIVEMQ_VERSION = "5.19.9";

/** ZooKeeper lines still maintained upstream: 3.8 ("stable") and 3.9 ("current"). */
export const ZOOKEEPER_LINES = ["3.8", "3.9"] as const;
export const DEFAULT_ZOOKEEPER_VERSION = "3.8.6";

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
  const allowed = `5.19.x from 5.19.4, or 6.x from 6.2.4 (older releases lack the 2025–2026 security fixes)`;
  if (!v) {
    return allowed;
  }
  const ok = SUPPORTED_ACTIVEMQ_FLOORS.some(({ line, floor }) => {
    const lineParts = line.split(".").map(Number);
    const sameLine = lineParts.every((part, i) => v[i] === part);
    return sameLine && compareVersions(v, parseVersion(floor) as number[]) >= 0;
  });
  return ok ? undefined : allowed;
}

export function checkZookeeperVersion(version: string): string | undefined {
  const v = parseVersion(version);
  const ok = v !== undefined && (ZOOKEEPER_LINES as readonly string[]).includes(`${v[0]}.${v[1]}`);
  return ok ? undefined : `a 3.8.x or 3.9.x release (the lines ZooKeeper still maintains)`;
}
