# nodens image: compile in a build stage, run the compiled dist/ with production dependencies only.
#   docker build -t nodens:latest .
#   docker run --rm -p 1053:53/udp -v $PWD/examples/demo:/etc/nodens nodens:latest -conf /etc/nodens/Corefile

FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` compiles, and the sources are not here yet.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY bin ./bin
COPY core ./core
COPY plugins ./plugins
RUN npm run build

FROM node:20-bookworm-slim
ENV NODE_ENV=production
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
ENTRYPOINT ["node", "dist/bin/nodens.js"]
CMD ["-conf", "/etc/nodens/Corefile"]
