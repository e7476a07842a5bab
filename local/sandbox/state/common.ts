/** Types every part of the sandbox state uses. */

/** Tags as a plain map, key to value. */
export type TagMap = Record<string, string>;

/** How long simulated asynchronous work takes, in sandbox milliseconds. */
export interface Timings {
  /** A snapshot stays `pending` this long, then is `completed`. Default 60 000. */
  snapshotMs: number;
  /** A restore job stays `PENDING` this long. Default 10 000. */
  restorePendingMs: number;
  /** A restore job then stays `RUNNING` this long before `COMPLETED` (or `FAILED`). Default 120 000. */
  restoreRunningMs: number;
  /** An instance stays `pending`, `stopping` or `shutting-down` this long. Default 0 (next call sees the end state). */
  instanceTransitionMs: number;
  /** A deregistered target stays `draining` this long. Default 300 000 (ELBv2's default deregistration delay). */
  deregistrationDelayMs: number;
}
