import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";
import { buildApiUrl, pagesHeadersFile } from "./security-headers.mjs";

// The API's base URL is fixed at build time: VITE_APE_API_URL (default http://127.0.0.1:8787, the local API).
const apiUrl = buildApiUrl(process.env);

/** Writes dist/_headers for Cloudflare Pages: the Content-Security-Policy names the API this build calls. */
const pagesHeaders = (): Plugin => ({
  name: "ape-pages-headers",
  apply: "build",
  generateBundle() {
    this.emitFile({ type: "asset", fileName: "_headers", source: pagesHeadersFile(apiUrl) });
  },
});

export default defineConfig({
  plugins: [react(), pagesHeaders()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: { port: 8788, host: "127.0.0.1" },
});
