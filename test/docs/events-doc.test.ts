import { expect } from "chai";
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { EVENT_TYPES, EVENTS_CLOSE } from "@twist/shared/events";

// docs/api/events.md stays equal to contract 7's names in runtime/shared/src/events.ts: its event
// types table lists exactly EVENT_TYPES and its close-code table exactly the codes of EVENTS_CLOSE,
// each once, so neither can gain or lose an entry without the other.

const DOC = "docs/api/events.md";
const markdown = readFileSync(resolve(__dirname, "..", "..", DOC), "utf8");

/** The first cell of every body row of the first table under `heading`. */
function firstColumn(doc: string, heading: string): string[] {
  const lines = doc.split("\n");
  const start = lines.indexOf(heading);
  if (start < 0) throw new Error(`${DOC} has no heading "${heading}"`);
  const table: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith("#")) break;
    if (line.startsWith("|")) table.push(line);
    else if (table.length) break;
  }
  const [header, separator, ...rows] = table;
  if (!header || !separator?.startsWith("|---")) throw new Error(`no table under "${heading}" in ${DOC}`);
  return rows.map((r) => r.split("|")[1]!.trim());
}

const inBackticks = (cell: string) => {
  const m = /^`([^`]+)`$/.exec(cell);
  if (!m) throw new Error(`expected one code span, found "${cell}"`);
  return m[1]!;
};

const eventTypes = (doc: string) => firstColumn(doc, "### Event types").map(inBackticks).sort();
const closeCodes = (doc: string) => firstColumn(doc, "### Close codes").map(Number).sort();

describe("docs/api/events.md matches the shared events contract", () => {
  it("the event types table lists exactly EVENT_TYPES, each once", () => {
    expect(eventTypes(markdown)).to.deep.equal([...EVENT_TYPES].sort());
  });

  it("the close-code table lists exactly the codes of EVENTS_CLOSE, each once", () => {
    for (const cell of firstColumn(markdown, "### Close codes")) expect(cell, "a close code").to.match(/^\d{4}$/);
    expect(closeCodes(markdown)).to.deep.equal(Object.values(EVENTS_CLOSE).sort());
  });

  it("a row dropped, added or repeated in either table is caught", () => {
    const row = (start: string) => markdown.split("\n").find((l) => l.startsWith(start))!;
    const without = markdown.replace(`${row("| `payout.failed` |")}\n`, "");
    expect(eventTypes(without)).to.not.deep.equal([...EVENT_TYPES].sort());
    const repeated = markdown.replace(row("| 4413 |"), `${row("| 4413 |")}\n${row("| 4413 |")}`);
    expect(closeCodes(repeated)).to.not.deep.equal(Object.values(EVENTS_CLOSE).sort());
    const added = markdown.replace(row("| 4429 |"), `${row("| 4429 |")}\n| 1006 | no close frame | reconnect |`);
    expect(closeCodes(added)).to.not.deep.equal(Object.values(EVENTS_CLOSE).sort());
    expect(() => firstColumn(markdown, "### No such section")).to.throw(/no heading/);
    expect(() => inBackticks("reward.credited")).to.throw(/code span/);
  });
});
