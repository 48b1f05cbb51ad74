import { SNIFF_BYTES } from "./extract/detect.js";

/**
 * An uploaded file as the upload path handles it, never held whole more than once: `head` is its first bytes
 * (up to `SNIFF_BYTES`), enough to tell what it is; `stream` gives every byte, head included; `size` is known
 * before the first byte is stored (R2 needs it, and so does the quota).
 * @example
 * const source = await fileSource(file);
 * const detected = await detectKind({ bytes: source.head, complete: source.head.byteLength === source.size });
 */
export type UploadSource = { size: number; head: Uint8Array; stream: ReadableStream<Uint8Array> };

/**
 * A multipart part (a File the form parse already holds): the head is a slice of it, the stream reads it.
 * @example
 * const source = await fileSource(form.get("file") as File);
 */
export const fileSource = async (file: File): Promise<UploadSource> => ({
  size: file.size,
  head: new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer()),
  stream: file.stream(),
});

/**
 * A request body: its first chunks are read for the head and replayed at the front of the stream, the rest
 * flows as it arrives. With no length (a chunked body, already capped by the body guard) the body is read
 * whole, since R2 must know the size before it stores a stream; clients that send Content-Length stream.
 * @example
 * const source = await streamSource(request.body, Number(request.headers.get("content-length")));
 */
export const streamSource = async (body: ReadableStream<Uint8Array> | null, length: number | null) => {
  if (!body) return { size: 0, head: new Uint8Array(), stream: new Blob([]).stream() } satisfies UploadSource;
  if (length === null) {
    const whole = new Uint8Array(await new Response(body).arrayBuffer());
    return {
      size: whole.byteLength,
      head: whole.subarray(0, SNIFF_BYTES),
      stream: new Blob([whole]).stream(),
    } satisfies UploadSource;
  }
  const reader = body.getReader();
  const first: Uint8Array[] = [];
  let got = 0;
  while (got < SNIFF_BYTES) {
    const next = await reader.read();
    if (next.done) break;
    first.push(next.value);
    got += next.value.byteLength;
  }
  const head = new Uint8Array(Math.min(got, SNIFF_BYTES));
  let at = 0;
  for (const chunk of first) {
    if (at >= head.byteLength) break;
    head.set(chunk.subarray(0, head.byteLength - at), at);
    at += chunk.byteLength;
  }
  const replay = first.slice();
  const stream = new ReadableStream<Uint8Array>({
    async pull(controller) {
      const held = replay.shift();
      if (held) return controller.enqueue(held);
      const next = await reader.read();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    cancel: (reason) => reader.cancel(reason),
  });
  return { size: length, head, stream } satisfies UploadSource;
};

/**
 * Bytes APE made itself (a research report stored as a document).
 * @example
 * const source = bytesSource(new TextEncoder().encode(report));
 */
export const bytesSource = (bytes: Uint8Array): UploadSource => ({
  size: bytes.byteLength,
  head: bytes.subarray(0, SNIFF_BYTES),
  stream: new Blob([bytes]).stream(),
});
