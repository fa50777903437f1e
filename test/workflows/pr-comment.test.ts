import { expect } from "chai";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GITHUB_COMMENT_LIMIT, main, parseArgs, renderComment, summarize } from "../../.github/scripts/pr-comment";

const PREVIEW = `Previewing update (staging):
     Type                              Name              Plan
     pulumi:pulumi:Stack               twist-staging
 ~   └─ cloudflare:index:WorkersScript edge              update     [diff: ~content]

Policies:
    ✅ twist-policy@v0.1.0 (local: policy)

Resources:
    ~ 1 to update
    14 unchanged
`;

const HEAD_SHA = "0123456789abcdef0123456789abcdef01234567";

/**
 * Test double of the GitHub REST API (unreachable from here): an HTTP server holding one pull
 * request's comments in memory. The script's real fetch client talks to it.
 */
class GitHubApiStandIn {
  comments: Array<{ id: number; body: string; user: { login: string; type: string } }> = [
    { id: 1, body: "LGTM <!-- twist-preview:staging -->", user: { login: "reviewer", type: "User" } },
    { id: 2, body: "<!-- twist-preview:staging --> quoted by a person", user: { login: "reviewer", type: "User" } },
  ];
  requests: string[] = [];
  private server!: Server;
  private nextId = 100;
  url = "";

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = "";
      req.on("data", (c) => (raw += c));
      req.on("end", () => {
        this.requests.push(`${req.method} ${req.url}`);
        if (req.headers.authorization !== "Bearer test-token") return this.send(res, 401, { message: "Bad credentials" });
        const body = raw ? (JSON.parse(raw) as { body: string }) : undefined;
        const path = (req.url ?? "").split("?")[0];
        if (req.method === "GET" && path === "/repos/acme/twist/issues/7/comments") return this.send(res, 200, this.comments);
        if (req.method === "POST" && path === "/repos/acme/twist/issues/7/comments") {
          const comment = { id: this.nextId++, body: body!.body, user: { login: "github-actions[bot]", type: "Bot" } };
          this.comments.push(comment);
          return this.send(res, 201, comment);
        }
        const edit = path?.match(/^\/repos\/acme\/twist\/issues\/comments\/(\d+)$/);
        if (req.method === "PATCH" && edit) {
          const comment = this.comments.find((c) => c.id === Number(edit[1]));
          if (!comment) return this.send(res, 404, { message: "Not Found" });
          comment.body = body!.body;
          return this.send(res, 200, comment);
        }
        if (req.method === "GET" && path === "/repos/acme/twist/pulls/7") return this.send(res, 200, { number: 7, head: { sha: HEAD_SHA } });
        return this.send(res, 404, { message: "Not Found" });
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private send(res: import("node:http").ServerResponse, status: number, body: unknown) {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  }
}

describe("pull-request preview comment", () => {
  it("renders the marker, the resource summary and the full output", () => {
    const body = renderComment({
      marker: "twist-preview:staging",
      title: "Pulumi preview: staging",
      status: "success",
      output: PREVIEW,
      runUrl: "https://github.com/acme/twist/actions/runs/1",
    });
    expect(body.startsWith("<!-- twist-preview:staging -->\n### ✅ Pulumi preview: staging")).to.equal(true);
    expect(body).to.contain("~ 1 to update");
    expect(body).to.contain("cloudflare:index:WorkersScript edge");
    expect(body).to.contain("[workflow run](https://github.com/acme/twist/actions/runs/1)");
    expect(body).not.to.contain("truncated");
  });

  it("summarizes and links when the output exceeds GitHub's 65,536-character limit", () => {
    const noise = Array.from({ length: 4000 }, (_, i) => ` ~   ├─ cloudflare:index:DnsRecord record-${i} update [diff: ~content]`).join("\n");
    const output = `Previewing update (staging):\n${noise}\n\nPolicies:\n    ❌ twist-policy@v0.1.0\n        - [mandatory]  no-plaintext-secrets  (worker: edge)\n\nResources:\n    ~ 4000 to update\n    error: preview failed\n`;
    const body = renderComment({ marker: "twist-preview:staging", title: "Pulumi preview: staging", status: "failure", output, runUrl: "https://github.com/acme/twist/actions/runs/2" });
    expect(output.length).to.be.greaterThan(GITHUB_COMMENT_LIMIT * 3);
    expect(body.length).to.be.at.most(GITHUB_COMMENT_LIMIT);
    expect(body).to.contain("### ❌");
    expect(body).to.contain("[mandatory]  no-plaintext-secrets");
    expect(body).to.contain("~ 4000 to update");
    expect(body).to.contain("(truncated)");
    expect(body).to.contain(`see [workflow run](https://github.com/acme/twist/actions/runs/2) for all ${output.replace(/\s+$/, "").length.toLocaleString("en-US")} characters`);
  });

  it("keeps hostile output inside its code block and strips terminal colours", () => {
    const output = "\u001b[31mred\u001b[0m\n````\n@everyone <script>\n";
    const body = renderComment({ marker: "m", title: "t", status: "success", output });
    expect(body).not.to.contain("\u001b[");
    expect(body).to.contain("`````diff\nred\n````\n@everyone");
    expect(summarize("Resources:\n    + 3 to create\n\nother")).to.equal("Resources:\n    + 3 to create");
  });

  it("validates its arguments", () => {
    const base = ["--marker", "m", "--title", "t", "--status", "success", "--output-file", "f"];
    expect(() => parseArgs(["--pr", "7; rm", ...base])).to.throw(/pull request number/);
    expect(() => parseArgs(["--pr", "7", ...base, "--expect-head-sha", "abc"])).to.throw(/full commit SHA/);
    expect(() => parseArgs(["--pr", "7", "--marker", "<!-- x -->", "--title", "t", "--status", "success", "--output-file", "f"])).to.throw(/--marker/);
    expect(() => parseArgs(["--pr", "7", "--marker", "m", "--title", "t", "--status", "ok", "--output-file", "f"])).to.throw(/--status/);
    expect(() => parseArgs(["--pr"])).to.throw(/--name value/);
    expect(parseArgs(["--pr", "7", ...base]).pr).to.equal(7);
  });

  describe("against the GitHub API stand-in", () => {
    let api: GitHubApiStandIn;
    let dir: string;
    let env: NodeJS.ProcessEnv;
    const args = (extra: string[] = []) => [
      "--pr",
      "7",
      "--marker",
      "twist-preview:staging",
      "--title",
      "Pulumi preview: staging",
      "--status",
      "success",
      "--output-file",
      join(dir, "preview.txt"),
      ...extra,
    ];

    beforeEach(async () => {
      api = new GitHubApiStandIn();
      await api.start();
      dir = mkdtempSync(join(tmpdir(), "twist-pr-comment-"));
      writeFileSync(join(dir, "preview.txt"), PREVIEW);
      env = { GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/twist", GITHUB_API_URL: api.url };
    });
    afterEach(async () => {
      await api.stop();
      rmSync(dir, { recursive: true, force: true });
    });

    it("creates the comment once, then edits it on later pushes", async () => {
      expect(await main(args(), env)).to.match(/^created comment 100 on #7/);
      writeFileSync(join(dir, "preview.txt"), PREVIEW.replace("~ 1 to update", "~ 2 to update"));
      expect(await main(args(), env)).to.match(/^updated comment 100 on #7/);
      const ours = api.comments.filter((c) => c.user.type === "Bot");
      expect(ours).to.have.length(1);
      expect(ours[0]!.body).to.contain("~ 2 to update");
      expect(api.comments.slice(0, 2).map((c) => c.body)).to.deep.equal(["LGTM <!-- twist-preview:staging -->", "<!-- twist-preview:staging --> quoted by a person"]);
    });

    it("refuses to comment when the pull request is not at the expected commit (fork artifact)", async () => {
      const err = await main(args(["--expect-head-sha", "f".repeat(40)]), env).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).to.contain(`is at ${HEAD_SHA}`);
      expect(api.requests.filter((r) => !r.startsWith("GET"))).to.deep.equal([]);
      expect(await main(args(["--expect-head-sha", HEAD_SHA]), env)).to.match(/^created comment/);
    });

    it("reports API failures instead of claiming success", async () => {
      const err = await main(args(), { ...env, GITHUB_TOKEN: "wrong" }).then(
        () => null,
        (e: Error) => e,
      );
      expect(err?.message).to.match(/answered 401/);
      expect(await main(args(), { GITHUB_TOKEN: "", GITHUB_REPOSITORY: "acme/twist" }).catch((e: Error) => e.message)).to.contain("GITHUB_TOKEN");
    });

    it("--body-file renders without calling the API", async () => {
      expect(await main(args(["--body-file", join(dir, "body.md")]), {})).to.match(/^rendered \d+ characters/);
      expect(readFileSync(join(dir, "body.md"), "utf8")).to.contain("<!-- twist-preview:staging -->");
      expect(api.requests).to.deep.equal([]);
    });
  });
});
