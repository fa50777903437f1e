// The mail transport is an interface. The only transport here writes the message to the log (local
// development); a deployment that needs real delivery plugs an SMTP/API transport in through deps.
import type { Logger } from "@twist/shared/logger";

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

export interface Mailer {
  send(message: MailMessage): Promise<void>;
}

export class LogMailer implements Mailer {
  constructor(private readonly logger: Logger) {}
  async send(message: MailMessage): Promise<void> {
    this.logger.info({ mail: { to: message.to, subject: message.subject, text: message.text } }, "mail (log transport)");
  }
}
