# plugboard in a container. Node.js is in the runtime image because most MCP
# servers are started with npx; add what your own servers need (uv, python).
#
#   docker build -t plugboard .
#
# By default it runs `plugboard serve` for many clients, on 0.0.0.0:8931,
# with the configuration mounted at /config/config.yaml:
#
#   docker run -d --init --name plugboard -p 127.0.0.1:8931:8931 \
#     -v $PWD/config.yaml:/config/config.yaml:ro -v plugboard-state:/state plugboard
#   docker exec plugboard plugboard token     # the bearer token clients send
#
# For one desktop client or the MCP Inspector, over stdin/stdout:
#
#   docker run -i --rm --init -v $PWD/config.yaml:/config/config.yaml:ro plugboard stdio
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/plugboard ./cmd/plugboard \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/mcp-fixture ./cmd/mcp-fixture

FROM node:24-bookworm-slim
COPY --from=build /out/plugboard /out/mcp-fixture /usr/local/bin/
# /state is the state directory's parent (XDG_RUNTIME_DIR): the socket, the
# generated token and the server records go in /state/plugboard, which
# plugboard creates with mode 0700. A named volume there keeps the token
# across new containers.
RUN mkdir /config && mkdir -m 0700 /state && chown node:node /state
ENV PLUGBOARD_CONFIG=/config/config.yaml \
    PLUGBOARD_LISTEN=0.0.0.0:8931 \
    XDG_RUNTIME_DIR=/state
USER node
WORKDIR /home/node
VOLUME /state
EXPOSE 8931
# Healthy when serve's /healthz answers on the port it listens on (from
# --listen or PLUGBOARD_LISTEN). It asks the HTTP front, the thing clients
# use, not the downstream servers, whose failures plugboard survives and
# `plugboard status` reports. The image has node but no curl. A container
# running stdio has no HTTP front and counts as healthy.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s CMD node -e ' \
  const args = require("fs").readFileSync("/proc/1/cmdline", "utf8").split(String.fromCharCode(0)); \
  if (!args.includes("serve")) process.exit(0); \
  let addr = process.env.PLUGBOARD_LISTEN || "127.0.0.1:8931"; \
  args.forEach((a, i) => { if (a === "--listen") addr = args[i + 1]; else if (a.startsWith("--listen=")) addr = a.slice(9); }); \
  fetch("http://127.0.0.1:" + addr.split(":").pop() + "/healthz", { signal: AbortSignal.timeout(4000) }) \
    .then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1));'
ENTRYPOINT ["plugboard"]
CMD ["serve"]
