import assert from "node:assert/strict";

/**
 * Makes a directory read-only for vaultsh and returns the undo. Root ignores mode bits, so as
 * root the directory is made immutable (chattr +i: no entry can be created, renamed or removed).
 */
export async function readOnly(dir: string): Promise<() => Promise<void>> {
  if (Deno.uid() !== 0) {
    await Deno.chmod(dir, 0o500);
    return () => Deno.chmod(dir, 0o700);
  }
  const chattr = async (flag: string) => {
    const output = await new Deno.Command("chattr", { args: [flag, dir] }).output();
    assert.equal(output.code, 0, `chattr ${flag}: ${new TextDecoder().decode(output.stderr)}`);
  };
  await chattr("+i");
  return () => chattr("-i");
}

/** The tools readOnly() needs here. */
export function readOnlyTools(): string[] {
  return Deno.uid() === 0 ? ["chattr"] : [];
}
