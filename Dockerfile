# nodens image: compile in a build stage, run the compiled dist/ with production dependencies only.
#   docker build -t nodens:0.1.0 .
#   docker run --rm -p 1053:53/udp -v $PWD/examples/demo:/etc/nodens nodens:0.1.0 -conf /etc/nodens/Corefile
# Node 24, the LTS (Krypton), pinned to the release CI tests (.ci/run installs the same version from npm);
# npm run bench measured it against 22 and 26 (README.md, "Runtime").

FROM node:24.21.0-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles, and the sources are not here yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY bin ./bin
COPY core ./core
COPY plugins ./plugins
RUN npm run build

FROM node:24.21.0-bookworm-slim
ENV NODE_ENV=production
# dumb-init as PID 1, so that `kill -USR1 1` reloads as it does CoreDNS: node runs with --disable-sigusr1 (no
# signal can open its inspector, not even before the CLI listens), which blocks SIGUSR1 in node altogether,
# so dumb-init rewrites SIGUSR1 (10) to SIGHUP (1), which nodens also reloads on.
RUN apt-get update && apt-get install -y --no-install-recommends dumb-init && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would run tsc, which is a dev dependency; dist/ comes from the build stage.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /src/dist ./dist
# Non-root. Port 53 is opened to it by the pod's net.ipv4.ip_unprivileged_port_start sysctl (see
# examples/kubernetes/deployment.yaml); Docker sets that sysctl to 0 in containers by default.
USER node
# DNS, prometheus, health, ready.
EXPOSE 53/udp 53/tcp 9153 8080 8181
# --max-semi-space-size=16: Node 24 lets the young generation grow to 128 MB committed; capped at 16 MB it
# stays within 32 MB while answering (the 10k Service / 100k endpoint index: ~100 MB RSS after sync, 105-108
# while answering), at no measured cost per query (test/bench/inject.ts; 1 MB did cost CPU).
# In NODE_OPTIONS so that workers inherit it and a deployment can change it; test/bench reads it from here.
ENV NODE_OPTIONS=--max-semi-space-size=16
ENTRYPOINT ["dumb-init", "--single-child", "--rewrite", "10:1", "--", "node", "--disable-sigusr1", "dist/bin/nodens.js"]
CMD ["-conf", "/etc/nodens/Corefile"]
