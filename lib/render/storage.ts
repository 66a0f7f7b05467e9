// shared-kahadb: the systemd mount unit for the shared file system. Pure.
import { SHARED_STORE } from "../layout";

/**
 * The NFS options AWS recommends for EFS. `hard` makes I/O wait out a network interruption instead of failing
 * into a corrupt journal; `noresvport` lets the client reconnect on a new source port after one.
 */
export const EFS_MOUNT_OPTIONS = [
  "nfsvers=4.1",
  "rsize=1048576",
  "wsize=1048576",
  "hard",
  "timeo=600",
  "retrans=2",
  "noresvport",
  "_netdev",
] as const;

export function renderSharedMountUnit(server: string): string {
  return (
    "# Rendered by the activemq-ha Pulumi program; pulumi up overwrites manual changes.\n" +
    [
      "[Unit]",
      "Description=Shared ActiveMQ store (NFS 4.1)",
      "Wants=network-online.target",
      "After=network-online.target",
      "",
      "[Mount]",
      `What=${server}:/`,
      `Where=${SHARED_STORE.mountPoint}`,
      "Type=nfs4",
      `Options=${EFS_MOUNT_OPTIONS.join(",")}`,
      "TimeoutSec=120",
      "",
      "[Install]",
      "WantedBy=remote-fs.target",
    ].join("\n") +
    "\n"
  );
}
