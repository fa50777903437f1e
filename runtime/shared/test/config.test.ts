import { expect } from "chai";
import { ConfigError, Joi, configTypes, loadConfig } from "@twist/shared/config";
import { KeySetError, parseJwtKeySet, parseSigningKeys } from "@twist/shared/keys";

const schema = Joi.object({
  PORT: configTypes.port().default(3001),
  REDIS_URL: configTypes.url(["redis", "rediss"]).required(),
  JWT_KEYS: configTypes.jwtKeySet().required(),
  SERVICE_SIGNING_KEYS: configTypes.signingKeys().required(),
  TWIST_ENV: Joi.string().valid("development", "staging", "production").required(),
});

const good = {
  REDIS_URL: "redis://127.0.0.1:6379",
  JWT_KEYS: "2026-01:aaaaaaaaaaaaaaaaaaaa,2025-12:bbbbbbbbbbbbbbbbbbbb",
  SERVICE_SIGNING_KEYS: "cccccccccccccccccccc",
  TWIST_ENV: "staging",
  UNRELATED: "ignored",
};

describe("config loader", () => {
  it("returns typed, converted configuration", () => {
    const config = loadConfig(schema, { ...good, PORT: "4000" });
    expect(config.PORT).to.equal(4000);
    expect(config.JWT_KEYS).to.deep.equal({ currentKid: "2026-01", keys: { "2026-01": "a".repeat(20), "2025-12": "b".repeat(20) } });
    expect(config.SERVICE_SIGNING_KEYS).to.deep.equal(["c".repeat(20)]);
    expect(config).to.not.have.property("UNRELATED");
  });

  it("throws one error naming every missing or malformed variable", () => {
    let error: unknown;
    try {
      loadConfig(schema, { PORT: "70000", JWT_KEYS: "nokid", SERVICE_SIGNING_KEYS: "short", TWIST_ENV: "prod" });
    } catch (err) {
      error = err;
    }
    expect(error).to.be.instanceOf(ConfigError);
    const names = (error as ConfigError).problems.map((p) => p.name).sort();
    expect(names).to.deep.equal(["JWT_KEYS", "PORT", "REDIS_URL", "SERVICE_SIGNING_KEYS", "TWIST_ENV"]);
    expect((error as ConfigError).message)
      .to.match(/REDIS_URL: is required/)
      .and.to.match(/JWT_KEYS: each entry must be kid:secret/);
  });

  it("never echoes a secret value in the error", () => {
    try {
      loadConfig(schema, { ...good, JWT_KEYS: "k1:tooshort-secret" });
      expect.fail("expected a ConfigError");
    } catch (err) {
      expect((err as Error).message)
        .to.match(/JWT_KEYS/)
        .and.not.to.include("tooshort-secret");
    }
  });
});

describe("key sets", () => {
  it("parses kid:secret pairs, current first, secrets may contain ':'", () => {
    expect(parseJwtKeySet("a:0123456789abcdef:x, b:fedcba9876543210")).to.deep.equal({
      currentKid: "a",
      keys: { a: "0123456789abcdef:x", b: "fedcba9876543210" },
    });
  });

  it("refuses duplicates, bad kids, short secrets and empty lists", () => {
    for (const bad of ["", "a:0123456789abcdef,a:0123456789abcdef", "a b:0123456789abcdef", "a:short", ",", "a:0123456789abcdef,"]) {
      expect(() => parseJwtKeySet(bad), bad).to.throw(KeySetError);
    }
    for (const bad of ["", "short", "0123456789abcdef,0123456789abcdef,0123456789abcdef,0123456789abcdef"]) {
      expect(() => parseSigningKeys(bad), bad).to.throw(KeySetError);
    }
  });
});
