// nginx as the benchmarks run it (bench/run.ts, bench/tls.ts): one process, one worker, every path inside
// the work directory, and the reverse-proxy location that does the same header work Portico does.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Writes `<work>/<name>/nginx.conf` around `server` (the http block's content) and returns its path. */
export function nginxConf(work: string, name: string, server: string): string {
  mkdirSync(join(work, name, "logs"), { recursive: true });
  const file = join(work, name, "nginx.conf");
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
    .map((kind) => `${kind}_temp_path ${join(work, name, kind)};`)
    .join("\n  ");
  writeFileSync(
    file,
    `daemon off;
master_process off;
worker_processes 1;
error_log ${join(work, name, "logs", "error.log")} warn;
pid ${join(work, name, "nginx.pid")};
events { worker_connections 4096; }
http {
  access_log off;
  ${temps}
  keepalive_requests 1000000;
  ${server}
}
`,
  );
  return file;
}

/**
 * `location /` proxying to the `upstream backend` block: Host, X-Real-IP, X-Forwarded-*, HTTP/1.1 keep-alive
 * to the upstream, request bodies streamed.
 */
export const PROXY_LOCATION = `location / {
      proxy_pass http://backend;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $proxy_host;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Port $server_port;
      proxy_request_buffering off;
    }`;
