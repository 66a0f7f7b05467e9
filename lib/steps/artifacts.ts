// Where the releases come from and what makes them authentic: the Apache dist layout, the SHA-512 pin, the
// signing keys, and the extra jars 5.16.x needs on JDK 17. Pure.
import { StackSettings } from "../settings";
import { StepInputs } from "./types";

/**
 * Where a release artifact is in the Apache dist layout (its .sha512 and .asc beside it, the project's KEYS file
 * at the top of the project's folder), its SHA-512 pin ("" when none is set), and the fingerprints of the keys
 * that may sign it.
 */
export function artifactUrls(settings: StackSettings, product: "zookeeper" | "activemq") {
  const base = settings.artifactBaseUrl;
  const keysUrl = `${base}/${product}/KEYS`;
  const release = product === "zookeeper" ? settings.zookeeper : settings.activemq;
  const v = release.version;
  const url =
    product === "zookeeper"
      ? `${base}/zookeeper/zookeeper-${v}/apache-zookeeper-${v}-bin.tar.gz`
      : `${base}/activemq/${v}/apache-activemq-${v}-bin.tar.gz`;
  return { url, pin: release.sha512 ?? "", keysUrl, signers: release.signingKeys.join(",") };
}

/** The inputs of install_release (scripts/lib/common.sh) for a release installed at `home`, linked from `link`. */
export function releaseInputs(
  settings: StackSettings,
  product: "zookeeper" | "activemq",
  home: string,
  link: string,
): StepInputs {
  const a = artifactUrls(settings, product);
  return {
    RELEASE_URL: a.url,
    RELEASE_SHA512: a.pin,
    RELEASE_HOME: home,
    RELEASE_LINK: link,
    RELEASE_KEYS_URL: a.keysUrl,
    RELEASE_SIGNERS: a.signers,
  };
}

/**
 * Jars that 5.16.x needs beside its distribution on JDK 17 (NOTES fixes 2 and 3), pinned by SHA-1 as Maven
 * Central publishes it, fetched from `mavenBaseUrl` so private mirrors work.
 */
export const LEVELDB_EXTRA_JARS = [
  {
    // Guava 27+ needs it; without it every reopened store fails, so no slave can ever be promoted.
    path: "com/google/guava/failureaccess/1.0.1/failureaccess-1.0.1.jar",
    sha1: "1dcf1de382a0bf95a3d8b0849546c88bac1292c9",
  },
  {
    // The bundled 3.4.14 client cannot connect on JDK 14+ (ZOOKEEPER-3779); this one can.
    path: "org/apache/zookeeper/zookeeper/3.4.6/zookeeper-3.4.6.jar",
    sha1: "01b2502e29da1ebaade2357cd1de35a855fa3755",
  },
] as const;
