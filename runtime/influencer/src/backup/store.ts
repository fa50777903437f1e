// The bucket the encrypted backups live in, through the S3 API (R2 in production; any
// S3-compatible server in tests). Object keys sort by time: <prefix><UTC timestamp>.dump.enc.
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import type { Readable } from "node:stream";
import { DeleteObjectCommand, GetObjectCommand, ListObjectsV2Command, NoSuchKey, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";

export interface BucketSettings {
  /** S3 endpoint: https://<account id>.r2.cloudflarestorage.com for R2. */
  endpoint: string;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Key prefix of the backups inside the bucket, e.g. "postgres/". */
  prefix: string;
  /** R2 takes "auto". */
  region?: string;
}

export interface BackupObject {
  key: string;
  size: number;
  /** When the backup was taken, from its key. */
  takenAt: Date;
}

export class BackupNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BackupNotFoundError";
  }
}

// The SDK warns on Node < 22 at first use; the backup image runs Node 22 and the repository's
// floor is 20.19 (engines), so the notice says nothing actionable here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/** The SDK would print some failures to the console; they are thrown to the caller, who logs them. */
const quietSdkLogger = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const SUFFIX = ".dump.enc";
const STAMP = /^(\d{4}-\d{2}-\d{2})T(\d{2})-(\d{2})-(\d{2})-(\d{3})Z$/;

/** The object key of a backup taken at `at`: colons are awkward in keys, so the time uses dashes. */
export function backupKey(prefix: string, at: Date): string {
  return `${prefix}${at.toISOString().replace(/:/g, "-").replace(".", "-")}${SUFFIX}`;
}

function takenAtOf(prefix: string, key: string): Date | undefined {
  if (!key.startsWith(prefix) || !key.endsWith(SUFFIX)) return undefined;
  const m = STAMP.exec(key.slice(prefix.length, -SUFFIX.length));
  return m ? new Date(`${m[1]}T${m[2]}:${m[3]}:${m[4]}.${m[5]}Z`) : undefined;
}

export class BackupStore {
  private readonly s3: S3Client;

  constructor(readonly settings: BucketSettings) {
    this.s3 = new S3Client({
      endpoint: settings.endpoint,
      region: settings.region ?? "auto",
      forcePathStyle: true,
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
      // Plain signed PUTs with a known length: no aws-chunked trailers, which not every S3 server speaks.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
      maxAttempts: 3,
      logger: quietSdkLogger,
    });
  }

  async upload(key: string, filePath: string, size: number): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: createReadStream(filePath), ContentLength: size, ContentType: "application/octet-stream" }));
  }

  async download(key: string, filePath: string): Promise<void> {
    let body: Readable;
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      body = res.Body as Readable;
    } catch (err) {
      if (err instanceof NoSuchKey || (err instanceof S3ServiceException && err.$metadata.httpStatusCode === 404)) {
        throw new BackupNotFoundError(`no backup object "${key}" in bucket ${this.settings.bucket}`);
      }
      throw err;
    }
    await pipeline(body, createWriteStream(filePath, { mode: 0o600 }));
  }

  /** Every backup under the prefix, oldest first. Other objects under the prefix are ignored. */
  async list(): Promise<BackupObject[]> {
    const found: BackupObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.settings.bucket, Prefix: this.settings.prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const takenAt = o.Key ? takenAtOf(this.settings.prefix, o.Key) : undefined;
        if (takenAt) found.push({ key: o.Key!, size: o.Size ?? 0, takenAt });
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return found.sort((a, b) => a.takenAt.getTime() - b.takenAt.getTime());
  }

  async latest(): Promise<BackupObject | undefined> {
    return (await this.list()).at(-1);
  }

  /** Deletes the oldest backups beyond the newest `keep`; returns the deleted keys. */
  async prune(keep: number): Promise<string[]> {
    const all = await this.list();
    const doomed = all.slice(0, Math.max(0, all.length - keep)).map((o) => o.key);
    for (const key of doomed) await this.s3.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    return doomed;
  }

  close(): void {
    this.s3.destroy();
  }
}
