# The one-shot migration job's image: the migration bundle alone, built from the same context as the
# API image (dist/influencer) but copying only migrate.js, so its image ID changes exactly when the
# migrations (or the code that applies them) change, and the job re-runs only then
# (infra/components/backend.ts):
#   docker build -f runtime/influencer/migrate.Dockerfile -t twist-migrate:<tag> dist/influencer
FROM node:22.21.1-bookworm-slim

ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps

WORKDIR /app
COPY migrate.js migrate.js.map ./

USER node

CMD ["node", "migrate.js"]
