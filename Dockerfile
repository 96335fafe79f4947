# syntax=docker/dockerfile:1
#
# authz-sidecar: built with the full toolchain, run with production dependencies only.
#
#   docker build -t authz-sidecar .
#   docker run --rm -p 8181:8181 -e AUTHZ_HOST=0.0.0.0 authz-sidecar   # reachable from the host
#
# Without a config the image serves the sample stores under /app/policies with no token issuer;
# mount a config and pass `serve --config FILE` (or AUTHZ_CONFIG) for real use, as
# deploy/kubernetes/sidecar.yaml does.

# Node 24 LTS (the sidecar supports 20.19+, 22 and 24; CI runs the test suite on 20 and 24).
# `--build-arg NODE_IMAGE=node:20-bookworm-slim` builds on Node 20 instead.
ARG NODE_IMAGE=node:24-bookworm-slim

# ---- build: compile TypeScript to dist/ ----
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Dependencies first: this layer is reused until package-lock.json changes.
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build
# The rest of the (allowlisted, see .dockerignore) context: bin/, policies/, openapi.yaml and
# config/ when there is one. config/ is made to exist so the runtime stage can always copy it.
COPY . .
RUN mkdir -p config

# ---- runtime: production dependencies and the built files, nothing else ----
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
# Owned by root and read-only to the process: the sidecar never writes its own code or policies.
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
COPY --from=build /app/policies ./policies
COPY --from=build /app/config ./config
COPY --from=build /app/openapi.yaml ./

# Listen address: the image deliberately does NOT set AUTHZ_HOST, so the sidecar keeps its
# default 127.0.0.1.
# - In a pod, containers share one network namespace: the app (and Envoy or nginx in front of it) reach the
#   sidecar on 127.0.0.1 already. Binding 0.0.0.0 would add reach from every other pod in the
#   cluster, and /v1/is-authorized trusts the principal its caller states, so any pod could ask
#   policy questions as anyone.
# - AUTHZ_HOST overrides `server.host` of a config file (env wins in the loader), so setting it
#   here would silently take that choice away from the mounted config.
# - What does need reach from outside the container opts in: `docker run -p` needs
#   `-e AUTHZ_HOST=0.0.0.0`; Kubernetes probes use exec (bin/healthcheck.js) instead of httpGet,
#   which comes from the node to the pod IP. The HEALTHCHECK below runs inside the container,
#   so it works with either bind.
# 8181: HTTP API and health. 9191: Envoy ext_authz gRPC (OPA-Envoy's usual port), once that door lands.
EXPOSE 8181 9191

# The node user of the base image, by number so Kubernetes' runAsNonRoot can verify it.
USER 1000:1000

HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "/app/bin/healthcheck.js", "/healthz"]

ENTRYPOINT ["node", "bin/authz-sidecar.js"]
CMD ["serve"]
