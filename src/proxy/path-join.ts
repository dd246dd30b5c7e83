// The upstream path of a proxied request: Kong's v0 join of `service.path` with what is left of the request
// path once the matched prefix is stripped (kong/router/utils.lua; the only mode in traditional_compatible).

/**
 * After stripping, a leftover that starts with a dot segment (`/r..` → `..`) would let the upstream resolve
 * it above the service path: Kong drops it, and so do we.
 */
function sanitizePostfix(postfix: string): string {
  if (postfix === "." || postfix === "..") return "";
  if (postfix.startsWith("./")) return postfix.slice(2);
  if (postfix.startsWith("../")) return postfix.slice(3);
  return postfix;
}

/**
 * @param base     the service path, `/` when the service has none
 * @param matched  the part of the request path the route matched (prefix or regex match), stripped when
 *                 `strip` is true
 * @param path     the normalised request path
 */
export function joinUpstreamPath(base: string, matched: string, path: string, strip: boolean): string {
  const baseEndsWithSlash = base.endsWith("/");
  if (!strip) {
    if (baseEndsWithSlash) return base + path.slice(1);
    return path === "/" ? base : base + path;
  }
  const postfix = sanitizePostfix(path.slice(matched.length));
  if (baseEndsWithSlash) {
    if (postfix === "") {
      if (base === "/") return "/";
      return path.endsWith("/") ? base : base.slice(0, -1);
    }
    return postfix.startsWith("/") ? base.slice(0, -1) + postfix : base + postfix;
  }
  if (postfix === "") return path.length > 1 && path.endsWith("/") ? `${base}/` : base;
  return postfix.startsWith("/") ? base + postfix : `${base}/${postfix}`;
}
