# Image of the scheduled Postgres backup job. Build context = dist/images/backup, which
# `node scripts/build.mjs influencer` stages with exactly the files copied below (about 22 MB, most
# of it source maps):
#   docker build -f runtime/influencer/backup.Dockerfile -t twist-backup:<tag> dist/images/backup
# pg_dump must be at least the server's major version, so the base is the same postgres image the
# database runs (16.6); Node comes from the pinned Node image as one binary (the bundle needs
# nothing else). Runs as the image's unprivileged "postgres" user (uid 999). Two commands:
#   node backup.js    the scheduled job (default)
#   node restore.js   `npm run restore` bundled, for restoring on the VM (docs/runbooks/restore.md)
FROM node:22.21.1-bookworm-slim AS node

FROM postgres:16.6-bookworm
COPY --from=node /usr/local/bin/node /usr/local/bin/node

ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    METRICS_PORT=9187

WORKDIR /app
# Owned by root and read-only for the runtime user.
COPY backup.js backup.js.map restore.js restore.js.map ./

USER postgres

EXPOSE 9187

HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
  CMD ["node", "-e", "require('http').get({host:'127.0.0.1',port:process.env.METRICS_PORT||9187,path:'/health',timeout:4000},r=>process.exit(r.statusCode===200?0:1)).on('error',()=>process.exit(1)).on('timeout',()=>process.exit(1))"]

# The postgres image's entrypoint would start a server: run the job directly.
ENTRYPOINT []
CMD ["node", "backup.js"]
