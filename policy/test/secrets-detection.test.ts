import { expect } from "chai";
import { isHighEntropyToken, isSecretLikeName, secretLikeValue } from "../lib/secrets";
import { SAMPLE } from "./samples";

describe("policy: secret detection heuristics", () => {
  it("flags secret-like names, including camelCase and compound words", () => {
    for (const name of [
      "JWT_KEYS",
      "SERVICE_SIGNING_KEYS",
      "DB_PASSWORD",
      "dbPassword",
      "API_TOKEN",
      "CLIENT_SECRET",
      "IP_HASH_SALT",
      "SOLANA_PAYER_SECRET_KEY",
      "APIKEY",
      "PASSPHRASE",
    ]) {
      expect(isSecretLikeName(name), name).to.equal(true);
    }
  });

  it("lets ordinary names and references to secrets through", () => {
    for (const name of [
      "TWIST_ENV",
      "PORT",
      "REDIS_PREFIX",
      "JWT_KEYS_FILE",
      "POSTGRES_PASSWORD_FILE",
      "TOKEN_TTL_SECONDS",
      "MONKEY",
      "KEYBOARD_LAYOUT",
      "CACHE_KEY_PREFIX",
      "SIWS_DOMAIN",
    ]) {
      expect(isSecretLikeName(name), name).to.equal(false);
    }
  });

  it("recognises each kind of secret-looking value", () => {
    expect(secretLikeValue(SAMPLE.jwt)).to.equal("a JSON Web Token");
    expect(secretLikeValue(SAMPLE.pem)).to.equal("a PEM private key");
    expect(secretLikeValue(SAMPLE.connectionString)).to.equal("a connection string with a password");
    expect(secretLikeValue(SAMPLE.dsnPassword)).to.equal("a connection string with a password");
    expect(secretLikeValue(SAMPLE.awsKeyId)).to.equal("a cloud or SaaS access key");
    expect(secretLikeValue(SAMPLE.base64Key)).to.equal("a high-entropy string (a key or token)");
    expect(secretLikeValue(SAMPLE.hexKey)).to.equal("a high-entropy string (a key or token)");
    expect(secretLikeValue(SAMPLE.keySet)).to.equal("a high-entropy string (a key or token)");
  });

  it("does not flag ids, commits, URLs without credentials, paths, UUIDs or wallet addresses", () => {
    for (const value of [
      "production",
      "0123456789abcdef0123456789abcdef", // Cloudflare account id (32 hex)
      "3f2c1a9e8b7d6c5f4e3d2c1b0a9f8e7d6c5b4a39", // commit id (40 hex)
      "https://api.mainnet-beta.solana.com",
      "postgres://twist@postgres:5432/twist",
      "/run/secrets/jwt_keys",
      "550e8400-e29b-41d4-a716-446655440000",
      "So11111111111111111111111111111111111111112", // a Solana mint address (public key)
      "",
    ]) {
      expect(secretLikeValue(value), value).to.equal(undefined);
    }
    expect(secretLikeValue(42)).to.equal(undefined);
  });

  it("skips the entropy heuristic on command lines but keeps the pattern checks", () => {
    expect(secretLikeValue(`docker pull postgres@sha256:${SAMPLE.hexKey}`, { entropyCheck: false })).to.equal(undefined);
    expect(secretLikeValue(`psql ${SAMPLE.connectionString}`, { entropyCheck: false })).to.equal("a connection string with a password");
    expect(isHighEntropyToken(SAMPLE.base64Key)).to.equal(true);
  });
});
