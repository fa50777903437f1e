// In-isolate batching for side effects that need not be written one by one (audit objects, hourly
// totals). Requests add their items; the first request that finds no flush armed arms one (a timer
// of `delayMs` handed to its own waitUntil), and that flush writes everything collected by then in
// one call. So a window costs one timer and one write however many requests it holds, and no other
// request is kept alive waiting for it. The flush runs in the context of the request that armed it,
// with that request's binding; only plain data crosses between requests.
import { log } from "./log";

/** A flush this far past due never ran (the request that armed it ended first): arm another. */
const OVERDUE_MS = 5_000;

export class Batcher<T> {
  private items: T[] = [];
  /** When the armed flush is due (Unix ms); null when none is armed. */
  private dueAt: number | null = null;

  constructor(
    private readonly name: string,
    private readonly maxItems: number,
  ) {}

  add(items: readonly T[], delayMs: number, write: (items: T[]) => Promise<unknown>, waitUntil: (p: Promise<unknown>) => void): void {
    this.items.push(...items);
    if (this.items.length >= this.maxItems) {
      waitUntil(this.flush(write));
      return;
    }
    const now = Date.now();
    if (this.dueAt !== null && now < this.dueAt + OVERDUE_MS) return;
    this.dueAt = now + delayMs;
    waitUntil(
      new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => {
        this.dueAt = null;
        return this.flush(write);
      }),
    );
  }

  private async flush(write: (items: T[]) => Promise<unknown>): Promise<void> {
    if (this.items.length === 0) return;
    const items = this.items;
    this.items = [];
    try {
      await write(items);
    } catch (err) {
      log("error", `${this.name} batch write failed`, { items: items.length, error: String(err) });
    }
  }
}
