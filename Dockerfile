# zg-gateway as a container: multi-stage (the build's dev dependencies and sources stay in the
# first stage), production dependencies only (`npm ci --omit=dev`), run as the unprivileged `node`
# user. Not built in this repository's CI: see README, "Containers".
#
#   docker build -t zg-gateway .
#   docker run --rm -p 3000:3000 -e ADMIN_TOKEN=... -v "$PWD/gateway.yaml:/etc/zg-gateway/gateway.yaml:ro" zg-gateway

FROM node:20-bookworm-slim AS build
WORKDIR /src
# Manifests first: the dependency layer is reused while only sources change.
COPY package.json package-lock.json ./
COPY packages/zg-devnet/package.json packages/zg-devnet/
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig*.json ./
COPY scripts ./scripts
COPY src.ts ./src.ts
COPY example ./example
COPY test ./test
COPY bench ./bench
COPY packages/zg-devnet ./packages/zg-devnet
RUN npm run build

FROM node:20-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
COPY packages/zg-devnet/package.json packages/zg-devnet/
# Production dependencies only; no install scripts run (none is needed at run time).
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/lib.commonjs ./lib.commonjs
# The devnet (a test network) is not shipped: `zg-gateway devnet` is not available in the image.
USER node
EXPOSE 3000
# Listen on every interface inside the container; clients need keys there (apiKeys, keysFile or the store's keys).
ENV HOST=0.0.0.0 PORT=3000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s CMD ["node", "-e", "fetch('http://127.0.0.1:3000/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "lib.commonjs/cli/main.js"]
CMD ["serve", "--config", "/etc/zg-gateway/gateway.yaml", "--log-format", "json"]
