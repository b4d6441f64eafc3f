/**
 * A count of bytes held by requests in flight, under a limit: request bodies buffered in memory,
 * or the store space reserved by puts still receiving their bodies. A request holds its share in
 * a Hold, which grows before the bytes are held and is given back once, at the latest when its
 * response closes (answered, or the socket died).
 */
import type http from 'node:http';

export class Budget {
  used = 0;
  constructor(readonly limit: number) {}

  /** A new, empty hold, released when `res` closes. */
  hold(res?: http.ServerResponse): Hold {
    const h = new Hold(this);
    res?.once('close', () => h.release());
    return h;
  }
}

export class Hold {
  private bytes = 0;
  constructor(private readonly budget: Budget) {}

  /**
   * Holds `n` more bytes if they fit; `alone`: also when nothing else is held, so that one
   * request larger than the limit can still run by itself. False (nothing held) when refused.
   */
  grow(n: number, alone = false): boolean {
    const b = this.budget;
    if (b.used + n > b.limit && !(alone && b.used === 0)) return false;
    b.used += n;
    this.bytes += n;
    return true;
  }

  release(): void {
    this.budget.used -= this.bytes;
    this.bytes = 0;
  }
}
