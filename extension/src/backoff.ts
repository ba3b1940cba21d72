/**
 * When to restart a crashed server. Pure, so the schedule is unit-tested.
 */

/** The restart schedule. */
export interface BackoffOptions {
  /** Delay before the first restart. */
  initialMs: number;
  /** Each further restart waits this many times longer... */
  factor: number;
  /** ...up to this. */
  maxMs: number;
  /** Crashes in a row (without a stable run between) before giving up. */
  maxAttempts: number;
  /** A server that ran this long before crashing starts the schedule over. */
  stableMs: number;
}

/** 1 s, 2 s, 4 s, 8 s, 16 s, then give up; a run of a minute resets it. */
export const DEFAULT_BACKOFF: BackoffOptions = {
  initialMs: 1000,
  factor: 2,
  maxMs: 30_000,
  maxAttempts: 5,
  stableMs: 60_000,
};

/** The delay before restart number `attempt` (0-based). */
export function backoffDelay(attempt: number, options: BackoffOptions = DEFAULT_BACKOFF): number {
  const delay = options.initialMs * Math.pow(options.factor, Math.max(0, attempt));
  return Math.min(delay, options.maxMs);
}

/** Counts crashes and says how long to wait before the next restart, or to stop trying. */
export class RestartPolicy {
  private attempts = 0;
  private startedAt: number | undefined;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The server is up (at time `now`, in ms). */
  started(now: number): void {
    this.startedAt = now;
  }

  /**
   * The server died at `now`: the delay before restarting it, or undefined to give up.
   * A server that had been up for `stableMs` counts as a fresh start.
   */
  failed(now: number): number | undefined {
    if (this.startedAt !== undefined && now - this.startedAt >= this.options.stableMs) {
      this.attempts = 0;
    }
    this.startedAt = undefined;
    if (this.attempts >= this.options.maxAttempts) {
      return undefined;
    }
    const delay = backoffDelay(this.attempts, this.options);
    this.attempts += 1;
    return delay;
  }

  /** A deliberate (re)start by the user: forget earlier crashes. */
  reset(): void {
    this.attempts = 0;
    this.startedAt = undefined;
  }
}
