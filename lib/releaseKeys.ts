// Whose signatures make an Apache release authentic here. A mirror may serve any tarball, .sha512 and KEYS file;
// scripts/lib/common.sh (verify_signature) installs a release only when its .asc is a good signature by one of
// these keys (primary fingerprints). Sources: the KEYS file of the apache/activemq repository and the signatures
// of its activemq-5.16.7/5.16.8/5.19.x release tags' makers; ZooKeeper's signed release-3.8.x/3.9.x tags and the
// official ZooKeeper images, which verify their downloads with the same keys. Pure.

export interface ReleaseKey {
  readonly owner: string;
  /** The primary key's fingerprint: 40 upper-case hex digits, as gpg's VALIDSIG status line prints it. */
  readonly fingerprint: string;
}

export const RELEASE_KEYS: Readonly<Record<"activemq" | "zookeeper", readonly ReleaseKey[]>> = {
  activemq: [
    { owner: "Jean-Baptiste Onofré", fingerprint: "1AA8CF92D409A73393D0B736BFF2EE42C8282E76" },
    { owner: "Christopher L. Shannon", fingerprint: "C8FFDCEEEEFACB320FB87B6587A7F75A6A8BA5FC" },
  ],
  zookeeper: [
    { owner: "Andor Molnar", fingerprint: "3F7A1D16FA4217B1DC75E1C9FFE35B7F15DFA1BA" },
    { owner: "Damien Diederen", fingerprint: "AF3D175EC05DB249738D01AC8D8C3C3ED0B02E66" },
  ],
};

/** A fingerprint as gpg prints it: spaces removed, upper case; undefined when it is not 40 hex digits. */
export function normalizeFingerprint(text: string): string | undefined {
  const compact = text.replace(/\s+/g, "").toUpperCase();
  return /^[0-9A-F]{40}$/.test(compact) ? compact : undefined;
}
