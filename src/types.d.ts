// Bun imports text files with `with { type: "text" }`; TypeScript needs to know what they are.
declare module "*.sql" {
  const text: string;
  export default text;
}
