# The one-shot migration job's image: the migration bundle alone, so its image ID changes exactly
# when the migrations (or the code that applies them) change, and the job re-runs only then
# (infra/components/backend.ts). Build context = dist/images/migrate, which
# `node scripts/build.mjs influencer` stages with exactly the files copied below (about 12 MB):
#   docker build -f runtime/influencer/migrate.Dockerfile -t twist-migrate:<tag> dist/images/migrate
FROM node:22.21.1-bookworm-slim

ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps

WORKDIR /app
COPY migrate.js migrate.js.map ./

USER node

CMD ["node", "migrate.js"]
