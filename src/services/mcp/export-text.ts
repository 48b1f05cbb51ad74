import { ApiError } from "../../lib/errors.js";

/**
 * The most one resource's text may be. A resource is read whole into one message, so it is held in memory
 * whole; past this the REST export, which streams, is the way to get it.
 */
export const MAX_RESOURCE_BYTES = 4 * 1024 * 1024;

/**
 * An export's stream as text, read a chunk at a time and given up (the stream cancelled, nothing more read)
 * as soon as it passes `maxBytes`: 413 `PAYLOAD_TOO_LARGE` naming `instead`, the streamed way to get it.
 * @example
 * const csv = await exportText(file.stream, { instead: `GET /api/v1/extraction/jobs/${id}/export?format=csv` });
 */
export const exportText = async (
  stream: ReadableStream<Uint8Array>,
  options: { instead: string; maxBytes?: number },
) => {
  const maxBytes = options.maxBytes ?? MAX_RESOURCE_BYTES;
  const reader = stream.getReader();
  const decoder = new TextDecoder();
  let bytes = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > maxBytes) {
      await reader.cancel();
      throw new ApiError(
        "PAYLOAD_TOO_LARGE",
        `This result is larger than ${maxBytes} bytes, more than one MCP message should carry; download it with ${options.instead}.`,
      );
    }
    text += decoder.decode(value, { stream: true });
  }
  return text + decoder.decode();
};
