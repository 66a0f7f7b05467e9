/**
 * Figures of a failover run, computed from what the failover probe recorded.
 *
 * - `acked`: every acknowledged send, `{ seq, at }` with `at` the epoch ms at which the
 *   broker's acknowledgement returned (the probe's STATEFILE lines, `seq epochMillis`).
 * - `received`: the seq of every message the drain consumed, duplicates included.
 * - `kills`: the epoch ms of each master power-off.
 *
 * For each kill, `lastAckBefore` is the latest acknowledgement at or before the kill and
 * `firstAckAfter` the earliest one after it; `failoverMs` is their difference, the time the
 * producer saw no acknowledgement across the failover (null when either side is missing).
 * `lost` lists acknowledged seqs that were never received, `duplicated` the seqs received
 * more than once; both ascending and without repeats.
 */

export interface Ack {
  seq: number;
  at: number;
}

export interface FailoverRound {
  killAt: number;
  lastAckBefore: number | null;
  firstAckAfter: number | null;
  failoverMs: number | null;
}

export interface FailoverFigures {
  rounds: FailoverRound[];
  /** number of distinct acknowledged seqs */
  acknowledged: number;
  /** number of received messages, duplicates included */
  received: number;
  lost: number[];
  duplicated: number[];
}

export function analyze(
  acked: ReadonlyArray<Ack>,
  received: readonly number[],
  kills: readonly number[],
): FailoverFigures {
  const rounds: FailoverRound[] = kills.map((killAt) => {
    let lastAckBefore: number | null = null;
    let firstAckAfter: number | null = null;
    for (const { at } of acked) {
      if (at <= killAt) {
        if (lastAckBefore === null || at > lastAckBefore) {
          lastAckBefore = at;
        }
      } else if (firstAckAfter === null || at < firstAckAfter) {
        firstAckAfter = at;
      }
    }
    const failoverMs =
      lastAckBefore !== null && firstAckAfter !== null ? firstAckAfter - lastAckBefore : null;
    return { killAt, lastAckBefore, firstAckAfter, failoverMs };
  });

  const receivedCount = new Map<number, number>();
  for (const seq of received) {
    receivedCount.set(seq, (receivedCount.get(seq) ?? 0) + 1);
  }

  const ackedSeqs = new Set<number>(acked.map((a) => a.seq));
  const lost = [...ackedSeqs].filter((seq) => !receivedCount.has(seq)).sort((a, b) => a - b);
  const duplicated = [...receivedCount.entries()]
    .filter(([, count]) => count > 1)
    .map(([seq]) => seq)
    .sort((a, b) => a - b);

  return {
    rounds,
    acknowledged: ackedSeqs.size,
    received: received.length,
    lost,
    duplicated,
  };
}
