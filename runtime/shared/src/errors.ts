// Contract 6: one error envelope everywhere, {"error": {code, message, requestId, details?}}.

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

export interface ErrorBody {
  error: { code: string; message: string; requestId: string; details?: unknown };
}

/**
 * An error a handler means to answer with. `code` is a base code or a more specific one
 * (e.g. DUPLICATE_VAU with 409, NONCE_EXPIRED with 401); `status` defaults from the base code.
 */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: string,
    message: string,
    options: { status?: number; details?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = "ApiError";
    this.status = options.status ?? ERROR_STATUS[code as BaseErrorCode] ?? 500;
    this.details = options.details;
    this.headers = options.headers ?? {};
  }
  readonly details: unknown;
  readonly headers: Record<string, string>;
}

export function errorBody(code: string, message: string, requestId: string, details?: unknown): ErrorBody {
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
export const forbidden = (message: string) => new ApiError("FORBIDDEN", message);
export const notFound = (message = "not found") => new ApiError("NOT_FOUND", message);
export const conflict = (message: string, details?: unknown) => new ApiError("CONFLICT", message, { details });
export const unavailable = (message: string) => new ApiError("UNAVAILABLE", message);
/** The Retry-After value (whole seconds, at least 1) for a wait of `ms` milliseconds. */
export const retryAfterSeconds = (ms: number): string => String(Math.max(1, Math.ceil(ms / 1000)));
export const rateLimited = (retryAfterSecs: number, message = "too many requests") =>
  new ApiError("RATE_LIMITED", message, { headers: { "Retry-After": retryAfterSeconds(retryAfterSecs * 1000) } });
