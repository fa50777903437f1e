// Influencer profiles and single-use, expiring email verification tokens (stored as SHA-256 hashes).
import { createHash, randomBytes } from "node:crypto";
import { QueryTypes, UniqueConstraintError, type Sequelize, type Transaction } from "sequelize";
import { type ApiError, conflict, notFound, validationError } from "@twist/shared/errors";
import type { Mailer } from "../mail";
import type { RegisterInput } from "./schemas";

interface InfluencerRow {
  id: string;
  username: string;
  display_name: string;
  email: string;
  email_verified_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

/** The owner's view. No internal ids: the caller is identified by its token. */
export interface OwnProfile {
  username: string;
  displayName: string;
  email: string;
  emailVerified: boolean;
  createdAt: string;
  updatedAt: string;
}

/** The public view: never the email, never an internal id. */
export interface PublicProfile {
  username: string;
  displayName: string;
  emailVerified: boolean;
  createdAt: string;
}

const ownView = (r: InfluencerRow): OwnProfile => ({
  username: r.username,
  displayName: r.display_name,
  email: r.email,
  emailVerified: r.email_verified_at !== null,
  createdAt: new Date(r.created_at).toISOString(),
  updatedAt: new Date(r.updated_at).toISOString(),
});

const publicView = (r: InfluencerRow): PublicProfile => ({
  username: r.username,
  displayName: r.display_name,
  emailVerified: r.email_verified_at !== null,
  createdAt: new Date(r.created_at).toISOString(),
});

const hashToken = (token: string) => createHash("sha256").update(token).digest("hex");

export interface InfluencerServiceOptions {
  sequelize: Sequelize;
  mailer: Mailer;
  publicBaseUrl: string;
  tokenTtlMinutes: number;
  now: () => Date;
}

export class InfluencerService {
  constructor(private readonly o: InfluencerServiceOptions) {}

  async register(userId: string, input: RegisterInput): Promise<OwnProfile> {
    const { sequelize } = this.o;
    let row: InfluencerRow;
    try {
      row = await sequelize.transaction(async (transaction) => {
        const [created] = await sequelize.query<InfluencerRow>(
          `INSERT INTO influencers (user_id, username, display_name, email, created_at, updated_at)
           VALUES (:userId, :username, :displayName, :email, :now, :now) RETURNING *`,
          { replacements: { userId, ...input, now: this.o.now() }, type: QueryTypes.SELECT, transaction },
        );
        await this.sendVerification(created!.email, await this.issueToken(created!.id, input.email, transaction));
        return created!;
      });
    } catch (err) {
      if (err instanceof UniqueConstraintError) {
        const constraint = (err.parent as { constraint?: string } | undefined)?.constraint;
        if (constraint === "influencers_username_key") throw conflict("username is taken", { reason: "USERNAME_TAKEN" });
        throw conflict("this wallet is already registered as an influencer", { reason: "ALREADY_REGISTERED" });
      }
      throw err;
    }
    return ownView(row);
  }

  async getOwn(influencerId: string): Promise<OwnProfile> {
    return ownView(await this.row(influencerId));
  }

  async update(influencerId: string, input: { displayName?: string; email?: string }): Promise<OwnProfile> {
    const { sequelize } = this.o;
    const row = await sequelize.transaction(async (transaction) => {
      const current = await this.row(influencerId, transaction, true);
      const emailChanged = input.email !== undefined && input.email !== current.email;
      const [updated] = await sequelize.query<InfluencerRow>(
        `UPDATE influencers SET display_name = :displayName, email = :email, updated_at = :now,
           email_verified_at = CASE WHEN :emailChanged THEN NULL ELSE email_verified_at END
         WHERE id = :influencerId RETURNING *`,
        {
          replacements: {
            influencerId,
            displayName: input.displayName ?? current.display_name,
            email: input.email ?? current.email,
            emailChanged,
            now: this.o.now(),
          },
          type: QueryTypes.SELECT,
          transaction,
        },
      );
      if (emailChanged) await this.sendVerification(updated!.email, await this.issueToken(influencerId, input.email!, transaction));
      return updated!;
    });
    return ownView(row);
  }

  /** Issues a fresh token for the current (unverified) email; earlier tokens stop working. */
  async resendVerification(influencerId: string): Promise<void> {
    const { sequelize } = this.o;
    await sequelize.transaction(async (transaction) => {
      const row = await this.row(influencerId, transaction, true);
      if (row.email_verified_at) throw conflict("email is already verified", { reason: "ALREADY_VERIFIED" });
      await this.sendVerification(row.email, await this.issueToken(influencerId, row.email, transaction));
    });
  }

  /** Consumes a token exactly once; it must be unexpired and for the influencer's current email. */
  async verifyEmail(token: string): Promise<OwnProfile> {
    const { sequelize } = this.o;
    const now = this.o.now();
    return sequelize.transaction(async (transaction) => {
      const [used] = await sequelize.query<{ influencer_id: string; email: string }>(
        `UPDATE email_verifications SET used_at = :now
         WHERE token_hash = :hash AND used_at IS NULL AND expires_at > :now
         RETURNING influencer_id, email`,
        { replacements: { hash: hashToken(token), now }, type: QueryTypes.SELECT, transaction },
      );
      if (!used) throw await this.whyTokenFails(token, now, transaction);
      const [row] = await sequelize.query<InfluencerRow>(
        `UPDATE influencers SET email_verified_at = COALESCE(email_verified_at, :now), updated_at = :now
         WHERE id = :id AND email = :email RETURNING *`,
        { replacements: { id: used.influencer_id, email: used.email, now }, type: QueryTypes.SELECT, transaction },
      );
      if (!row) throw tokenError("TOKEN_STALE", "the email address changed after this token was sent");
      return ownView(row);
    });
  }

  async getPublic(username: string): Promise<PublicProfile> {
    const [row] = await this.o.sequelize.query<InfluencerRow>(`SELECT * FROM influencers WHERE username = :username`, {
      replacements: { username },
      type: QueryTypes.SELECT,
    });
    if (!row) throw notFound("no such influencer");
    return publicView(row);
  }

  private async row(influencerId: string, transaction?: Transaction, lock = false): Promise<InfluencerRow> {
    const [row] = await this.o.sequelize.query<InfluencerRow>(`SELECT * FROM influencers WHERE id = :influencerId${lock ? " FOR UPDATE" : ""}`, {
      replacements: { influencerId },
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row) throw notFound("influencer not found");
    return row;
  }

  private async issueToken(influencerId: string, email: string, transaction: Transaction): Promise<string> {
    const token = randomBytes(32).toString("base64url");
    const now = this.o.now();
    // One live token per influencer: a new one retires the earlier ones.
    await this.o.sequelize.query(`UPDATE email_verifications SET used_at = :now WHERE influencer_id = :influencerId AND used_at IS NULL`, {
      replacements: { influencerId, now },
      transaction,
    });
    await this.o.sequelize.query(`INSERT INTO email_verifications (influencer_id, email, token_hash, expires_at, created_at) VALUES (:influencerId, :email, :hash, :expiresAt, :now)`, {
      replacements: { influencerId, email, hash: hashToken(token), expiresAt: new Date(now.getTime() + this.o.tokenTtlMinutes * 60_000), now },
      transaction,
    });
    return token;
  }

  private async whyTokenFails(token: string, now: Date, transaction: Transaction): Promise<ApiError> {
    const [row] = await this.o.sequelize.query<{ used_at: Date | null; expires_at: Date }>(`SELECT used_at, expires_at FROM email_verifications WHERE token_hash = :hash`, {
      replacements: { hash: hashToken(token) },
      type: QueryTypes.SELECT,
      transaction,
    });
    if (!row) return tokenError("TOKEN_INVALID", "verification token is not valid");
    if (row.used_at) return tokenError("TOKEN_USED", "verification token was already used or replaced");
    if (new Date(row.expires_at) <= now) return tokenError("TOKEN_EXPIRED", "verification token has expired");
    return tokenError("TOKEN_INVALID", "verification token is not valid");
  }

  /**
   * Sent inside the caller's transaction, after the token row is written and before commit: a relay
   * that refuses answers 503 and rolls everything back (no registration, no retired token), so the
   * same request can be retried. A commit failing after a sent mail leaves a link that says invalid.
   */
  private async sendVerification(email: string, token: string): Promise<void> {
    const link = new URL("/verify-email", this.o.publicBaseUrl);
    link.searchParams.set("token", token);
    await this.o.mailer.send({
      to: email,
      subject: "Verify your email for TWIST",
      text: `Confirm this address for your TWIST influencer profile: ${link.toString()}\nThe link works once and expires in ${this.o.tokenTtlMinutes} minutes.`,
    });
  }
}

function tokenError(reason: string, message: string): ApiError {
  return validationError(message, { reason });
}
