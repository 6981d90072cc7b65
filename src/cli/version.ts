/** vaultsh's version, from deno.json. */
import meta from "../../deno.json" with { type: "json" };

export const VERSION: string = meta.version;
