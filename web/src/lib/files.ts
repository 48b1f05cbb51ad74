import { API_BASE, problemFromResponse, toProblem } from "../api/client";
import { authFetch, getAccessToken, refresh } from "./session";

/** Fetches a file from the API with the session's token and hands it to the browser as a download. */
export const downloadFile = async (path: string, fallbackName: string) => {
  const response = await authFetch(new Request(`${API_BASE}${path}`));
  if (!response.ok) throw await problemFromResponse(response);
  const disposition = response.headers.get("content-disposition") ?? "";
  const name = /filename="?([^";]+)"?/.exec(disposition)?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await response.blob());
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
  return name;
};

/**
 * Uploads a file as multipart form data with progress (fetch has no upload progress, XMLHttpRequest does).
 * A 401 is retried once after a silent refresh.
 */
export const uploadWithProgress = <T>(path: string, file: File, onProgress: (fraction: number) => void): Promise<T> => {
  const attempt = (retried: boolean): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `${API_BASE}${path}`);
      const token = getAccessToken();
      if (token) xhr.setRequestHeader("authorization", `Bearer ${token}`);
      xhr.upload.onprogress = (event) => {
        if (event.lengthComputable) onProgress(event.loaded / event.total);
      };
      xhr.onerror = () => reject(toProblem(new TypeError("network")));
      xhr.onload = () => {
        if (xhr.status === 401 && !retried) {
          void refresh().then((ok) =>
            ok ? attempt(true).then(resolve, reject) : reject(toProblem({ detail: "Sign in again." }, 401)),
          );
          return;
        }
        const response = new Response(xhr.responseText, { status: xhr.status });
        if (xhr.status >= 200 && xhr.status < 300) {
          onProgress(1);
          resolve(JSON.parse(xhr.responseText) as T);
        } else void problemFromResponse(response).then(reject);
      };
      const form = new FormData();
      form.append("file", file, file.name);
      xhr.send(form);
    });
  return attempt(false);
};
