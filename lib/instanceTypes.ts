// The EC2 instance types this program knows: memory and architecture, so that settings can refuse a host the
// x86_64 image cannot boot on, or one too small for the JVMs it runs, before anything is created. Pure.
// Memory is AWS's published figure in GiB (https://aws.amazon.com/ec2/instance-types/). A type missing here is
// refused rather than guessed at: add its family (every size) to INSTANCE_FAMILIES.

export type Architecture = "x86_64" | "arm64";

export type InstanceFamily =
  | { readonly architecture: "x86_64"; readonly memoryGiB: Readonly<Record<string, number>> }
  /** Listed so the error names the reason; their memory does not matter, they are refused. */
  | { readonly architecture: "arm64" };

const x86 = (memoryGiB: Record<string, number>): InstanceFamily => ({ architecture: "x86_64", memoryGiB });
const arm: InstanceFamily = { architecture: "arm64" };

/** vCPUs of a size: medium 1, large 2, xlarge 4, Nxlarge 4N (m, c and r families). */
function vcpus(size: string): number {
  const named: Record<string, number> = { medium: 1, large: 2, xlarge: 4 };
  const times = /^(\d+)xlarge$/.exec(size)?.[1];
  const n = named[size] ?? (times !== undefined ? 4 * Number(times) : undefined);
  if (n === undefined) {
    throw new Error(`no vCPU count for size ${size}`);
  }
  return n;
}

/**
 * A family whose memory is `gibPerVcpu` a vCPU, in the given sizes (space-separated); each metal size has the
 * memory of the size named beside it.
 */
const scaled = (gibPerVcpu: number, sizes: string, metal: Record<string, string> = {}): InstanceFamily =>
  x86(
    Object.fromEntries([
      ...sizes.split(" ").map((size) => [size, gibPerVcpu * vcpus(size)] as const),
      ...Object.entries(metal).map(([size, twin]) => [size, gibPerVcpu * vcpus(twin)] as const),
    ]),
  );

/** Burstable sizes: t3 and t3a have the same memory. */
const T3 = { nano: 0.5, micro: 1, small: 2, medium: 4, large: 8, xlarge: 16, "2xlarge": 32 };

export const INSTANCE_FAMILIES: Readonly<Record<string, InstanceFamily>> = {
  // Burstable (Intel, AMD).
  t3: x86(T3),
  t3a: x86(T3),
  // General purpose: 4 GiB a vCPU.
  m5: scaled(4, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge", { metal: "24xlarge" }),
  m5a: scaled(4, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge"),
  m6i: scaled(4, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge", {
    metal: "32xlarge",
  }),
  m6a: scaled(4, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge", {
    metal: "48xlarge",
  }),
  m7i: scaled(4, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge", {
    "metal-24xl": "24xlarge",
    "metal-48xl": "48xlarge",
  }),
  m7a: scaled(4, "medium large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge", {
    "metal-48xl": "48xlarge",
  }),
  // Compute optimised: 2 GiB a vCPU.
  c5: scaled(2, "large xlarge 2xlarge 4xlarge 9xlarge 12xlarge 18xlarge 24xlarge", { metal: "24xlarge" }),
  c6i: scaled(2, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge", {
    metal: "32xlarge",
  }),
  c6a: scaled(2, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge", {
    metal: "48xlarge",
  }),
  c7i: scaled(2, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge", {
    "metal-24xl": "24xlarge",
    "metal-48xl": "48xlarge",
  }),
  // Memory optimised: 8 GiB a vCPU.
  r5: scaled(8, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge", { metal: "24xlarge" }),
  r6i: scaled(8, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge", {
    metal: "32xlarge",
  }),
  r6a: scaled(8, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 32xlarge 48xlarge", {
    metal: "48xlarge",
  }),
  r7i: scaled(8, "large xlarge 2xlarge 4xlarge 8xlarge 12xlarge 16xlarge 24xlarge 48xlarge", {
    "metal-24xl": "24xlarge",
    "metal-48xl": "48xlarge",
  }),
  // Graviton (ARM): the host images are amd64 (lib/images.ts), so these cannot boot them.
  a1: arm,
  t4g: arm,
  m6g: arm,
  m6gd: arm,
  m7g: arm,
  m7gd: arm,
  m8g: arm,
  c6g: arm,
  c6gd: arm,
  c6gn: arm,
  c7g: arm,
  c7gd: arm,
  c7gn: arm,
  c8g: arm,
  r6g: arm,
  r6gd: arm,
  r7g: arm,
  r7gd: arm,
  r8g: arm,
  x2gd: arm,
};

/**
 * AWS's naming rule for Graviton: a `g` after the generation digit (t4g, m7gd, c7gn, r8g, im4gn, is4gen), plus the
 * first-generation a1. It catches Graviton families newer than the table too.
 */
export function isGravitonFamily(family: string): boolean {
  return family === "a1" || /^[a-z]+\d+[a-z]*g/.test(family);
}

export type InstanceTypeFacts =
  | { readonly kind: "x86_64"; readonly family: string; readonly memoryGiB: number }
  | { readonly kind: "arm64"; readonly family: string }
  | { readonly kind: "unknown-family"; readonly family: string }
  | { readonly kind: "unknown-size"; readonly family: string; readonly sizes: readonly string[] };

/** What the table (or the Graviton naming rule) says about an instance type such as "t3.medium". */
export function lookupInstanceType(instanceType: string): InstanceTypeFacts {
  const [family = "", size = ""] = instanceType.split(".");
  const known = Object.prototype.hasOwnProperty.call(INSTANCE_FAMILIES, family)
    ? INSTANCE_FAMILIES[family]
    : undefined;
  if (known?.architecture === "arm64" || (known === undefined && isGravitonFamily(family))) {
    return { kind: "arm64", family };
  }
  if (known === undefined) {
    return { kind: "unknown-family", family };
  }
  const memoryGiB = Object.prototype.hasOwnProperty.call(known.memoryGiB, size)
    ? known.memoryGiB[size]
    : undefined;
  return memoryGiB === undefined
    ? { kind: "unknown-size", family, sizes: Object.keys(known.memoryGiB) }
    : { kind: "x86_64", family, memoryGiB };
}

/** The x86_64 families of the table, in its order. */
export function knownX86Families(): string[] {
  return Object.entries(INSTANCE_FAMILIES)
    .filter(([, f]) => f.architecture === "x86_64")
    .map(([name]) => name);
}

/** Each host runs two JVMs (the broker, and ZooKeeper where deployed) beside the OS, so it needs at least this. */
export const MIN_HOST_MEMORY_GIB = 4;

/**
 * What a host needs beyond the heaps, in MiB. Fixed: 768 MiB, for the OS (kernel, systemd, journald, sshd and
 * cloud-init take a few hundred MiB of what AWS lists as the instance's memory) and each JVM's fixed native memory
 * (class metadata, JIT code cache, thread stacks: a few hundred MiB for the broker, less for ZooKeeper).
 * Proportional: 25% of the heaps, for what grows with them: the garbage collector's own structures, direct (NIO)
 * buffers of the transports and stores, and native memory the stores' libraries allocate. Without this headroom
 * the kernel's OOM killer, not the JVM, ends a broker whose heap settings looked as if they fitted.
 */
export const HOST_RESERVE = { fixedMiB: 768, heapShare: 0.25 } as const;

/** MiB a host needs for the given JVM heaps (MiB): the heaps plus HOST_RESERVE. */
export function memoryNeededMiB(heapsMiB: readonly number[]): number {
  const heaps = heapsMiB.reduce((sum, h) => sum + h, 0);
  return heaps + Math.ceil(heaps * HOST_RESERVE.heapShare) + HOST_RESERVE.fixedMiB;
}

/** The largest total of heaps (MiB) that fits `memoryMiB` with HOST_RESERVE. */
export function largestHeapsMiB(memoryMiB: number): number {
  return Math.floor((memoryMiB - HOST_RESERVE.fixedMiB) / (1 + HOST_RESERVE.heapShare));
}
