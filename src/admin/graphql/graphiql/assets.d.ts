// Gzipped GraphiQL assets are imported `with { type: "file" }`: Bun embeds them and hands back a path.
declare module "*.gz" {
  const path: string;
  export default path;
}
