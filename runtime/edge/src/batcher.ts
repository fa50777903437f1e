// In-isolate batching for side effects that need not be written one by one (audit objects, hourly
// totals, device histories). Each request adds its items and hands the returned promise to
// waitUntil: the promise waits `delayMs`, then writes everything collected so far in one call, so
// concurrent requests share a write. Every flush runs in the context of the request that scheduled
// it; only plain data crosses between requests. A flush that finds nothing left (an earlier one
// took it) does nothing.
import { log } from "./log";

export class Batcher<T> {
  private items: T[] = [];

  constructor(
    private readonly name: string,
    private readonly maxItems: number,
  ) {}

  /** Adds one request's items (one timer and one waitUntil per request, however many items). */
  add(items: readonly T[], delayMs: number, write: (items: T[]) => Promise<unknown>): Promise<void> {
    this.items.push(...items);
    if (this.items.length >= this.maxItems) return this.flush(write);
    return new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => this.flush(write));
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
