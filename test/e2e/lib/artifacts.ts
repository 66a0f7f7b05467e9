// The release artifacts each mode's e2e puts on the box's mirror, built at test time (never committed): ActiveMQ
// from Debian's packages for shared-kahadb; ZooKeeper from Debian's packages and a supplied 5.16.x distribution
// for replicated-leveldb.
import { symlinkSync } from "node:fs";
import * as path from "node:path";
import { MIRROR, publish, runBuildScript, WORK } from "./cluster-box";

/** The ActiveMQ that Debian 12 packages (older than the production default: test-only setting). */
export const DEBIAN_ACTIVEMQ = "5.17.2";
/** The ZooKeeper that Debian 12 packages. */
export const DEBIAN_ZOOKEEPER = "3.8.0";

/** Builds ActiveMQ from Debian's packages (cached between runs); returns the tarball. */
export function buildDebianActiveMq(): string {
  runBuildScript("test/e2e/artifacts/build-activemq-from-debian.sh", path.join(WORK, "built"));
  return path.join(
    WORK,
    "built",
    "activemq",
    DEBIAN_ACTIVEMQ,
    `apache-activemq-${DEBIAN_ACTIVEMQ}-bin.tar.gz`,
  );
}

/** Builds ActiveMQ from Debian's packages and publishes it; returns the tarball on the mirror. */
export function publishDebianActiveMq(): string {
  return publish(buildDebianActiveMq(), `activemq/${DEBIAN_ACTIVEMQ}`);
}

/** The settings that run shared-kahadb on Debian's ActiveMQ (which has no web console). */
export function debianActiveMqSettings(): Record<string, string> {
  return {
    haMode: "shared-kahadb",
    activemqVersion: DEBIAN_ACTIVEMQ,
    testOnlyAllowUnsupportedActiveMq: "true",
    webConsole: "false",
  };
}

/**
 * The settings that run the ZooKeeper built from Debian's packages: 3.8.0, below the advisory floors (3.8.7 and
 * 3.9.6, lib/versions.ts), which Debian 12 does not reach; admitted by the test-only setting.
 */
export function debianZookeeperSettings(): Record<string, string> {
  return { zookeeperVersion: DEBIAN_ZOOKEEPER, testOnlyAllowUnsupportedZookeeper: "true" };
}

/** Builds ZooKeeper from Debian's packages and publishes it; returns the tarball on the mirror. */
export function publishDebianZookeeper(): string {
  runBuildScript("test/e2e/box/build-zookeeper-artifact.sh", path.join(WORK, "built"));
  return publish(
    path.join(
      WORK,
      "built",
      "zookeeper",
      `zookeeper-${DEBIAN_ZOOKEEPER}`,
      `apache-zookeeper-${DEBIAN_ZOOKEEPER}-bin.tar.gz`,
    ),
    `zookeeper/zookeeper-${DEBIAN_ZOOKEEPER}`,
  );
}

/**
 * The 5.16.x distribution given by E2E_ACTIVEMQ_DIST=…/apache-activemq-5.16.8-bin.tar.gz, with E2E_MAVEN_DIR=<a
 * directory in Maven layout holding the extra jars of lib/plan.ts LEVELDB_EXTRA_JARS>; undefined without them.
 */
export interface LevelDbDistribution {
  readonly tarball: string;
  readonly mavenDir: string;
  readonly version: string;
}

export function suppliedLevelDbDistribution(): LevelDbDistribution | undefined {
  const tarball = process.env.E2E_ACTIVEMQ_DIST;
  const mavenDir = process.env.E2E_MAVEN_DIR;
  const version = tarball ? /apache-activemq-([\d.]+)-bin/.exec(path.basename(tarball))?.[1] : undefined;
  return tarball && mavenDir && version ? { tarball, mavenDir, version } : undefined;
}

/** Publishes the supplied distribution and serves its Maven directory at the mirror's /maven. */
export function publishLevelDbDistribution(dist: LevelDbDistribution): void {
  publish(dist.tarball, `activemq/${dist.version}`);
  symlinkSync(path.resolve(dist.mavenDir), path.join(MIRROR, "maven"));
}
