// What startGateway (server.ts) imports once the admin listener answers: the proxy plane, the snapshot
// rebuilder, the health checker, metrics, the heartbeat and the change watcher, with the modules they pull in
// (plugins, router, balancers). Inside the compiled bundle a module reached only through `import()` is
// evaluated when first imported, so the admin API's first answer does not wait for this code.
export { probeServices } from "../admin/service-health.ts";
export { SharedCounters } from "../plugins/rate-counters.ts";
export { HealthChecker } from "../proxy/balancer/health-checker.ts";
export { readOnlyStore } from "../store/read-only.ts";
export { clusterWideProxyCache } from "./cluster-cache-purge.ts";
export { defaultCertificate } from "./default-certificate.ts";
export { startHeartbeat } from "./heartbeat.ts";
export { nodeMetrics } from "./node-metrics.ts";
export { startLocalPlane } from "./proxy-plane.ts";
export { SnapshotRebuilder } from "./rebuilder.ts";
export { watchConfiguration } from "./watch.ts";
