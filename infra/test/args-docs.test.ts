// Every public arg of a component is documented as SST's args interfaces are: a doc comment saying
// what it is and either "Required." or "Default: ...". Read from the source, so a new arg without
// one fails here.
import { expect } from "chai";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const COMPONENTS: [file: string, iface: string][] = [
  ["monitoring.ts", "MonitoringArgs"],
  ["zone-security.ts", "ZoneSecurityArgs"],
  ["edge.ts", "EdgePlatformArgs"],
];

/** Each top-level property of the interface with the doc comment right above it ("" when none). */
function documentedArgs(source: string, iface: string): { name: string; doc: string }[] {
  const start = source.indexOf(`export interface ${iface} {`);
  if (start < 0) throw new Error(`interface ${iface} not found`);
  const body = source.slice(start, source.indexOf("\n}\n", start));
  const args: { name: string; doc: string }[] = [];
  for (const m of body.matchAll(/^ {2}(\w+)\??:/gm)) {
    const before = body.slice(0, m.index).trimEnd();
    const doc = before.endsWith("*/") ? before.slice(before.lastIndexOf("/**")) : "";
    args.push({ name: m[1]!, doc });
  }
  return args;
}

describe("infra component args are documented (Required. or Default: ...)", () => {
  for (const [file, iface] of COMPONENTS) {
    it(`${iface} (${file})`, () => {
      const args = documentedArgs(readFileSync(join(__dirname, "..", "components", file), "utf8"), iface);
      expect(args.length, iface).to.be.greaterThan(3);
      for (const { name, doc } of args) {
        expect(doc, `${iface}.${name} has a doc comment`).to.match(/^\/\*\*/);
        expect(doc, `${iface}.${name} says Required. or Default:`).to.match(/Required\.|Default: /);
      }
    });
  }

  it("notices an undocumented arg and one without Required./Default:", () => {
    const source = "export interface XArgs {\n  /** Documented. Required. */\n  a: string;\n  b: string;\n  /** Says neither. */\n  c?: number;\n}\n";
    const args = documentedArgs(source, "XArgs");
    expect(args.map((a) => [a.name, /Required\.|Default: /.test(a.doc)])).to.deep.equal([
      ["a", true],
      ["b", false],
      ["c", false],
    ]);
  });
});
