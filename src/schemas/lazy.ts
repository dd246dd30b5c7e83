// Built on first use, then kept. Zod builds a schema eagerly (every field, check and default is an object
// graph made when the module runs), and the bundled entity and plugin schemas together were a large part of
// start-up; the first admin answer needs none of them. Schemas stay the single source of truth: each module
// still defines its schema once, as the function that builds it.
export function lazy<T>(build: () => T): () => T {
  let built: { value: T } | undefined;
  return () => {
    built ??= { value: build() };
    return built.value;
  };
}
