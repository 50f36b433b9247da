/** The same key by RTP event and by INFO within this long is one press sent both ways. */
const DUPLICATE_KEY_MS = 300;

/**
 * The keys a caller presses, for menus: pressed ahead of a question they wait in order (and cut a
 * prompt short), asked for they resolve the wait. They arrive as RFC 4733 events rtpengine saw in
 * the RTP or as SIP INFO; a gateway that sends one press both ways is counted once.
 */
export class CallerKeys {
  private readonly typedAhead: string[] = [];
  private waiter: ((digit: string) => void) | undefined;
  private onTypeAhead: (() => void) | undefined;
  private last: { digit: string; via: 'rtp' | 'info'; at: number } | undefined;

  constructor(private readonly now: () => number = Date.now) {}

  pressed(digit: string, via: 'rtp' | 'info'): void {
    const at = this.now();
    const last = this.last;
    this.last = { digit, via, at };
    if (last && last.via !== via && last.digit === digit && at - last.at < DUPLICATE_KEY_MS) return;
    if (this.waiter) return this.waiter(digit);
    this.typedAhead.push(digit);
    this.onTypeAhead?.();
  }

  /** Whether a key waits to be read. */
  get waiting(): boolean {
    return this.typedAhead.length > 0;
  }

  /** The next key: one typed ahead, else the next pressed within `timeoutMs`; null on timeout or when `ended` settles. */
  next(timeoutMs: number, ended: Promise<void>): Promise<string | null> {
    const ahead = this.typedAhead.shift();
    if (ahead !== undefined) return Promise.resolve(ahead);
    return new Promise((resolve) => {
      const finish = (digit: string | null) => {
        clearTimeout(timer);
        this.waiter = undefined;
        resolve(digit);
      };
      this.waiter = (digit) => finish(digit);
      const timer = setTimeout(() => finish(null), timeoutMs);
      void ended.then(() => {
        if (this.waiter) finish(null);
      });
    });
  }

  /** Resolves after `ms`, or at once when a key is pressed (a prompt's barge-in), or when `ended` settles. */
  async untilKeyOr(ms: number, ended: Promise<void>): Promise<void> {
    if (this.waiting) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms);
        this.onTypeAhead = resolve;
      }),
      ended,
    ]);
    clearTimeout(timer);
    this.onTypeAhead = undefined;
  }
}
