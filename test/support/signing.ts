// Release signing for tests: keys made on the spot, which the settings then pin (zookeeperSigningKeys,
// activemqSigningKeys) as the real stack pins Apache's release managers; a second key plays a mirror that
// re-signs a tampered release with a key of its own.
import { execFileSync } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";

export class ReleaseSigner {
  private constructor(
    private readonly home: string,
    /** Primary key fingerprint, as gpg's VALIDSIG prints it. */
    readonly fingerprint: string,
  ) {}

  /** A new ED25519 signing key in its own GnuPG home. */
  static create(home: string, owner: string): ReleaseSigner {
    rmSync(home, { recursive: true, force: true });
    mkdirSync(home, { recursive: true, mode: 0o700 });
    const gpg = (...args: string[]) =>
      execFileSync("gpg", ["--homedir", home, "--batch", ...args], { encoding: "utf8" });
    gpg(
      "--passphrase",
      "",
      "--quick-generate-key",
      `${owner} <release@e2e.invalid>`,
      "ed25519",
      "sign",
      "never",
    );
    const fingerprint = gpg("--with-colons", "--list-keys")
      .split("\n")
      .find((l) => l.startsWith("fpr:"))
      ?.split(":")[9];
    if (!fingerprint) {
      throw new Error(`no key made in ${home}`);
    }
    return new ReleaseSigner(home, fingerprint);
  }

  /** Writes FILE.asc, an armored detached signature. */
  sign(file: string): void {
    execFileSync("gpg", [
      "--homedir",
      this.home,
      "--batch",
      "--yes",
      "--armor",
      "--detach-sign",
      "-u",
      this.fingerprint,
      "-o",
      `${file}.asc`,
      file,
    ]);
  }

  /** The public key, armored, as a KEYS file holds it. */
  publicKey(): string {
    return execFileSync("gpg", ["--homedir", this.home, "--batch", "--armor", "--export", this.fingerprint], {
      encoding: "utf8",
    });
  }

  /** Stops the agent gpg started for this home. */
  close(): void {
    execFileSync("gpgconf", ["--homedir", this.home, "--kill", "gpg-agent"]);
  }
}
