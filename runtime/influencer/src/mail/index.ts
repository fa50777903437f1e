// The mail transport is an interface with two implementations, chosen by MAIL_TRANSPORT:
//   smtp : real delivery through an SMTP relay (nodemailer); every environment may use it;
//   log  : writes the whole message, verification link included, to the log. The link is a bearer
//          secret, so config refuses this transport unless TWIST_ENV=development.
import type { Logger } from "@twist/shared/logger";
import type { InfluencerConfig } from "../config";
import { SmtpMailer } from "./smtp";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  /** Resolves once the relay accepted the message; rejects with a 503 ApiError when it did not. */
  send(message: MailMessage): Promise<void>;
  /** Releases pooled connections (no-op for transports without any). */
  close?(): void;
}

export class LogMailer implements Mailer {
  constructor(private readonly logger: Logger) {}
  async send(message: MailMessage): Promise<void> {
    this.logger.info({ mail: { to: message.to, subject: message.subject, text: message.text } }, "mail (log transport, development only)");
  }
}

export function createMailer(config: InfluencerConfig, logger: Logger): Mailer {
  if (config.MAIL_TRANSPORT === "log") return new LogMailer(logger);
  return new SmtpMailer(config.SMTP!, logger);
}

export { SmtpMailer, recipientHash, type SmtpSettings } from "./smtp";
