// The change set as a reviewer reads it (infra/offline/diff.ts formatChanges, printed by
// `npm run plan -- --against`): two hand-made evaluations, diffed and printed, asserted on the text.
import { expect } from "chai";
import { diffEvaluations, formatChanges } from "../offline/diff";
import type { DetailedResource, Evaluation } from "../offline/evaluate";

const CONTAINER = "docker:index/container:Container";
const SCRIPT = "cloudflare:index/workersScript:WorkersScript";
const VOLUME = "docker:index/volume:Volume";
const OLD_SECRET = "old-database-password-4f3e2d";
const NEW_SECRET = "new-database-password-9a8b7c";

function resource(type: string, name: string, inputs: Record<string, unknown>, secretLeaves: string[] = []): DetailedResource {
  return {
    urn: `urn:pulumi:staging::twist::${type}::${name}`,
    type,
    name,
    inputs,
    secretPaths: [...new Set(secretLeaves.map((p) => p.split(/[.[]/)[0]!))],
    dependencies: [],
    custom: true,
    secretLeaves,
    options: {},
  };
}
const evaluation = (resources: DetailedResource[]): Evaluation => ({ resources, outputs: {}, placeholderKeys: [] });
const dbFile = (content: string) => [{ file: "/run/secrets/DATABASE_URL", content }];

describe("npm run plan: the printed change set", () => {
  const base = evaluation([
    resource(CONTAINER, "influencer", { image: "sha256:aaaa", uploads: dbFile(OLD_SECRET), restart: "unless-stopped" }, ["uploads[0].content"]),
    resource(CONTAINER, "settlement", { image: "sha256:aaaa", restart: "unless-stopped" }),
    resource(SCRIPT, "worker", { scriptName: "twist-vau-staging", contentSha256: "1111" }),
    resource(VOLUME, "vol-old", { name: "twist-old-staging" }),
  ]);
  const head = evaluation([
    resource(CONTAINER, "influencer", { image: "sha256:bbbb", uploads: dbFile(NEW_SECRET), restart: "unless-stopped" }, ["uploads[0].content"]),
    resource(CONTAINER, "settlement", { image: "sha256:aaaa", restart: "always" }),
    resource(SCRIPT, "worker", { scriptName: "twist-vau-staging", contentSha256: "2222" }),
    resource(VOLUME, "vol-new", { name: "twist-new-staging" }),
  ]);
  const text = formatChanges('Changes for stack "staging"', diffEvaluations(base, head), 3);
  const lines = text.split("\n");
  const block = (name: string) => {
    const start = lines.findIndex((l) => new RegExp(`\\s${name}(\\s|$)`).test(l) && /^\s+\S+\s+(create|update|replace|delete)\s/.test(l));
    expect(start, `${name} in\n${text}`).to.be.greaterThan(-1);
    const end = lines.findIndex((l, i) => i > start && !/^ {8}/.test(l));
    return lines.slice(start, end);
  };

  it("shows a secret property as [secret] on both sides, never its value", () => {
    expect(block("influencer")).to.include("        uploads[0].content: [secret] => [secret]");
    expect(text).not.to.contain(OLD_SECRET);
    expect(text).not.to.contain(NEW_SECRET);
  });

  it("names the ForceNew properties of a replace, and prints each changed property before => after", () => {
    expect(block("influencer")[0]).to.equal(`  +- replace ${CONTAINER}  influencer  (ForceNew: image, uploads)`);
    expect(block("influencer")).to.include("        image: sha256:aaaa => sha256:bbbb");
  });

  it("prints an in-place change (no ForceNew property) as an update, without a ForceNew note", () => {
    expect(block("settlement")).to.deep.equal([`  ~  update  ${CONTAINER}  settlement`, "        restart: unless-stopped => always"]);
    expect(block("worker")).to.deep.equal([`  ~  update  ${SCRIPT}  worker`, "        contentSha256: 1111 => 2222"]);
  });

  it("prints a resource only the new side has as create, and one only the old side has as delete", () => {
    expect(block("vol-new")).to.deep.equal([`  +  create  ${VOLUME}  vol-new`]);
    expect(block("vol-old")).to.deep.equal([`  -  delete  ${VOLUME}  vol-old`]);
    expect(lines.at(-1)).to.equal("1 to create, 2 to update, 1 to replace, 1 to delete, 3 unchanged");
  });

  it("says No changes. for identical evaluations, and that both sides were evaluated offline", () => {
    const same = formatChanges("Changes", diffEvaluations(base, base), 4);
    expect(same).to.contain("\nNo changes.\n");
    expect(same).to.contain("evaluated offline under pulumi.runtime.setMocks on both sides; nothing was deployed");
    expect(same.split("\n").at(-1)).to.equal("0 to create, 0 to update, 0 to replace, 0 to delete, 4 unchanged");
  });
});
