// The service images' build contexts (scripts/build.mjs stageImages): after a build, each
// dist/images/<image>/ holds exactly the files its Dockerfile copies, byte for byte the bundle's,
// so a change to one entry point of a bundle changes only the images that copy it.
import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { appendFileSync, cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { copiedSources, images, stageImages } from "../../scripts/build.mjs";
import { contextDigest } from "../components/backend";
import { REPO_ROOT } from "../offline/evaluate";

const DIST = join(REPO_ROOT, "dist");
const filesUnder = (dir: string) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((f) => f.isFile())
    .map((f) => relative(dir, join(f.parentPath, f.name)))
    .sort();
const SWAGGER = ["swagger-ui/favicon-32x32.png", "swagger-ui/swagger-ui-bundle.js", "swagger-ui/swagger-ui.css"];

describe("image build contexts: exactly what each Dockerfile copies", () => {
  const expected: Record<string, string[]> = {
    auth: ["main.js", "main.js.map", "openapi.json", ...SWAGGER],
    influencer: ["main.js", "main.js.map", "openapi.json", ...SWAGGER, "worker.js", "worker.js.map"],
    migrate: ["migrate.js", "migrate.js.map"],
    backup: ["backup.js", "backup.js.map", "restore.js", "restore.js.map"],
  };

  it("stages one context per image, holding only the files its Dockerfile's COPY lines name", () => {
    expect(readdirSync(join(DIST, "images")).sort()).to.deep.equal(Object.keys(expected).sort());
    for (const { name, bundle, dockerfile } of images) {
      const context = join(DIST, "images", name);
      expect(filesUnder(context), name).to.deep.equal(expected[name]!.sort());
      // The same set, read from the Dockerfile itself: a directory source brings its files.
      const fromDockerfile = copiedSources(readFileSync(join(REPO_ROOT, dockerfile), "utf8")).flatMap((s) =>
        statSync(join(DIST, bundle, s)).isDirectory() ? filesUnder(join(DIST, bundle, s)).map((f) => join(s, f)) : [s],
      );
      expect(filesUnder(context), `${name} vs ${dockerfile}`).to.deep.equal(fromDockerfile.sort());
      for (const file of filesUnder(context)) expect(readFileSync(join(context, file)).equals(readFileSync(join(DIST, bundle, file))), `${name}/${file}`).to.equal(true);
    }
  });

  it("keeps the influencer image's context free of the migration, backup and restore bundles, and well below the bundle directory", () => {
    const influencer = filesUnder(join(DIST, "images", "influencer"));
    for (const other of ["migrate.js", "backup.js", "restore.js", "meta.json"]) expect(influencer).not.to.include(other);
    const size = (dir: string) => filesUnder(dir).reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(size(join(DIST, "images", "influencer"))).to.be.lessThan(size(join(DIST, "influencer")) * 0.7);
  });

  describe("a change to the backup code alone", () => {
    let dist: string;
    before(() => {
      dist = mkdtempSync(join(tmpdir(), "twist-image-contexts-"));
      cpSync(DIST, dist, { recursive: true });
    });
    after(() => rmSync(dist, { recursive: true, force: true }));

    it("changes the backup image's digest and leaves the influencer, migrate and auth images' inputs as they were", () => {
      const digests = () => Object.fromEntries(images.map((i) => [i.name, contextDigest(join(dist, "images", i.name), join(REPO_ROOT, i.dockerfile))]));
      const before = digests();
      appendFileSync(join(dist, "influencer", "backup.js"), "\n// a backup-only change\n");
      stageImages(dist);
      const after = digests();
      expect(after.backup).not.to.equal(before.backup);
      for (const name of ["influencer", "migrate", "auth"]) expect(after[name], name).to.equal(before[name]);
    });

    it("restaging removes a file the Dockerfile no longer copies", () => {
      writeFileSync(join(dist, "images", "influencer", "stale.js"), "left over");
      stageImages(dist, ["influencer"]);
      expect(filesUnder(join(dist, "images", "influencer"))).not.to.include("stale.js");
    });
  });

  it("a rebuild of unchanged sources rewrites no file of dist/ (parallel test files load the bundles meanwhile)", () => {
    const stamp = () => Object.fromEntries(filesUnder(DIST).map((f) => [f, `${statSync(join(DIST, f)).ino}:${statSync(join(DIST, f)).mtimeMs}`]));
    const before = stamp();
    const build = spawnSync(process.execPath, [join(REPO_ROOT, "scripts", "build.mjs")], { cwd: REPO_ROOT, encoding: "utf8" });
    expect(build.status, build.stderr).to.equal(0);
    expect(stamp()).to.deep.equal(before);
  });

  it("refuses a COPY glob and names a missing source", () => {
    expect(() => copiedSources("FROM node\nCOPY *.js ./\n", "x.Dockerfile")).to.throw("x.Dockerfile copies *.js: name each file");
    expect(copiedSources("FROM a AS node\nFROM b\nCOPY --from=node /usr/local/bin/node /usr/local/bin/node\nCOPY a.js \\\n  b.js ./\n")).to.deep.equal(["a.js", "b.js"]);
    const empty = mkdtempSync(join(tmpdir(), "twist-image-contexts-empty-"));
    try {
      expect(() => stageImages(empty, ["auth"])).to.throw(/runtime\/auth\/Dockerfile copies main\.js, which .* does not hold/);
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });
});
