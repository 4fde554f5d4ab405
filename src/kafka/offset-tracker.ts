/**
 * Which records of each partition are still being processed. Kafka commits a single
 * offset per partition ("everything before this is done"), so a partition may only be
 * committed up to its first unsettled record, however many later ones are settled.
 */
export interface CommitPoint {
  topic: string;
  partition: number;
  /** The next offset to read: one past the last record of the contiguous settled run. */
  offset: string;
}

class PartitionTrack {
  constructor(
    readonly topic: string,
    readonly partition: number,
  ) {}

  /** Offsets emitted and not yet settled. */
  readonly unsettled = new Set<bigint>();
  /**
   * The emitted offsets in offset order, from the lowest that may still be unsettled:
   * finding the lowest unsettled offset walks past settled ones once (a Set's first
   * element is no help: V8 steps over every deleted entry to reach it).
   */
  private emitted: bigint[] = [];
  private head = 0;
  /** Offsets settled but not yet covered by a commit: after a crash they would be read again too. */
  settledUncommitted: bigint[] = [];
  /** Next offset to commit; undefined until something can be committed. */
  committable: bigint | undefined;
  committed: bigint | undefined;
  /** One past the highest offset emitted so far. */
  end: bigint | undefined;
  /** The first offset emitted: a commit point at or below it would say nothing new. */
  start: bigint | undefined;
  /** Held at a record that cannot be settled (it stays unsettled): no longer counted, never committed past it. */
  stopped = false;

  add(offset: bigint): void {
    this.unsettled.add(offset);
    if (this.start === undefined) this.start = offset;
    if (this.end === undefined || offset >= this.end) {
      this.end = offset + 1n;
      this.emitted.push(offset);
      return;
    }
    // read again below what was emitted (a batch left early is fetched again): kept in order
    let at = this.emitted.length;
    while (at > this.head && this.emitted[at - 1] > offset) at--;
    this.emitted.splice(at, 0, offset);
  }

  lowestUnsettled(): bigint | undefined {
    while (this.head < this.emitted.length && !this.unsettled.has(this.emitted[this.head])) this.head++;
    if (this.head >= COMPACT_AFTER && this.head * 2 >= this.emitted.length) {
      this.emitted = this.emitted.slice(this.head);
      this.head = 0;
    }
    return this.head < this.emitted.length ? this.emitted[this.head] : undefined;
  }
}

/** Settled offsets left at the front of PartitionTrack.emitted before the array is compacted. */
const COMPACT_AFTER = 1024;

export class OffsetTracker {
  /** Topic, then partition: no key string is built per record. */
  private readonly topics = new Map<string, Map<number, PartitionTrack>>();
  private unsettledTotal = 0;
  private settledUncommittedTotal = 0;

  get unsettled(): number {
    return this.unsettledTotal;
  }

  /**
   * Records emitted and not yet committed, settled or not: what a crash now would
   * make the consumer read again, so at most this many duplicates.
   */
  get uncommitted(): number {
    return this.unsettledTotal + this.settledUncommittedTotal;
  }

  /** Settled records waiting for a commit. */
  get settledUncommitted(): number {
    return this.settledUncommittedTotal;
  }

  /** Returns false when the record is already being processed (fetched again), or its partition is stopped. */
  track(topic: string, partition: number, offset: string): boolean {
    const track = this.partition(topic, partition);
    const value = BigInt(offset);
    if (track.stopped || track.unsettled.has(value)) return false;
    track.add(value);
    this.unsettledTotal++;
    return true;
  }

  /** Emitted and not yet settled, on a partition that is not stopped. */
  isUnsettled(topic: string, partition: number, offset: string): boolean {
    const track = this.topics.get(topic)?.get(partition);
    return track !== undefined && !track.stopped && track.unsettled.has(BigInt(offset));
  }

  /**
   * Returns false when the record was not tracked (already settled, or from an older
   * assignment). On a stopped partition, a record below the one it is held at still moves
   * the commit point up to that one.
   */
  settle(topic: string, partition: number, offset: string): boolean {
    const track = this.topics.get(topic)?.get(partition);
    const value = BigInt(offset);
    if (!track || !track.unsettled.delete(value)) return false;
    if (!track.stopped) {
      this.unsettledTotal--;
      track.settledUncommitted.push(value);
      this.settledUncommittedTotal++;
    }
    const point = track.lowestUnsettled() ?? track.end;
    if (point !== undefined && track.start !== undefined && point > track.start) track.committable = point;
    return true;
  }

  /** Commit points that moved since the last call to markCommitted. */
  pendingCommits(): CommitPoint[] {
    const points: CommitPoint[] = [];
    for (const track of this.tracks()) {
      if (track.committable !== undefined && track.committable !== track.committed) {
        points.push({ topic: track.topic, partition: track.partition, offset: track.committable.toString() });
      }
    }
    return points;
  }

  markCommitted(points: CommitPoint[]): void {
    for (const point of points) {
      const track = this.topics.get(point.topic)?.get(point.partition);
      if (!track) continue;
      const committed = BigInt(point.offset);
      track.committed = committed;
      const still = track.settledUncommitted.filter((offset) => offset >= committed);
      this.settledUncommittedTotal -= track.settledUncommitted.length - still.length;
      track.settledUncommitted = still;
    }
  }

  /** Where each partition would be read again from, as nothing uncommitted had been read: its last commit, else its first record read. */
  rewindPoints(): CommitPoint[] {
    const points: CommitPoint[] = [];
    for (const track of this.tracks()) {
      const offset = track.committed ?? track.start;
      if (offset !== undefined) points.push({ topic: track.topic, partition: track.partition, offset: offset.toString() });
    }
    return points;
  }

  /**
   * Holds a partition at a record that cannot be settled, and is left unsettled: nothing
   * of the partition is committed past it, and its records no longer count as in flight,
   * so that the other partitions go on reading.
   */
  stop(topic: string, partition: number): void {
    const track = this.topics.get(topic)?.get(partition);
    if (!track || track.stopped) return;
    this.uncount(track);
    track.stopped = true;
    track.settledUncommitted = [];
  }

  isStopped(topic: string, partition: number): boolean {
    return this.topics.get(topic)?.get(partition)?.stopped ?? false;
  }

  /** Forgets partitions this consumer no longer owns (after a rebalance). */
  forget(keep: (topic: string, partition: number) => boolean): void {
    for (const track of this.tracks()) {
      if (keep(track.topic, track.partition)) continue;
      if (!track.stopped) this.uncount(track);
      this.topics.get(track.topic)?.delete(track.partition);
    }
  }

  private uncount(track: PartitionTrack): void {
    this.unsettledTotal -= track.unsettled.size;
    this.settledUncommittedTotal -= track.settledUncommitted.length;
  }

  private *tracks(): Generator<PartitionTrack> {
    for (const partitions of this.topics.values()) yield* partitions.values();
  }

  private partition(topic: string, partition: number): PartitionTrack {
    let partitions = this.topics.get(topic);
    if (!partitions) {
      partitions = new Map();
      this.topics.set(topic, partitions);
    }
    let track = partitions.get(partition);
    if (!track) {
      track = new PartitionTrack(topic, partition);
      partitions.set(partition, track);
    }
    return track;
  }
}
