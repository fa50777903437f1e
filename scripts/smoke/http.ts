// A small JSON client for the smoke test: every call is timed, and an unexpected status throws with
// the response body, so the first failing step says exactly what it got.

// biome-ignore lint/suspicious/noExplicitAny: the smoke steps read whatever JSON the platform answers, field by field
type AnyJson = any;

export interface CallResult<T = AnyJson> {
  status: number;
  headers: Headers;
  body: T;
  ms: number;
}

export class SmokeFailure extends Error {
  constructor(
    step: string,
    readonly result: Pick<CallResult, "status" | "body"> | null,
    message: string,
  ) {
    super(`${step}: ${message}${result ? `\n  status ${result.status}\n  body ${JSON.stringify(result.body)}` : ""}`);
  }
}

export async function call<T = AnyJson>(
  method: string,
  url: string,
  options: { headers?: Record<string, string>; body?: string; expect?: number[]; redirect?: "follow" | "manual" | "error"; step: string },
): Promise<CallResult<T>> {
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(url, {
      method,
      headers: { ...(options.body !== undefined ? { "Content-Type": "application/json" } : {}), ...options.headers },
      body: options.body,
      redirect: options.redirect ?? "follow",
      signal: AbortSignal.timeout(15_000),
    });
  } catch (err) {
    throw new SmokeFailure(options.step, null, `${method} ${url} failed: ${(err as Error).message}`);
  }
  const text = await res.text();
  const ms = performance.now() - started;
  let body: AnyJson = text;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: keep the text
  }
  const result = { status: res.status, headers: res.headers, body: body as T, ms };
  if (options.expect && !options.expect.includes(res.status)) {
    throw new SmokeFailure(options.step, result, `${method} ${new URL(url).pathname} answered ${res.status}, expected ${options.expect.join(" or ")}`);
  }
  return result;
}

/** Polls `probe` until it returns a value, or fails the step after `timeoutMs`. */
export async function eventually<T>(step: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      // A definite failure (wrong status, voided payout) ends the wait; network hiccups are retried.
      if (err instanceof SmokeFailure && (err as SmokeFailure).result) throw err;
      last = err;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new SmokeFailure(step, null, `did not happen within ${timeoutMs} ms${last ? ` (last error: ${(last as Error).message})` : ""}`);
}
