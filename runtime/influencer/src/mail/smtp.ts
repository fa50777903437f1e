// Real delivery through an SMTP relay. A message the relay did not accept is a 503 for the API
// client (callers send inside their transaction, so nothing they wrote survives and the request can
// simply be retried). The log line of a sent mail names the recipient only by hash, never the body:
// a verification link is a bearer secret.
import { createHash } from "node:crypto";
import nodemailer, { type Transporter } from "nodemailer";
import { unavailable } from "@twist/shared/errors";
import type { Logger } from "@twist/shared/logger";
import type { Mailer, MailMessage } from "./index";

export interface SmtpSettings {
  host: string;
  port: number;
  /** implicit: TLS from the first byte (port 465); starttls: upgrade required; none: development only. */
  tls: "implicit" | "starttls" | "none";
  user?: string;
  password?: string;
  from: string;
  timeoutMs: number;
}

/** What the log may say about a recipient: a stable SHA-256 of the lower-cased address (first 16 hex). */
export const recipientHash = (email: string) => createHash("sha256").update(email.trim().toLowerCase()).digest("hex").slice(0, 16);

export class SmtpMailer implements Mailer {
  private readonly transport: Transporter;

  constructor(
    private readonly settings: SmtpSettings,
    private readonly logger: Logger,
  ) {
    this.transport = nodemailer.createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.tls === "implicit",
      requireTLS: settings.tls === "starttls",
      ignoreTLS: settings.tls === "none",
      auth: settings.user ? { user: settings.user, pass: settings.password } : undefined,
      connectionTimeout: settings.timeoutMs,
      greetingTimeout: settings.timeoutMs,
      socketTimeout: settings.timeoutMs,
    });
  }

  async send(message: MailMessage): Promise<void> {
    const to = recipientHash(message.to);
    try {
      const info = await this.transport.sendMail({ from: this.settings.from, to: message.to, subject: message.subject, text: message.text });
      this.logger.info({ mail: { to, messageId: info.messageId } }, "mail sent");
    } catch (err) {
      // The error text of a relay may quote the envelope; log its code only.
      const code = (err as { code?: string; responseCode?: number }).code ?? "UNKNOWN";
      const responseCode = (err as { responseCode?: number }).responseCode;
      this.logger.warn({ mail: { to, code, responseCode } }, "mail not accepted by the SMTP relay");
      throw unavailable("the verification email could not be sent; try again later");
    }
  }

  close(): void {
    this.transport.close();
  }
}
