// Contract 6: one error envelope everywhere, {"error": {code, message, requestId, details?}}.
import { SIGN_IN_FAILURES, type SignInFailure } from "./siws";

export const ERROR_STATUS = {
  VALIDATION_ERROR: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PAYLOAD_TOO_LARGE: 413,
  RATE_LIMITED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
} as const;

export type BaseErrorCode = keyof typeof ERROR_STATUS;

/** Codes more specific than a base code, with the status each answers. */
export const SPECIFIC_ERROR_STATUS = {
  /** Edge (contract 4): this VAU was already received. */
  DUPLICATE_VAU: 409,
  /** Influencer: the balance does not cover the amount. */
  INSUFFICIENT_FUNDS: 409,
  NOTHING_TO_CLAIM: 409,
  /** Influencer: a plain GET on the events WebSocket. */
  UPGRADE_REQUIRED: 426,
} as const;

/** Every code an envelope may carry: a base code, a specific one, or a sign-in refusal (401, contract 2). */
export type ErrorCode = BaseErrorCode | keyof typeof SPECIFIC_ERROR_STATUS | SignInFailure;

const STATUS_OF: Record<ErrorCode, number> = {
  ...ERROR_STATUS,
  ...SPECIFIC_ERROR_STATUS,
  ...(Object.fromEntries(Object.keys(SIGN_IN_FAILURES).map((code) => [code, 401])) as Record<SignInFailure, 401>),
};

export interface ApiErrorOptions {
  /** Defaults to the code's status. */
  status?: number;
  details?: unknown;
  headers?: Record<string, string>;
}

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown };
}

/** An error a handler means to answer with; prefer the helpers below where one fits. */
export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  constructor(code: ErrorCode, message: string, options?: ApiErrorOptions);
  /**
   * A code carried as a plain string, with its status: the edge re-raising a batch item's error
   * (ItemResult in runtime/edge/src/ingest.ts types its code as string). Remove once that type says ErrorCode.
   */
  constructor(code: string, message: string, options: ApiErrorOptions & { status: number });
  constructor(code: string, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code as ErrorCode;
    this.status = options.status ?? STATUS_OF[code as ErrorCode] ?? 500;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
  readonly details: unknown;
  readonly headers: Record<string, string>;
}

export function errorBody(code: ErrorCode, message: string, requestId: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message, requestId } : { code, message, requestId, details } };
}

/** The envelope for anything thrown: ApiError as-is, everything else as INTERNAL with no detail. */
export function toErrorResponse(err: unknown, requestId: string): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (err instanceof ApiError) {
    return { status: err.status, body: errorBody(err.code, err.message, requestId, err.details), headers: err.headers };
  }
  return { status: 500, body: errorBody("INTERNAL", "internal error", requestId), headers: {} };
}

export const validationError = (message: string, details?: unknown) => new ApiError("VALIDATION_ERROR", message, { details });
export const unauthorized = (message: string, details?: unknown) => new ApiError("UNAUTHORIZED", message, { details });
export const forbidden = (message: string, details?: unknown) => new ApiError("FORBIDDEN", message, { details });
export const notFound = (message = "not found") => new ApiError("NOT_FOUND", message);
export const conflict = (message: string, details?: unknown) => new ApiError("CONFLICT", message, { details });
export const unavailable = (message: string) => new ApiError("UNAVAILABLE", message);
/** A wait of `ms` milliseconds in whole seconds, at least 1 (Retry-After, X-RateLimit-Reset). */
export const secondsToWait = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));
/** The Retry-After value for a wait of `ms` milliseconds. */
export const retryAfterSeconds = (ms: number): string => String(secondsToWait(ms));
export const rateLimited = (retryAfterSecs: number, message = "too many requests") =>
  new ApiError("RATE_LIMITED", message, { headers: { "Retry-After": retryAfterSeconds(retryAfterSecs * 1000) } });
