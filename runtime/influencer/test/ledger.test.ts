// The ledger module against real Postgres: transfers, idempotency, funds checks, concurrency,
// batch atomicity, immutability, and the invariant query.
import { randomUUID } from "node:crypto";
import { expect } from "chai";
import { account, checkLedgerInvariants, InsufficientFundsError, Ledger, LedgerConflictError, LedgerError } from "../src/ledger";
import { newWallet, startHarness, type Harness, expectLedgerConsistent } from "./harness";

describe("ledger module (real Postgres)", () => {
  let h: Harness;
  let ledger: Ledger;

  before(async () => {
    h = await startHarness("ledger");
    ledger = new Ledger(h.service.context.sequelize);
  });
  after(async () => h.close());
  afterEach(async () => expectLedgerConsistent(h));

  const credit = (wallet: string, amount: bigint, id = `t-${randomUUID()}`) =>
    ledger.transaction((t) => ledger.transfer(t, { id, from: account.system("rewards"), to: account.available(wallet), amount, kind: "reward", reference: "test" }));

  it("moves funds between accounts, letting system accounts go negative and keeping the sum at zero", async () => {
    const w = newWallet();
    const { applied } = await credit(w, 500n);
    expect(applied).to.equal(true);
    expect(await ledger.balance(account.available(w).key)).to.equal(500n);
    expect((await ledger.balance("system:rewards")) < 0n).to.equal(true);
  });

  it("replaying a transfer id with the same body changes nothing", async () => {
    const w = newWallet();
    const id = `t-${randomUUID()}`;
    await credit(w, 300n, id);
    const again = await credit(w, 300n, id);
    expect(again.applied).to.equal(false);
    expect(await ledger.balance(account.available(w).key)).to.equal(300n);
  });

  it("replaying a transfer id with a different body is a conflict and changes nothing", async () => {
    const w = newWallet();
    const id = `t-${randomUUID()}`;
    await credit(w, 300n, id);
    const err = await credit(w, 301n, id).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LedgerConflictError);
    const other = await credit(newWallet(), 300n, id).catch((e: unknown) => e);
    expect(other).to.be.instanceOf(LedgerConflictError);
    expect(await ledger.balance(account.available(w).key)).to.equal(300n);
  });

  it("accountsExist skips creating accounts; a missing one fails the whole posting and leaves no trace", async () => {
    const known = newWallet();
    await ledger.ensureAccounts([account.system("rewards"), account.available(known)]);
    const id = `t-${randomUUID()}`;
    await ledger.transaction((t) => ledger.post(t, [{ id, from: account.system("rewards"), to: account.available(known), amount: 5n, kind: "reward" }], { accountsExist: true }));
    expect(await ledger.balance(account.available(known).key)).to.equal(5n);

    const missing = newWallet();
    const ids = [`t-${randomUUID()}`, `t-${randomUUID()}`];
    const err = await ledger
      .transaction((t) =>
        ledger.post(
          t,
          [
            { id: ids[0]!, from: account.system("rewards"), to: account.available(known), amount: 7n, kind: "reward" },
            { id: ids[1]!, from: account.system("rewards"), to: account.available(missing), amount: 7n, kind: "reward" },
          ],
          { accountsExist: true },
        ),
      )
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(LedgerConflictError);
    expect(await ledger.balance(account.available(known).key)).to.equal(5n);
    expect((await ledger.accountsOf(missing)).length).to.equal(0);
  });

  it("never lets a user-owned account go negative, and the failed transfer leaves no trace", async () => {
    const w = newWallet();
    await credit(w, 100n);
    const id = `t-${randomUUID()}`;
    const err = await ledger
      .transaction((t) => ledger.transfer(t, { id, from: account.available(w), to: account.payoutPending(w), amount: 101n, kind: "test" }))
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InsufficientFundsError);
    expect(await ledger.balance(account.available(w).key)).to.equal(100n);
    const [rows] = await h.service.context.sequelize.query(`SELECT id FROM ledger_transfers WHERE id = '${id}'`);
    expect(rows).to.have.length(0);
  });

  it("rejects non-positive amounts, self-transfers and duplicate ids in one posting", async () => {
    const w = newWallet();
    for (const amount of [0n, -5n]) {
      const err = await ledger
        .transaction((t) => ledger.transfer(t, { id: `t-${randomUUID()}`, from: account.system("rewards"), to: account.available(w), amount, kind: "x" }))
        .catch((e: unknown) => e);
      expect(err).to.be.instanceOf(LedgerError);
    }
    const self = await ledger
      .transaction((t) => ledger.transfer(t, { id: `t-${randomUUID()}`, from: account.available(w), to: account.available(w), amount: 1n, kind: "x" }))
      .catch((e: unknown) => e);
    expect(self).to.be.instanceOf(LedgerError);
    const id = `t-${randomUUID()}`;
    const dup = await ledger
      .transaction((t) =>
        ledger.post(t, [
          { id, from: account.system("rewards"), to: account.available(w), amount: 1n, kind: "x" },
          { id, from: account.system("rewards"), to: account.available(w), amount: 1n, kind: "x" },
        ]),
      )
      .catch((e: unknown) => e);
    expect(dup).to.be.instanceOf(LedgerError);
    expect(await ledger.balance(account.available(w).key)).to.equal(0n);
  });

  it("posts a batch all-or-nothing: one overdraft rolls back every leg", async () => {
    const a = newWallet();
    const b = newWallet();
    await credit(a, 50n);
    const err = await ledger
      .transaction((t) =>
        ledger.post(t, [
          { id: `t-${randomUUID()}`, from: account.system("rewards"), to: account.available(b), amount: 10n, kind: "x" },
          { id: `t-${randomUUID()}`, from: account.available(a), to: account.available(b), amount: 51n, kind: "x" },
        ]),
      )
      .catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InsufficientFundsError);
    expect(await ledger.balance(account.available(a).key)).to.equal(50n);
    expect(await ledger.balance(account.available(b).key)).to.equal(0n);
  });

  it("50 concurrent withdrawals from one wallet never overdraw and each id applies once", async () => {
    const w = newWallet();
    await credit(w, 1000n);
    const ids = Array.from({ length: 50 }, (_, i) => `t-conc-${i}-${randomUUID()}`);
    // 50 distinct moves of 30 (only 33 fit), each sent twice at once.
    const attempts = [...ids, ...ids].map((id) =>
      ledger
        .transaction((t) => ledger.transfer(t, { id, from: account.available(w), to: account.payoutPending(w), amount: 30n, kind: "test" }))
        .then((r) => (r.applied ? "applied" : "replay"))
        .catch((e: unknown) => (e instanceof InsufficientFundsError ? "insufficient" : `error: ${String(e)}`)),
    );
    const outcomes = await Promise.all(attempts);
    expect(outcomes.filter((o) => o.startsWith("error"))).to.deep.equal([]);
    const applied = outcomes.filter((o) => o === "applied").length;
    expect(applied).to.equal(33);
    expect(await ledger.balance(account.available(w).key)).to.equal(1000n - 33n * 30n);
    expect(await ledger.balance(account.payoutPending(w).key)).to.equal(33n * 30n);
  });

  it("transfers are immutable in the database", async () => {
    const id = `t-${randomUUID()}`;
    await credit(newWallet(), 5n, id);
    const upd = await h.service.context.sequelize.query(`UPDATE ledger_transfers SET amount = 6 WHERE id = '${id}'`).catch((e: unknown) => e);
    expect(String(upd)).to.match(/immutable/);
    const del = await h.service.context.sequelize.query(`DELETE FROM ledger_transfers WHERE id = '${id}'`).catch((e: unknown) => e);
    expect(String(del)).to.match(/immutable/);
  });

  it("accounts are never deleted and keep their id and key (transfers name them without foreign keys)", async () => {
    const w = newWallet();
    await credit(w, 5n);
    const seq = h.service.context.sequelize;
    const key = account.available(w).key;
    const del = await seq.query(`DELETE FROM ledger_accounts WHERE key = $1`, { bind: [key] }).catch((e: unknown) => e);
    expect(String(del)).to.match(/never deleted/);
    const rekey = await seq.query(`UPDATE ledger_accounts SET key = key || ':x' WHERE key = $1`, { bind: [key] }).catch((e: unknown) => e);
    expect(String(rekey)).to.match(/never deleted and keep their id and key/);
    const reid = await seq.query(`UPDATE ledger_accounts SET id = gen_random_uuid() WHERE key = $1`, { bind: [key] }).catch((e: unknown) => e);
    expect(String(reid)).to.match(/keep their id and key/);
    expect(await ledger.balance(key)).to.equal(5n);
  });

  it("the invariant query reports a transfer that names a missing account", async () => {
    const seq = h.service.context.sequelize;
    const id = `orphan-${randomUUID()}`;
    // Written behind the ledger's back (the ledger inserts through a join on the accounts).
    await seq.query(`INSERT INTO ledger_transfers (id, debit_account_id, credit_account_id, amount, kind) VALUES ($1, gen_random_uuid(), gen_random_uuid(), 7, 'test')`, { bind: [id] });
    const report = await checkLedgerInvariants(seq);
    // Transfers are immutable to the application; replica mode skips that trigger to clean up.
    await seq.transaction(async (t) => {
      await seq.query(`SET LOCAL session_replication_role = replica`, { transaction: t });
      await seq.query(`DELETE FROM ledger_transfers WHERE id = $1`, { bind: [id], transaction: t });
    });
    expect(report.orphanTransfers).to.deep.equal([id]);
    expect(report.violations).to.deep.equal([`transfer ${id} names an account that does not exist`]);
  });

  it("the invariant query reports a tampered balance", async () => {
    const w = newWallet();
    await credit(w, 10n);
    const seq = h.service.context.sequelize;
    const key = account.available(w).key;
    await seq.query(`UPDATE ledger_accounts SET balance = balance + 1 WHERE key = $1`, { bind: [key] });
    const report = await checkLedgerInvariants(seq);
    await seq.query(`UPDATE ledger_accounts SET balance = balance - 1 WHERE key = $1`, { bind: [key] });
    expect(report.sum).to.equal(1n);
    expect(report.driftedAccounts).to.deep.equal([key]);
    expect(report.violations).to.have.length(2);
  });
});
