// The local platform's PostgreSQL: reachable, and its database created on first start.
import { Client } from "pg";

export async function ensureDatabase(databaseUrl: string): Promise<void> {
  const target = new URL(databaseUrl);
  const name = decodeURIComponent(target.pathname.slice(1));
  const admin = new URL(databaseUrl);
  admin.pathname = "/postgres";
  const client = new Client({ connectionString: admin.toString(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(
      `PostgreSQL is not reachable at ${target.host} (${(err as Error).message}).\n` +
        "Start it, then run npm start again. For example:\n" +
        "  Debian/Ubuntu:  sudo pg_ctlcluster $(ls /etc/postgresql) main start\n" +
        "  macOS (brew):   brew services start postgresql\n" +
        "  Docker:         docker run -d --name twist-pg -p 5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres:16\n" +
        "or point DATABASE_URL at a server you have.",
    );
  }
  try {
    const exists = await client.query("SELECT 1 FROM pg_database WHERE datname = $1", [name]);
    if (exists.rowCount === 0) await client.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`);
  } finally {
    await client.end();
  }
}
