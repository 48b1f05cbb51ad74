// The argon2 WebAssembly module, imported as a module (Workers forbid compiling WebAssembly from bytes at run
// time; wrangler hands `.wasm` imports over as compiled `WebAssembly.Module`s). Kept in a file of its own and
// loaded with a dynamic import, so Node tools that build the app (the OpenAPI export) never load it.
import wasm from "@phi-ag/argon2/argon2.wasm";

export default wasm;
