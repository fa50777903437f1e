// Under mocks: the services' /metrics listeners (METRICS_PORT) are on no tunnel ingress rule, so the
// public hostnames cannot reach them; and the influencer containers get real SMTP delivery, the relay
// password only as a secret file.
import { expect } from "chai";
import { METRICS_PORTS, SERVICE_PORTS } from "../components/backend";
import type { DetailedResource } from "../offline/evaluate";
import { STACKS, T, evaluated, only } from "./helpers";

for (const stack of STACKS) {
  describe(`infra backend: private metrics and mail (${stack})`, () => {
    let resources: DetailedResource[];
    const get = (type: string, name: string) => only(resources, type, name);
    const envOf = (name: string) => Object.fromEntries((get(T.container, name).inputs.envs as string[]).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)]));
    before(async () => {
      resources = (await evaluated(stack)).resources;
    });

    it("each service listens for /metrics on its own METRICS_PORT, and no tunnel ingress rule reaches it", () => {
      for (const service of ["auth", "influencer"] as const) {
        expect(envOf(service).PORT, service).to.equal(String(SERVICE_PORTS[service]));
        expect(envOf(service).METRICS_PORT, service).to.equal(String(METRICS_PORTS[service]));
      }
      const ingresses = (get(T.tunnelConfig, "tunnel-config").inputs.config as { ingresses: { hostname?: string; service: string }[] }).ingresses;
      const targets = ingresses.map((i) => i.service);
      // The services' public ports, and Grafana (behind Access): never a metrics listener.
      expect(targets.filter((s) => s.startsWith("http://"))).to.deep.equal([
        `http://auth:${SERVICE_PORTS.auth}`,
        `http://influencer:${SERVICE_PORTS.influencer}`,
        "http://grafana:3000",
      ]);
      for (const port of Object.values(METRICS_PORTS))
        expect(
          targets.some((s) => s.includes(`:${port}`)),
          `port ${port}`,
        ).to.equal(false);
      // The catch-all answers 404 itself: nothing else on the edge network is reachable by hostname.
      expect(ingresses.at(-1)).to.deep.equal({ service: "http_status:404" });
      for (const r of resources.filter((x) => x.type === T.container)) expect(r.inputs.ports ?? [], r.name).to.deep.equal([]);
    });

    it("the influencer API and worker send mail over SMTP; the password is a secret file, not env", () => {
      for (const name of ["influencer", "settlement"]) {
        const env = envOf(name);
        expect(env, name).to.include({
          MAIL_TRANSPORT: "smtp",
          SMTP_HOST: "smtp.twist.example",
          SMTP_PORT: "587",
          SMTP_TLS: "starttls",
          SMTP_USER: `twist-${stack}`,
          MAIL_FROM: "TWIST <no-reply@twist.example>",
        });
        expect(env, name).to.not.have.property("SMTP_PASSWORD");
        const c = get(T.container, name);
        const uploads = c.inputs.uploads as { file: string }[];
        const i = uploads.findIndex((u) => u.file === "/run/secrets/SMTP_PASSWORD");
        expect(i, name).to.be.greaterThan(-1);
        expect(c.secretLeaves, name).to.include(`uploads[${i}].content`);
      }
      expect(envOf("auth")).to.not.have.property("MAIL_TRANSPORT");
    });
  });
}
