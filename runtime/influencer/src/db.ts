// The Sequelize instance. `dialectModule: pg` makes esbuild bundle the driver (Sequelize would
// otherwise require it dynamically and the bundle would miss it).
import type { NextFunction, Request, Response } from "express";
import pg from "pg";
import { ConnectionError, DatabaseError, Sequelize } from "sequelize";
import { unavailable } from "@twist/shared/errors";

// NUMERIC(39,0) money columns come back as strings; keep them strings here and convert to bigint at
// the edge of each data-access function (never through a float).
export function createSequelize(databaseUrl: string, options: { poolMax?: number } = {}): Sequelize {
  return new Sequelize(databaseUrl, {
    dialect: "postgres",
    dialectModule: pg,
    logging: false,
    pool: { max: options.poolMax ?? 10, min: 0, idle: 10_000, acquire: 10_000 },
    define: { underscored: true, timestamps: false },
  });
}

/** Money column value (string from NUMERIC) -> bigint. */
export function toBigInt(value: string | number | bigint | null | undefined): bigint {
  if (value === null || value === undefined) return 0n;
  return BigInt(value);
}

/**
 * True when Postgres could not be reached or dropped the connection (refused, reset, timed out, no
 * pool connection, server shutting down): an outage, not a bug. SQLSTATE class 08 is connection
 * exceptions, 57P01-57P03 shutdown/crash/starting, 53300 too many connections. node-postgres adds
 * socket errnos and, for a query on a client whose socket just failed, errors with only a message.
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (err instanceof ConnectionError) return true;
  if (!(err instanceof DatabaseError)) return false;
  const parent = err.parent as { code?: unknown; message?: unknown } | undefined;
  const code = typeof parent?.code === "string" ? parent.code : "";
  return (
    /^(08|57P0[123]$|53300$|E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT|HOSTUNREACH|NETUNREACH|AI_AGAIN)$)/.test(code) ||
    /Connection terminated|is not queryable|Query read timeout|timeout expired/i.test(String(parent?.message ?? ""))
  );
}

/** Error middleware: a Postgres outage answers 503 UNAVAILABLE like a Redis one, never 500. */
export function databaseOutageAs503(err: unknown, _req: Request, _res: Response, next: NextFunction): void {
  next(isDatabaseUnavailable(err) ? Object.assign(unavailable("a backing store is unavailable"), { cause: err }) : err);
}
