import type { HonoRequest } from "hono";
import { ApiError } from "../../../lib/errors.js";
import { fileSource, streamSource, type UploadSource } from "../../../services/documents/upload-source.js";

/** A file as it arrived: its bytes as a source to stream, the name and the media type the client gave (both only hints). */
export type Upload = { source: UploadSource; filename?: string | undefined; declaredType?: string | undefined };

const mediaType = (value: string | undefined) => value?.split(";")[0]?.trim().toLowerCase() || undefined;

/** `attachment; filename="a.pdf"` or the RFC 5987 `filename*=UTF-8''a.pdf` of a Content-Disposition header. */
const filenameFromDisposition = (header: string | undefined) => {
  if (!header) return undefined;
  const extended = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(header)?.[1];
  if (extended) {
    try {
      return decodeURIComponent(extended.trim());
    } catch {
      return undefined;
    }
  }
  return /filename\s*=\s*"?([^";]+)"?/i.exec(header)?.[1]?.trim();
};

/**
 * Reads an upload from a request without copying it: a multipart form's `file` part (with an optional
 * `filename` field), streamed from the part the form parse made; or the raw body with its Content-Type and a
 * name from `?filename=` or Content-Disposition, streamed as it arrives. Hono caches the form, so the route's
 * form validator and this read share one parse.
 * @example
 * const upload = await readUpload(c.req, c.req.valid("query").filename);
 */
export const readUpload = async (request: HonoRequest, queryFilename: string | undefined): Promise<Upload> => {
  const type = mediaType(request.header("content-type"));
  if (type === "multipart/form-data") {
    const form = await request.formData();
    const file = form.get("file");
    if (!(file instanceof File)) {
      throw new ApiError("VALIDATION_FAILED", "body.file: a multipart upload needs a `file` part holding the file.", {
        extensions: { errors: [{ path: "body.file", message: "must be a file" }] },
      });
    }
    const named = form.get("filename");
    return {
      source: await fileSource(file),
      filename: (typeof named === "string" && named) || file.name || queryFilename,
      declaredType: mediaType(file.type),
    };
  }
  const length = Number(request.header("content-length") ?? Number.NaN);
  return {
    source: await streamSource(request.raw.body, Number.isInteger(length) && length >= 0 ? length : null),
    filename: queryFilename ?? filenameFromDisposition(request.header("content-disposition")),
    declaredType: type,
  };
};
