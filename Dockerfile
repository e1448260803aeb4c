# syntax=docker/dockerfile:1
# The mayfly controller image: `docker build -t mayfly .` at the repository root.

# Build: all dependencies, then TypeScript to dist/.
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    MAYFLY_HOST=0.0.0.0 \
    MAYFLY_PORT=8080
WORKDIR /app
# The CA bundle of Amazon RDS, so the ledger URL can verify the server (sslmode=verify-full
# with sslrootcert); Node's own CA store does not hold it.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
ADD --chmod=0444 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The runner VM's boot script is read at run time (src/runner-vm/render-user-data.ts); the
# App manifest template, when the repository has it, by `mayfly app create`.
COPY cloud-init ./cloud-init
COPY package.json app-manifest.jso[n] ./
USER node
EXPOSE 8080
CMD ["node", "dist/cli.js", "serve"]
