/**
 * A token bucket counting messages per connection: `rate` tokens a second, holding at most one
 * second's worth. Time comes from the caller, so tests need no clock.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    private readonly rate: number,
    now: number,
  ) {
    this.tokens = rate;
    this.last = now;
  }

  /**
   * Take `n` tokens if there are enough; otherwise take none and return false. A batch larger than
   * the bucket passes when the bucket is full and leaves it in debt, so the long-run rate holds.
   */
  take(n: number, now: number): boolean {
    this.refill(now);
    if (this.tokens >= Math.min(n, this.rate)) {
      this.tokens -= n;
      return true;
    }
    return false;
  }

  /** Give back tokens taken for a batch that another limit then refused. */
  refund(n: number): void {
    this.tokens = Math.min(this.rate, this.tokens + n);
  }

  /** ms until `n` tokens are available (a request larger than the bucket waits for a full bucket). */
  waitMs(n: number, now: number): number {
    this.refill(now);
    const need = Math.min(n, this.rate) - this.tokens;
    return need <= 0 ? 0 : Math.ceil((need / this.rate) * 1000);
  }

  private refill(now: number): void {
    const dt = now - this.last;
    if (dt > 0) {
      this.tokens = Math.min(this.rate, this.tokens + (dt * this.rate) / 1000);
      this.last = now;
    }
  }
}
