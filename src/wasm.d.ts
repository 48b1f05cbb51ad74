// wrangler (and the vitest plugin) turn `.wasm` imports into compiled WebAssembly modules.
declare module "*.wasm" {
  const module: WebAssembly.Module;
  export default module;
}
