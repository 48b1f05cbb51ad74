import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

// The API's base URL is fixed at build time: VITE_APE_API_URL (default http://127.0.0.1:8787, the local API).
export default defineConfig({
  plugins: [react()],
  build: { outDir: "dist", emptyOutDir: true, sourcemap: true, chunkSizeWarningLimit: 1500 },
  server: { port: 8788, host: "127.0.0.1" },
});
