# One image for every role; the command picks it (api, worker, moderation or all).
FROM node:24-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:24-bookworm-slim
ENV NODE_ENV=production HOST=0.0.0.0
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json ./
COPY migrations ./migrations
COPY src ./src
COPY data ./data
USER node
EXPOSE 8080 8081 8082
ENTRYPOINT ["node", "src/main.ts"]
CMD ["all"]
