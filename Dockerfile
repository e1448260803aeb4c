# syntax=docker/dockerfile:1
# The mayfly controller image: `docker build -t mayfly .` at the repository root.
# ADD --checksum needs the Dockerfile frontend 1.6 or later, which `dockerfile:1` resolves to.
# https://github.com/moby/buildkit/releases/tag/dockerfile%2F1.6.0

# Node 24, the current LTS (the code runs on 20 and later), pinned by digest so a rebuild
# takes the same base; pass --build-arg NODE_IMAGE=node:24-bookworm-slim@sha256:... to move on.
ARG NODE_IMAGE=node:24-bookworm-slim@sha256:0e0ff40c39bc087845bfb27465a0df4ea419520094bc35842ff83dd8cbe6f9b6

# Build: all dependencies, then TypeScript to dist/. No dependency runs an install script
# (package-lock.json marks none with hasInstallScript), so none is allowed to.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Production dependencies only.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM ${NODE_IMAGE}
# The SHA-256 of Amazon RDS's global CA bundle. AWS adds certificates to the bundle from time
# to time; when the build stops on a checksum mismatch, review the new bundle and pass its
# hash: `curl -fsS https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem | sha256sum`.
ARG RDS_CA_SHA256=e5bb2084ccf45087bda1c9bffdea0eb15ee67f0b91646106e466714f9de3c7e3
RUN echo "$RDS_CA_SHA256" | grep -Eq '^[0-9a-f]{64}$' \
    || { echo "RDS_CA_SHA256: the bundle's SHA-256 (64 hex digits) is required" >&2; exit 1; }
ENV NODE_ENV=production \
    MAYFLY_HOST=0.0.0.0 \
    MAYFLY_PORT=8080
WORKDIR /app
# The CA bundle of Amazon RDS, so the ledger URL can verify the server (sslmode=verify-full
# with sslrootcert); Node's own CA store does not hold it. The build refuses other bytes.
# https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.SSL.html
ADD --checksum=sha256:${RDS_CA_SHA256} --chmod=0444 https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem /etc/ssl/certs/rds-global-bundle.pem
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The runner VM's boot script is read at run time (src/runner-vm/render-user-data.ts); the
# App manifest template, when the repository has it, by `mayfly app create`.
COPY cloud-init ./cloud-init
COPY package.json app-manifest.jso[n] ./
USER node
EXPOSE 8080
CMD ["node", "dist/cli.js", "serve"]
