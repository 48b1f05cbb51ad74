// Run-time settings of the web UI, read before it starts. Empty: the API origin the build was made for
// (VITE_APE_API_URL) is used. A deployment may set `window.APE_CONFIG = { apiUrl: "https://api.example.com" }`.
window.APE_CONFIG = window.APE_CONFIG ?? {};
