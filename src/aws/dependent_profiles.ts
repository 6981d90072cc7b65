/** Profiles whose credentials derive from a given profile (it is in their source_profile chain). */
import { errorMessage } from "../errors.ts";
import type { AwsConfig } from "./aws_config.ts";

export interface Dependents {
  /** The profiles whose source_profile chain leads to the source. */
  readonly profiles: readonly string[];
  /** Profiles that do not resolve, so whether they derive from the source is unknown. */
  readonly unresolved: readonly { readonly name: string; readonly why: string }[];
}

export function dependentProfiles(config: AwsConfig, source: string): Dependents {
  const profiles: string[] = [];
  const unresolved: { name: string; why: string }[] = [];
  for (const name of config.profileNames()) {
    if (name === source) continue;
    let profile;
    try {
      profile = config.resolve(name);
    } catch (error) {
      // a broken profile elsewhere must not block removing or rotating a key
      unresolved.push({ name, why: errorMessage(error) });
      continue;
    }
    for (let link = profile.sourceProfile; link !== undefined; link = link.sourceProfile) {
      if (link.name === source) {
        profiles.push(name);
        break;
      }
    }
  }
  return { profiles, unresolved };
}
