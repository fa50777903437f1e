import { expect } from "chai";
import { parseImageRef } from "../lib/images";
import { imagesPinned as rule } from "../policies/images-pinned";
import { TYPES, baselineContainer, check } from "./harness";
import { SAMPLE } from "./samples";

describe("policy: images-pinned", () => {
  it("parses registry ports, tags and digests", () => {
    expect(parseImageRef("registry.example:5000/twist/auth")).to.deep.equal({ name: "registry.example:5000/twist/auth" });
    expect(parseImageRef("registry.example:5000/twist/auth:abc123")).to.deep.equal({ name: "registry.example:5000/twist/auth", tag: "abc123" });
    expect(parseImageRef(`postgres:16@sha256:${SAMPLE.hexKey}`)).to.deep.equal({ name: "postgres", tag: "16", digest: `sha256:${SAMPLE.hexKey}` });
  });

  it("passes version tags, commit tags, digests and image ids", async () => {
    for (const image of ["postgres:16.4-alpine", "ghcr.io/twist/auth:3f2c1a9", `redis@sha256:${SAMPLE.hexKey}`, `sha256:${SAMPLE.hexKey}`]) {
      expect(await check(rule, TYPES.container, { ...baselineContainer(), image }), image).to.deep.equal([]);
    }
    expect(await check(rule, TYPES.remoteImage, { name: "postgres:16.4-alpine" })).to.deep.equal([]);
    expect(await check(rule, TYPES.image, { imageName: "ghcr.io/twist/influencer:3f2c1a9" })).to.deep.equal([]);
  });

  it("fails a container on latest", async () => {
    expect(await check(rule, TYPES.container, { ...baselineContainer(), image: "postgres:latest" })).to.deep.equal([
      'Container "twist-auth-production" image "postgres:latest" uses the moving tag `latest`. Pin a version tag (postgres:16.4-alpine, or the commit for our own images) or a digest (name@sha256:...).',
    ]);
  });

  it("fails an untagged container image, including one behind a registry port", async () => {
    expect((await check(rule, TYPES.container, { ...baselineContainer(), image: "redis" }))[0]).to.contain('image "redis" has no tag');
    expect((await check(rule, TYPES.container, { ...baselineContainer(), image: "registry.example:5000/twist/auth" }))[0]).to.contain("has no tag");
  });

  it("fails other moving tags", async () => {
    expect((await check(rule, TYPES.container, { ...baselineContainer(), image: "caddy:stable" }))[0]).to.contain("moving tag `stable`");
  });

  it("fails an unpinned RemoteImage and an unpinned built Image", async () => {
    expect(await check(rule, TYPES.remoteImage, { name: "redis:latest" })).to.deep.equal([
      'RemoteImage "redis:latest" uses the moving tag `latest`. Pin a version tag (postgres:16.4-alpine, or the commit for our own images) or a digest (name@sha256:...).',
    ]);
    expect((await check(rule, TYPES.image, { imageName: "ghcr.io/twist/auth" }))[0]).to.contain("Tag built images with the commit SHA.");
  });
});
