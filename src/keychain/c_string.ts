/** NUL-terminated UTF-8 for FFI calls; C reads up to the first NUL, so a NUL inside is refused. */
const encoder = new TextEncoder();

export function nulTerminated(text: string): Uint8Array<ArrayBuffer> {
  if (text.includes("\0")) throw new RangeError("C strings cannot contain NUL characters");
  const bytes = new Uint8Array(encoder.encode(text).length + 1);
  encoder.encodeInto(text, bytes);
  return bytes;
}
