/** A URL's host (`example.com`) to name what it points at; the text itself when it is not a URL. */
export const hostOf = (url: string) => {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
};
