// The machine images each supported OS comes from, and the user its images log in as. Pure.
import { Architecture } from "./instanceTypes";

/** The operating systems the hosts can run. */
export type OperatingSystem = "debian-12" | "ubuntu-24.04";

export interface ImageChoice {
  /** AWS account that publishes the official images. */
  readonly owner: string;
  readonly namePattern: string;
  readonly sshUser: string;
}

/** Every image below is amd64, so the hosts must be x86_64 instance types (settings refuse Graviton). */
export const IMAGE_ARCHITECTURE: Architecture = "x86_64";

export const IMAGES: Readonly<Record<OperatingSystem, ImageChoice>> = {
  // Debian's own AWS account (https://wiki.debian.org/Cloud/AmazonEC2Image).
  "debian-12": { owner: "136693071363", namePattern: "debian-12-amd64-*", sshUser: "admin" },
  // Canonical's AWS account.
  "ubuntu-24.04": {
    owner: "099720109477",
    namePattern: "ubuntu/images/hvm-ssd-gp3/ubuntu-noble-24.04-amd64-server-*",
    sshUser: "ubuntu",
  },
};
