/// <reference types="vite/client" />
interface ImportMetaEnv {
  /** The API's origin the build talks to, e.g. https://api.example.com (default http://127.0.0.1:8787). */
  readonly VITE_APE_API_URL?: string;
}
