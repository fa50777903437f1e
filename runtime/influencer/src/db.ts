// The Sequelize instance. `dialectModule: pg` makes esbuild bundle the driver (Sequelize would
// otherwise require it dynamically and the bundle would miss it).
import pg from "pg";
import { Sequelize } from "sequelize";

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
