import { expect } from "chai";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { listFiles, loadAllowlist, scanFiles, scanText } from "../../scripts/scan-secrets";

const ROOT = join(__dirname, "..", "..");

// Planted values are assembled at run time so that this file itself holds no literal the scanner
// (or gitleaks) would report. None of them is a real credential.
const plant = {
  awsKeyId: ["AK", "IA", "QZ7RWX4T2M6PLK3N"].join(""),
  pem: [
    "-----BEGIN ",
    "RSA PRIVATE",
    " KEY-----\nMIIEowIBAAKCAQEAy8Dbv8prpJ/0kKhlGeJYq3N7vQm2Zr8sLw1XcT9bH4pK6dF0gU5yR\nA7mE2nW9cV4xB1zQ8sK3jL6hT0fY5uG2rP7oI4eD9wC1bN6mX3vZ8aS5qR\n-----END ",
    "RSA PRIVATE KEY-----",
  ].join(""),
  githubToken: ["gh", "p_", "Zx81Kq2Lm93Pn74Rs65Tu56Vw47Xy38Za29B"].join(""),
  signingKey: ["q8Zr2Lw", "X5nV7bT1cJ9mK4pH3sD6fG0y"].join(""),
  jwt: ["eyJhbGciOiJIUzI1NiJ9", "eyJzdWIiOiJ3YWxsZXQiLCJleHAiOjE3NjcyMjY1MDB9", "Wm9uZTF2aXNpYmxlU2lnbmF0dXJlQnl0ZXM"].join("."),
  keypair: `[${Array.from({ length: 64 }, (_, i) => (i * 37 + 11) % 256).join(",")}]`,
};

describe("secret scanning", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "twist-secrets-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("finds a planted fake key in a temporary file (CLI exits 1, value redacted)", () => {
    const file = join(dir, "leak.ts");
    writeFileSync(file, `export const config = {\n  region: "auto",\n  accessKeyId: "${plant.awsKeyId}",\n};\n`);
    const run = spawnSync(process.execPath, ["--import", "tsx", "scripts/scan-secrets.ts", file], { cwd: ROOT, encoding: "utf8" });
    expect(run.status).to.equal(1);
    expect(run.stderr).to.contain("leak.ts:3: [aws-access-key-id]");
    expect(run.stderr).to.contain("1 possible secret(s)");
    expect(run.stderr).not.to.contain(plant.awsKeyId);
  });

  it("detects each credential shape it claims to", () => {
    const cases: Array<[string, string]> = [
      ["private-key", plant.pem],
      ["github-token", `token=${plant.githubToken}`],
      ["generic-secret", `SERVICE_SIGNING_KEYS="${plant.signingKey}"`],
      ["jwt", `Authorization: Bearer ${plant.jwt}`],
      ["solana-keypair", plant.keypair],
      ["url-credentials", `DATABASE_URL=postgres://twist:${plant.signingKey}@db.internal:5432/twist`],
    ];
    for (const [rule, text] of cases) {
      expect(
        scanText("src/x.ts", `const a = 1;\n${text}\n`).map((f) => f.rule),
        rule,
      ).to.deep.equal([rule]);
    }
    expect(scanText(".env", "A=1\n").map((f) => f.rule)).to.deep.equal(["dotenv-file"]);
  });

  it("stays quiet on placeholders, test-named values, low-entropy text and references", () => {
    const quiet = [
      'JWT_KEYS="2026-01:jwt-test-secret-current-0123456789abcdef"',
      "PULUMI_CONFIG_PASSPHRASE: ${{ secrets.PULUMI_CONFIG_PASSPHRASE }}",
      'password: "aaaaaaaaaaaaaaaaaaaaaaaa"',
      'JWT_KEYS: "bench:bench-only-jwt-secret-0000000001"',
      'signingKeys: "ci-only-signing-key-7f3a9c2e1b"',
      "apiKey = process.env.CLOUDFLARE_API_TOKEN",
      "DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres",
      ["-----BEGIN OPENSSH PRIVATE", " KEY-----\\nPLACEHOLDER-vmSshPrivateKey-8899aabbccddeeff\\n-----END OPENSSH PRIVATE KEY-----"].join(""),
      `secret = "${plant.signingKey}" // gitleaks:allow (documented fixture)`,
    ];
    for (const text of quiet) expect(scanText("src/x.ts", text), text).to.deep.equal([]);
    expect(scanText(".env.example", "A=1\n")).to.deep.equal([]);
  });

  it("allow-list entries are exact paths and silence only the listed rules", () => {
    const allow = [{ path: "fixtures/a.json", rules: ["jwt"], reason: "test" }];
    expect(scanText("fixtures/a.json", plant.jwt, allow)).to.deep.equal([]);
    expect(scanText("fixtures/b.json", plant.jwt, allow)).to.have.length(1);
    expect(scanText("fixtures/a.json", `password: "${plant.signingKey}"`, allow)).to.have.length(1);
  });

  it("the committed allow-list is narrow: exact files, known rules, each with a reason", () => {
    const allow = loadAllowlist(ROOT);
    expect(allow.map((a) => a.path)).to.deep.equal(["test/vectors/jwt.json", "infra/offline/evaluate.ts", "test/vectors/siws.json"]);
    for (const entry of allow) expect(entry.rules, entry.path).to.have.length(1);
    const malformed = join(dir, "scripts");
    spawnSync("mkdir", ["-p", malformed]);
    writeFileSync(join(malformed, "scan-secrets.allowlist.json"), JSON.stringify({ allow: [{ path: "test/**", rules: ["jwt"], reason: "x" }] }));
    expect(() => loadAllowlist(dir)).to.throw(/exact file path/);
    writeFileSync(join(malformed, "scan-secrets.allowlist.json"), JSON.stringify({ allow: [{ path: "a", rules: ["nope"], reason: "x" }] }));
    expect(() => loadAllowlist(dir)).to.throw(/unknown rule ids nope/);
  });

  it("passes on the repository tree", () => {
    const files = listFiles(ROOT);
    expect(files).to.include("scripts/scan-secrets.ts");
    const { findings, scanned } = scanFiles(ROOT, files, loadAllowlist(ROOT));
    expect(scanned).to.be.greaterThan(10);
    expect(findings.map((f) => `${f.file}:${f.line} ${f.rule}`)).to.deep.equal([]);
  });

  it("gitleaks in CI allow-lists the same files", () => {
    const toml = readFileSync(join(ROOT, ".github", "gitleaks.toml"), "utf8");
    for (const entry of loadAllowlist(ROOT)) expect(toml).to.contain(entry.path.replace(/\./g, "\\."));
  });
});
