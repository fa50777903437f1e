// The local platform's Redis must answer before anything starts; say what to start when it does not.
import Redis from "ioredis";

export async function ensureRedis(redisUrl: string): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 3000 });
  redis.on("error", () => {});
  try {
    await redis.connect();
    await redis.ping();
  } catch (err) {
    throw new Error(
      `Redis is not reachable at ${redisUrl} (${(err as Error).message}).\n` +
        "Start it, then run npm start again. For example:\n" +
        "  redis-server --daemonize yes --port 6379\n" +
        "  Docker: docker run -d --name twist-redis -p 6379:6379 redis:7\n" +
        "or point REDIS_URL at a server you have.",
    );
  } finally {
    redis.disconnect();
  }
}
