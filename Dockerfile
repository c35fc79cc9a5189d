# plugboard in a container. Node.js is in the runtime image because most MCP
# servers are started with npx; add what your own servers need (uv, python).
#
#   docker build -t plugboard .
#   docker run -i --rm -v $PWD/examples:/config plugboard --config /config/claude_desktop_config.json
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/plugboard ./cmd/plugboard \
 && CGO_ENABLED=0 go build -trimpath -ldflags="-s -w" -o /out/mcp-fixture ./cmd/mcp-fixture

FROM node:24-bookworm-slim
COPY --from=build /out/plugboard /out/mcp-fixture /usr/local/bin/
USER node
WORKDIR /home/node
ENTRYPOINT ["plugboard"]
CMD ["stdio"]
