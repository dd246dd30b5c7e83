// One table of routing cases (Kong traditional_compatible). It drives the router's unit tests
// (test/unit/router.test.ts) and the black-box routing suite through the real gateway
// (test/proxy/routing.test.ts). Routes are created in the order given; `{port}` in a host stands for the
// proxy listener's port (8000 in unit tests).

export type CaseRoute = {
  name: string;
  paths?: string[];
  hosts?: string[];
  methods?: string[];
  headers?: Record<string, string[]>;
  regex_priority?: number;
  strip_path?: boolean;
};

export type CaseRequest = {
  method?: string;
  path: string;
  host?: string;
  headers?: Record<string, string>;
  /** Route name expected to match, or null for no match (404). */
  expect: string | null;
  /** The part of the path that matched (what strip_path removes), when the case is about it. */
  matched?: string;
};

export type RoutingCase = {
  name: string;
  routes: CaseRoute[];
  requests: CaseRequest[];
  /** Needs distinct created_at seconds, which only the unit test can set. */
  unitOnly?: boolean;
};

export const ROUTING_CASES: RoutingCase[] = [
  {
    name: "a prefix matches itself and anything longer (plain string prefix)",
    routes: [{ name: "foo", paths: ["/foo"] }],
    requests: [
      { path: "/foo", expect: "foo", matched: "/foo" },
      { path: "/foo/bar", expect: "foo" },
      { path: "/foobar", expect: "foo" },
      { path: "/fo", expect: null },
      { path: "/", expect: null },
    ],
  },
  {
    name: "a prefix with a trailing slash needs it",
    routes: [{ name: "slash", paths: ["/foo/"] }],
    requests: [
      { path: "/foo/", expect: "slash" },
      { path: "/foo/x", expect: "slash" },
      { path: "/foo", expect: null },
    ],
  },
  {
    name: "the longest prefix wins",
    routes: [
      { name: "short", paths: ["/a"] },
      { name: "long", paths: ["/a/b"] },
      { name: "root", paths: ["/"] },
    ],
    requests: [
      { path: "/a/b/c", expect: "long" },
      { path: "/a/x", expect: "short" },
      { path: "/ab", expect: "short" },
      { path: "/zzz", expect: "root" },
    ],
  },
  {
    name: "paths are matched in normal form: dot segments, // and escaped unreserved characters",
    routes: [
      { name: "public", paths: ["/public"] },
      { name: "admin", paths: ["/admin"] },
    ],
    requests: [
      { path: "/public/../admin", expect: "admin" },
      { path: "/public/%2E%2E/admin", expect: "admin" },
      { path: "/%61dmin/x", expect: "admin" },
      { path: "//admin", expect: "admin" },
      { path: "/./public/./x", expect: "public" },
      { path: "/%2Fadmin", expect: null },
    ],
  },
  {
    name: "a regex path is anchored at the start and may end with $",
    routes: [
      { name: "items", paths: ["~/items/\\d+$"] },
      { name: "any-x", paths: ["~/x\\d"] },
    ],
    requests: [
      { path: "/items/12", expect: "items", matched: "/items/12" },
      { path: "/items/12/x", expect: null },
      { path: "/x1/more", expect: "any-x", matched: "/x1" },
      { path: "/a/x1", expect: null },
    ],
  },
  {
    name: "a regex path beats a longer prefix",
    routes: [
      { name: "prefix", paths: ["/api/v1/users"] },
      { name: "regex", paths: ["~/api/v\\d+"] },
    ],
    requests: [
      { path: "/api/v1/users/1", expect: "regex", matched: "/api/v1" },
      { path: "/api/vX/users", expect: null },
    ],
  },
  {
    name: "regex_priority orders regex paths",
    routes: [
      { name: "low", paths: ["~/r/\\w+"], regex_priority: 1 },
      { name: "high", paths: ["~/r/a"], regex_priority: 5 },
    ],
    requests: [
      { path: "/r/abc", expect: "high" },
      { path: "/r/bcd", expect: "low" },
    ],
  },
  {
    name: "regex_priority does not lift a prefix path",
    routes: [
      { name: "prefix", paths: ["/q"], regex_priority: 100 },
      { name: "regex", paths: ["~/q"] },
    ],
    requests: [{ path: "/q/1", expect: "regex" }],
  },
  {
    name: "more matcher kinds win over a longer path",
    routes: [
      { name: "path-only", paths: ["/p/longer"] },
      { name: "path-method", paths: ["/p"], methods: ["GET"] },
    ],
    requests: [
      { path: "/p/longer", method: "GET", expect: "path-method" },
      { path: "/p/longer", method: "POST", expect: "path-only" },
      { path: "/p", method: "POST", expect: null },
    ],
  },
  {
    name: "methods match exactly",
    routes: [
      { name: "get", paths: ["/m"], methods: ["GET", "HEAD"] },
      { name: "post", paths: ["/m"], methods: ["POST"] },
    ],
    requests: [
      { path: "/m", method: "GET", expect: "get" },
      { path: "/m", method: "HEAD", expect: "get" },
      { path: "/m", method: "POST", expect: "post" },
      { path: "/m", method: "PUT", expect: null },
    ],
  },
  {
    name: "hosts: exact (case-insensitive, any port), leading and trailing wildcards",
    routes: [
      { name: "exact", hosts: ["API.example.com"] },
      { name: "suffix", hosts: ["*.example.com"] },
      { name: "prefix", hosts: ["example.*"] },
    ],
    requests: [
      { path: "/", host: "api.example.com", expect: "exact" },
      { path: "/", host: "api.example.com:1234", expect: "exact" },
      { path: "/", host: "www.example.com", expect: "suffix" },
      { path: "/", host: "a.b.example.com", expect: "suffix" },
      { path: "/", host: "example.com", expect: "prefix" },
      { path: "/", host: "example.org", expect: "prefix" },
      { path: "/", host: "myexample.org", expect: null },
      { path: "/", host: "other.net", expect: null },
    ],
  },
  {
    name: "a host with a port also needs the destination port",
    routes: [
      { name: "with-port", hosts: ["svc.test:{port}"] },
      { name: "wrong-port", hosts: ["other.test:1"] },
    ],
    requests: [
      { path: "/", host: "svc.test", expect: "with-port" },
      { path: "/", host: "other.test", expect: null },
    ],
  },
  {
    name: "plain hosts beat wildcards; a plain host beats a path",
    routes: [
      { name: "wild", hosts: ["*.example.com"], paths: ["/h"] },
      { name: "plain", hosts: ["api.example.com"], paths: ["/h"] },
      { name: "host-only", hosts: ["solo.test"] },
      { name: "path-only", paths: ["/h/long/path"] },
    ],
    requests: [
      { path: "/h", host: "api.example.com", expect: "plain" },
      { path: "/h", host: "web.example.com", expect: "wild" },
      { path: "/h/long/path", host: "solo.test", expect: "host-only" },
      { path: "/h/long/path", host: "nobody.test", expect: "path-only" },
    ],
  },
  {
    name: "a path beats a wildcard host when both are the only matcher",
    routes: [
      { name: "wild-only", hosts: ["*.w.test"] },
      { name: "path", paths: ["/w"] },
    ],
    requests: [
      { path: "/w", host: "a.w.test", expect: "path" },
      { path: "/x", host: "a.w.test", expect: "wild-only" },
    ],
  },
  {
    name: "headers: case-insensitive values, ~* regexes, any of several values",
    routes: [
      { name: "v1", paths: ["/h"], headers: { "X-Version": ["v1", "one"] } },
      { name: "re", paths: ["/h"], headers: { "x-client": ["~*^mobile-\\d+$"] } },
    ],
    requests: [
      { path: "/h", headers: { "x-version": "V1" }, expect: "v1" },
      { path: "/h", headers: { "x-version": "one" }, expect: "v1" },
      { path: "/h", headers: { "x-version": "v2" }, expect: null },
      { path: "/h", headers: { "x-client": "Mobile-42" }, expect: "re" },
      { path: "/h", headers: { "x-client": "mobile-x" }, expect: null },
      { path: "/h", expect: null },
    ],
  },
  {
    name: "more headers win; headers count beats regex-ness",
    routes: [
      { name: "one", paths: ["/hh"], headers: { a: ["1"] } },
      { name: "two", paths: ["/hh"], headers: { a: ["1"], b: ["2"] } },
      { name: "regex-one", paths: ["~/hh"], headers: { a: ["1"] } },
    ],
    requests: [
      { path: "/hh", headers: { a: "1", b: "2" }, expect: "two" },
      { path: "/hh", headers: { a: "1" }, expect: "regex-one" },
    ],
  },
  {
    name: "a route with several paths matches on any; strip uses the path that matched",
    routes: [{ name: "multi", paths: ["/one", "/two/deeper", "~/three/\\d"] }],
    requests: [
      { path: "/one/x", expect: "multi", matched: "/one" },
      { path: "/two/deeper/x", expect: "multi", matched: "/two/deeper" },
      { path: "/three/3/x", expect: "multi", matched: "/three/3" },
      { path: "/two/x", expect: null },
    ],
  },
  {
    name: "a route's paths rank separately against other routes",
    routes: [
      { name: "multi", paths: ["/s", "/s/very/long"] },
      { name: "middle", paths: ["/s/very"] },
    ],
    requests: [
      { path: "/s/very/long/x", expect: "multi", matched: "/s/very/long" },
      { path: "/s/very/x", expect: "middle" },
      { path: "/s/x", expect: "multi", matched: "/s" },
    ],
  },
  {
    name: "on a full tie the oldest route wins",
    unitOnly: true,
    routes: [
      { name: "older", paths: ["/tie"] },
      { name: "newer", paths: ["/tie"] },
    ],
    requests: [{ path: "/tie", expect: "older" }],
  },
];
