import { expect } from "chai";
import { parseTarget } from "../../scripts/smoke";

describe("npm run smoke -- --target", () => {
  it("`local` and no target mean the local platform's default ports", () => {
    const local = { edge: "http://127.0.0.1:8787", auth: "http://127.0.0.1:3001", influencer: "http://127.0.0.1:3003" };
    expect(parseTarget("local")).to.deep.equal(local);
    expect(parseTarget(undefined)).to.deep.equal(local);
  });

  it("takes three base URLs edge,auth,influencer and drops trailing slashes", () => {
    expect(parseTarget("https://vau.example/,https://auth.example,https://api.example/")).to.deep.equal({
      edge: "https://vau.example",
      auth: "https://auth.example",
      influencer: "https://api.example",
    });
  });

  it("refuses anything else with the expected form", () => {
    for (const bad of ["staging", "https://a.example,https://b.example", "ftp://a,ftp://b,ftp://c", "https://a.example,,https://c.example"]) {
      expect(() => parseTarget(bad), bad).to.throw(/--target must be `local` or `<edgeUrl>,<authUrl>,<influencerUrl>`/);
    }
  });
});
