// Restart delays after a server crash: 1 s, 2 s, 4 s … at most 30 s; a server that stayed up for
// 60 s before it crashed starts the series again. No `vscode` import.

export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** A server that ran at least this long before crashing resets the delay. */
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 60_000 };

export class Backoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {}

  /** The delay before the next restart, given how long the crashed server had been up. */
  next(uptimeMs: number): number {
    if (uptimeMs >= this.options.resetAfterMs) {
      this.attempts = 0;
    }
    const delay = Math.min(this.options.maxMs, this.options.initialMs * 2 ** Math.min(this.attempts, 30));
    this.attempts += 1;
    return delay;
  }

  /** Restarts so far in this series (0 after a reset). */
  get count(): number {
    return this.attempts;
  }

  reset(): void {
    this.attempts = 0;
  }
}
