/** Writes every byte: one `write` on a pipe, socket or terminal may take only some of them. */
export async function writeAll(
  target: { write(bytes: Uint8Array): Promise<number> },
  bytes: Uint8Array,
): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await target.write(bytes.subarray(written));
}
