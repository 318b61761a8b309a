# syntax=docker/dockerfile:1
# One image for every role: AIRLOCK_ROLE (or the first argument) picks api, worker,
# moderation or all. Node runs the TypeScript directly (ADR 0011), so there is no build
# stage: the first stage only installs production dependencies from the lockfile.
#
# The base is pinned by version and by the digest of its multi-arch index, so a rebuild
# gets the same bytes until someone moves the pin on purpose. The digest was read from
# public Dockerfiles that pin node:24.18.0-bookworm-slim (several independent projects
# agree on it); refresh both together with
#   docker buildx imagetools inspect node:24.18.0-bookworm-slim
# and take the "Digest:" of the index. See docs/deploy.md.
ARG NODE_IMAGE=node:24.18.0-bookworm-slim@sha256:6f7b03f7c2c8e2e784dcf9295400527b9b1270fd37b7e9a7285cf83b6951452d

FROM ${NODE_IMAGE} AS deps
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# No install scripts: no production dependency needs one (package.json "allowScripts").
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    AIRLOCK_ROLE=all \
    UNLEASH_BACKUP_DIR=/tmp/airlock-flags \
    NPM_CONFIG_UPDATE_NOTIFIER=false \
    NPM_CONFIG_CACHE=/tmp/.npm
WORKDIR /app
# Owned by root and not writable by the runtime user: the root filesystem can be mounted
# read-only, and only /tmp (a tmpfs or emptyDir) is written: the flag backup, and npm's
# cache and logs when an operator runs `npm run cli` in a container.
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json ./
COPY migrations ./migrations
COPY src ./src
# Data files the code reads at run time (the moderation lexicon).
COPY data ./data
# The runbooks the alerts link to; the API serves them at /runbooks/<Alert>.md (ADR 0023).
COPY runbooks ./runbooks
COPY scripts/unleash-seed.ts ./scripts/unleash-seed.ts
COPY deploy/compose/seed.sh ./deploy/compose/seed.sh
# The tests live beside the code; .dockerignore keeps them out of the context, and this
# makes sure none slipped in.
RUN if find src -name '*.test.ts' | grep -q .; then echo 'test files in the image' >&2; exit 1; fi
# The compose seeding step writes Alertmanager's API key here; a named volume mounted on
# this path starts with this ownership.
RUN mkdir -p /run/airlock-secrets && chown 1000:1000 /run/airlock-secrets
# The node user (uid 1000) from the base image; numeric so runAsNonRoot can verify it.
USER 1000:1000
EXPOSE 8080 8081 8082
# Liveness only: /livez on the port of AIRLOCK_ROLE (src/cli/healthcheck.ts).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "src/cli/healthcheck.ts"]
# Exec form: node is PID 1 and receives SIGTERM itself; src/main.ts installs the handlers
# that drain and exit 0. A shell or npm in between would swallow the signal.
ENTRYPOINT ["node", "src/main.ts"]
CMD []
