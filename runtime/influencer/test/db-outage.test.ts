// Which database errors are an outage (503, retry) and which are bugs (500): each case is the error
// real Postgres, node-postgres and Sequelize produce, on the test's own database and connections.
import { expect } from "chai";
import pg from "pg";
import { DatabaseError, QueryTypes, type Sequelize } from "sequelize";
import { createTestDatabase, type TestDatabase } from "../../../test/support/postgres";
import { freePort } from "../../../test/support/ports";
import { createSequelize, isDatabaseUnavailable } from "../src/db";

describe("database outage classification", () => {
  let db: TestDatabase;
  let sequelize: Sequelize;

  before(async () => {
    db = await createTestDatabase("db_outage");
    sequelize = createSequelize(db.url, { poolMax: 1 });
  });
  after(async () => {
    await sequelize?.close();
    await db?.drop();
  });

  const failure = async (run: () => Promise<unknown>): Promise<unknown> => {
    try {
      await run();
    } catch (err) {
      return err;
    }
    throw new Error("expected the query to fail");
  };

  it("a server nobody listens on is an outage", async () => {
    const nowhere = createSequelize(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`, { poolMax: 1 });
    try {
      expect(isDatabaseUnavailable(await failure(() => nowhere.query("SELECT 1")))).to.equal(true);
    } finally {
      await nowhere.close();
    }
  });

  it("a transaction whose connection the server terminated is an outage, and the pool recovers by itself", async () => {
    const terminate = async (pid: number) => {
      const admin = new pg.Client({ connectionString: db.url });
      await admin.connect();
      await admin.query("SELECT pg_terminate_backend($1)", [pid]);
      await admin.end();
    };
    const err = await failure(() =>
      sequelize.transaction(async (transaction) => {
        const [backend] = await sequelize.query<{ pid: number }>("SELECT pg_backend_pid() AS pid", { type: QueryTypes.SELECT, transaction });
        await terminate(backend!.pid);
        await sequelize.query("SELECT 1", { transaction });
      }),
    );
    expect(isDatabaseUnavailable(err), String(err)).to.equal(true);
    expect(await sequelize.query("SELECT 1 AS one", { type: QueryTypes.SELECT })).to.deep.equal([{ one: 1 }]);
  });

  it("a query on a client whose connection just failed is an outage (node-postgres: 'not queryable')", async () => {
    const client = new pg.Client({ connectionString: db.url });
    const failed = new Promise((resolve) => client.on("error", resolve)); // 57P01, then the socket's end
    await client.connect();
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    await admin.query("SELECT pg_terminate_backend($1)", [rows[0]!.pid]);
    await admin.end();
    await failed;
    const err = (await failure(() => client.query("SELECT 1"))) as Error;
    expect(err.message).to.match(/not queryable/);
    // Sequelize's postgres dialect wraps a driver error without a SQLSTATE as a plain DatabaseError.
    expect(isDatabaseUnavailable(new DatabaseError(Object.assign(err, { sql: "SELECT 1" })))).to.equal(true);
  });

  it("a constraint violation, a syntax error and a non-database error are not outages", async () => {
    await sequelize.query("CREATE TABLE outage_probe (id int PRIMARY KEY)");
    await sequelize.query("INSERT INTO outage_probe VALUES (1)");
    expect(isDatabaseUnavailable(await failure(() => sequelize.query("INSERT INTO outage_probe VALUES (1)")))).to.equal(false);
    expect(isDatabaseUnavailable(await failure(() => sequelize.query("SELEC 1")))).to.equal(false);
    expect(isDatabaseUnavailable(new Error("Connection terminated"))).to.equal(false);
  });
});
