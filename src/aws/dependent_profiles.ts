/** Profiles whose credentials derive from a given profile (it is in their source_profile chain). */
import type { AwsConfig } from "./aws_config.ts";

export function dependentProfiles(config: AwsConfig, source: string): string[] {
  const dependents: string[] = [];
  for (const name of config.profileNames()) {
    if (name === source) continue;
    let profile;
    try {
      profile = config.resolve(name);
    } catch {
      continue; // a broken profile elsewhere must not block removing a key
    }
    for (let link = profile.sourceProfile; link !== undefined; link = link.sourceProfile) {
      if (link.name === source) {
        dependents.push(name);
        break;
      }
    }
  }
  return dependents;
}
