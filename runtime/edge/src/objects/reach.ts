// The one place a Durable Object call becomes an outage answer: whatever the stub throws (the object
// cannot be reached, it was reset, its method threw) is 503 UNAVAILABLE and the client retries.
import { ApiError, unavailable } from "@twist/shared/errors";
import { log } from "../log";

export async function reach<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof ApiError) throw err;
    log("error", "durable object call failed", { object: what, error: String(err) });
    throw unavailable(`${what} is unavailable; retry later`);
  }
}
