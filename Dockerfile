# hextwin server image: the server (run with tsx, no build step) and the built dashboard.
# docker build -t hextwin .
FROM node:20-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@10.34.9
# dependencies first, so code changes do not reinstall them
COPY package.json pnpm-lock.yaml pnpm-workspace.yaml ./
COPY shared/package.json shared/
COPY server/package.json server/
COPY web/package.json web/
COPY test/package.json test/
RUN pnpm install --frozen-lockfile
COPY . .
RUN pnpm --filter @hextwin/web build
# run unprivileged: the image's `node` user (uid 1000) owns only the data directory
RUN mkdir -p /data && chown node:node /data
USER node
WORKDIR /app/server
ENV HOST=0.0.0.0 PORT=4000 DATA_DIR=/data WEB_DIR=/app/web/dist NODE_ENV=production
EXPOSE 4000
HEALTHCHECK --interval=5s --timeout=3s --start-period=30s --retries=6 \
  CMD node -e "fetch('http://127.0.0.1:4000/readyz').then(r => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
CMD ["node", "--import", "tsx", "src/main.ts"]
