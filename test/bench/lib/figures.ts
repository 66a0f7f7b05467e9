// The benchmark's arithmetic and its table: pure, so test/unit/bench-figures.test.ts checks it without a box.
import { Ack } from "../../e2e/lib/failover-figures";

/** The q-quantile (0 ≤ q ≤ 1) of ascending `sorted` by the nearest-rank method; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) {
    return NaN;
  }
  const rank = Math.max(1, Math.ceil(q * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1] as number;
}

/** Throughput and send latency of one synchronous producer with no fault in its run. */
export interface SteadySend {
  readonly messages: number;
  readonly perSecond: number;
  /** Median and 99th percentile of the time between consecutive acknowledgements, ms. */
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/**
 * One producer sends synchronously, so the time from one acknowledgement to the next is one send's round trip (the
 * probe's own bookkeeping included): its distribution is the send latency's.
 */
export function steadySend(acked: readonly Ack[]): SteadySend {
  const at = acked.map((a) => a.at);
  const gaps = at
    .slice(1)
    .map((t, i) => t - (at[i] as number))
    .sort((a, b) => a - b);
  const span = at.length > 1 ? ((at[at.length - 1] as number) - (at[0] as number)) / 1000 : 0;
  return {
    messages: acked.length,
    perSecond: span > 0 ? (acked.length - 1) / span : 0,
    p50Ms: quantile(gaps, 0.5),
    p99Ms: quantile(gaps, 0.99),
  };
}

/** What the benchmark measured of one HA mode. */
export interface ModeFigures {
  readonly mode: "replicated-leveldb" | "shared-kahadb";
  readonly activemqVersion: string;
  /** Wall time of the first `pulumi up` of bare hosts, every host at once (the critical path). */
  readonly firstDeploySeconds: number;
  /** Wall time of one host's own steps with nothing else to do: a replaced host rebuilt while the others serve. */
  readonly oneHostSeconds: number;
  readonly cluster: SteadySend;
  /** A single broker of the same version on one host's local disk, KahaDB, nothing replicated. */
  readonly singleKahaDb: SteadySend;
  /** The producer's pause per master power-off, ms (null: no acknowledgement on one side of the fault). */
  readonly failoverMs: readonly (number | null)[];
  readonly acknowledged: number;
  readonly lost: number;
  readonly duplicated: number;
}

export interface Pauses {
  readonly count: number;
  readonly medianSeconds: number;
  readonly worstSeconds: number;
}

/**
 * The pauses that were measured: a round without an acknowledgement on both sides of its fault (null) is no
 * figure, so it is left out and the count shows it.
 */
export function pauses(failoverMs: readonly (number | null)[]): Pauses {
  const sorted = failoverMs
    .filter((ms): ms is number => ms !== null)
    .map((ms) => ms / 1000)
    .sort((a, b) => a - b);
  return {
    count: sorted.length,
    medianSeconds: quantile(sorted, 0.5),
    worstSeconds: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : NaN,
  };
}

const fixed = (n: number, digits: number) => (Number.isFinite(n) ? n.toFixed(digits) : "-");
const send = (s: SteadySend) => `${fixed(s.perSecond, 0)} (${fixed(s.p50Ms, 0)}/${fixed(s.p99Ms, 0)})`;

/** The benchmark's table, one row per mode, as Markdown (what the README quotes). */
export function renderTable(rows: readonly ModeFigures[]): string {
  const header = [
    "Mode",
    "ActiveMQ",
    "Failover median / worst, s",
    "Power-offs",
    "Acked / lost / duplicated",
    "Throughput msg/s (p50/p99 ms)",
    "Single KahaDB broker msg/s (p50/p99 ms)",
    "Throughput ÷ single",
    "First deploy, s",
    "One host's steps, s",
    "First deploy ÷ one host",
  ];
  const lines = rows.map((r) => {
    const p = pauses(r.failoverMs);
    return [
      r.mode,
      r.activemqVersion,
      `${fixed(p.medianSeconds, 2)} / ${fixed(p.worstSeconds, 2)}`,
      String(p.count),
      `${r.acknowledged} / ${r.lost} / ${r.duplicated}`,
      send(r.cluster),
      send(r.singleKahaDb),
      fixed(r.cluster.perSecond / r.singleKahaDb.perSecond, 2),
      fixed(r.firstDeploySeconds, 1),
      fixed(r.oneHostSeconds, 1),
      fixed(r.firstDeploySeconds / r.oneHostSeconds, 2),
    ];
  });
  return [header, header.map(() => "---"), ...lines].map((cells) => `| ${cells.join(" | ")} |`).join("\n");
}

/** Issue 13's goals, each with the measured figure and whether it holds. */
export interface Goal {
  readonly goal: string;
  readonly measured: string;
  readonly met: boolean;
}

export function goals(rows: readonly ModeFigures[]): Goal[] {
  const out: Goal[] = [];
  for (const r of rows) {
    const p = pauses(r.failoverMs);
    const [median, worst] = r.mode === "replicated-leveldb" ? [3.5, 6] : [3, 4];
    out.push({
      goal: `${r.mode} failover: median ≤ ${median} s and worst ≤ ${worst} s over 20 power-offs`,
      measured: `median ${fixed(p.medianSeconds, 2)} s, worst ${fixed(p.worstSeconds, 2)} s over ${p.count}`,
      met: p.count >= 20 && p.medianSeconds <= median && p.worstSeconds <= worst,
    });
    if (r.mode === "replicated-leveldb") {
      const ratio = r.cluster.perSecond / r.singleKahaDb.perSecond;
      out.push({
        goal: "replicated-leveldb throughput ≥ 0.5× a single KahaDB broker",
        measured: `${fixed(ratio, 2)}× (${fixed(r.cluster.perSecond, 0)} against ${fixed(r.singleKahaDb.perSecond, 0)} msg/s)`,
        met: ratio >= 0.5,
      });
    }
    const deploy = r.firstDeploySeconds / r.oneHostSeconds;
    out.push({
      goal: `${r.mode} first deploy ≤ 1.5× one host's own steps`,
      measured: `${fixed(deploy, 2)}× (${fixed(r.firstDeploySeconds, 1)} s against ${fixed(r.oneHostSeconds, 1)} s)`,
      met: deploy <= 1.5,
    });
  }
  return out;
}

export function renderGoals(list: readonly Goal[]): string {
  return list.map((g) => `${g.met ? "met    " : "NOT met"}  ${g.goal}: ${g.measured}`).join("\n");
}
