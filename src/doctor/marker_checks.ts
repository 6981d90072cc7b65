/**
 * doctor's marker checks: the `.awsvault` marker governing the current directory, and the
 * markers below it (a bounded walk: a few levels, no hidden directories, no node_modules, no
 * symlinked directories), each with its trust state and whether it names a usable profile. The
 * trust store's records under the directory add what the walk cannot see: markers edited since
 * they were allowed, and records of markers that are gone.
 */
import type { App } from "../app.ts";
import type { AwsConfig } from "../aws/aws_config.ts";
import { displayPath } from "../util/display_path.ts";
import { pathKind } from "../util/path_kind.ts";
import { errorMessage, VaultshError } from "../errors.ts";
import { findMarker } from "../marker/find_marker.ts";
import { loadMarker, MARKER_FILE, showPath } from "../marker/marker.ts";
import { markerExposure } from "../marker/marker_exposure.ts";
import { markerLocation, type TrustRecord, TrustStore } from "../marker/trust_store.ts";
import { realPath } from "./real_path.ts";
import { type Finding, finding } from "./finding.ts";

/** How far below the current directory doctor looks for markers. */
const MAX_DEPTH = 3;
const MAX_DIRECTORIES = 2_000;
const SKIPPED_DIRECTORIES = new Set(["node_modules", "vendor", "target", "dist", "build"]);

export interface MarkerContext {
  readonly config: AwsConfig | undefined;
  /** Stored key names (undefined when the keychain could not be listed). */
  readonly keys: ReadonlySet<string> | undefined;
}

export async function checkMarkers(app: App, context: MarkerContext): Promise<Finding[]> {
  const findings: Finding[] = [];
  const cwd = workingDirectory(app);
  const trust = new TrustStore(`${app.settings.dataDir}/trust`);
  let records: TrustRecord[] = [];
  try {
    records = await trust.list();
  } catch (error) {
    findings.push(fromError(error));
  }
  const edited = new Set(records.filter((r) => r.state === "outdated").map((r) => r.path));

  const governing = await findMarker(cwd);
  if (governing === null) {
    findings.push(
      finding("markers", "info", `no ${MARKER_FILE} marker at or above ${showPath(cwd)}`),
    );
  } else {
    findings.push(...await examine(governing, trust, context, edited, true, app.settings.home));
  }

  const walk = await markersBelow(cwd);
  const seen = new Set<string>();
  if (governing !== null) seen.add(await location(governing));
  let trusted = 0;
  for (const marker of walk.markers) {
    const real = await location(marker);
    if (seen.has(real)) continue;
    seen.add(real);
    const result = await examine(marker, trust, context, edited, false, app.settings.home);
    if (result.length === 0) trusted++;
    findings.push(...result);
  }

  const realCwd = await realPath(cwd);
  const inside = (path: string) => path === realCwd || path.startsWith(`${realCwd}/`);
  for (const record of records) {
    // allowed markers deeper than the walk still count as trusted below here
    if (record.state === "allowed" && inside(record.path) && !seen.has(record.path)) {
      seen.add(record.path);
      trusted++;
    }
  }
  if (trusted > 0) {
    findings.push(
      finding(
        "markers",
        "ok",
        `${trusted} trusted marker${trusted === 1 ? "" : "s"} below ${showPath(cwd)}`,
      ),
    );
  }
  const gone = records.filter((record) => record.state === "missing" && inside(record.path));
  if (gone.length > 0) {
    findings.push(
      finding(
        "markers",
        "info",
        `${gone.length} trust record${gone.length === 1 ? "" : "s"} below ${showPath(cwd)} ` +
          `name${gone.length === 1 ? "s a marker" : " markers"} that no longer exist${
            gone.length === 1 ? "s" : ""
          } (harmless)`,
      ),
    );
  }
  if (walk.truncated) {
    findings.push(
      finding(
        "markers",
        "info",
        `stopped looking for markers below ${showPath(cwd)} after ${MAX_DIRECTORIES} directories`,
        "run vaultsh doctor from the project directory to check its markers",
      ),
    );
  }
  return findings;
}

/**
 * Findings for one marker. A trusted, valid marker below the current directory yields none
 * (it is counted instead); the governing one always yields one.
 */
async function examine(
  path: string,
  trust: TrustStore,
  context: MarkerContext,
  edited: ReadonlySet<string>,
  governing: boolean,
  home: string,
): Promise<Finding[]> {
  const shown = showPath(displayPath(path, home));
  let marker, content;
  try {
    ({ marker, content } = await loadMarker(path));
  } catch (error) {
    return [fromError(error)];
  }
  const findings: Finding[] = [];
  const exposure = await markerExposure(path);
  if (exposure !== undefined) {
    findings.push(
      finding(
        "markers",
        "warning",
        `${shown}: ${exposure}, so someone else may choose its profile`,
        `read it; vaultsh deny ${shellWord(path)} ignores it`,
      ),
    );
  }
  const { config, keys } = context;
  if (
    config !== undefined && !config.hasProfile(marker.profile) && keys?.has(marker.profile) !== true
  ) {
    findings.push(
      finding(
        "markers",
        "error",
        `${shown} names profile "${marker.profile}", which is neither in ` +
          `${displayPath(config.configFile, home)} nor stored`,
        `fix the marker, or add the profile (vaultsh add ${marker.profile})`,
      ),
    );
  }
  let state;
  try {
    state = await trust.status(path, content);
  } catch (error) {
    return [...findings, fromError(error)];
  }
  const command = shellWord(path);
  switch (state) {
    case "allowed":
      if (governing) {
        findings.push(
          finding(
            "markers",
            "ok",
            `${shown} (profile "${marker.profile}") governs here and is trusted`,
          ),
        );
      }
      break;
    case "untrusted": {
      const changed = edited.has(await location(path)) ? " (edited since it was allowed)" : "";
      findings.push(
        finding(
          "markers",
          "warning",
          `${shown} wants profile "${marker.profile}" but is not trusted${changed}, so it does nothing`,
          `read it, then: vaultsh allow ${command}`,
        ),
      );
      break;
    }
    case "denied":
      findings.push(
        finding(
          "markers",
          "info",
          `${shown} (profile "${marker.profile}") is denied and ignored`,
          `vaultsh allow ${command} trusts it`,
        ),
      );
      break;
  }
  return findings;
}

/** Markers in directories below `root`, breadth first, within the bounds above. */
async function markersBelow(root: string): Promise<{ markers: string[]; truncated: boolean }> {
  const markers: string[] = [];
  let queue: string[] = [root];
  let visited = 0;
  for (let depth = 0; depth <= MAX_DEPTH && queue.length > 0; depth++) {
    const next: string[] = [];
    for (const dir of queue) {
      if (++visited > MAX_DIRECTORIES) return { markers, truncated: true };
      try {
        for await (const entry of Deno.readDir(dir)) {
          const path = `${dir === "/" ? "" : dir}/${entry.name}`;
          if (entry.name === MARKER_FILE) {
            if (depth > 0 && await pathKind(path) === "file") markers.push(path);
          } else if (
            entry.isDirectory && !entry.name.startsWith(".") && !SKIPPED_DIRECTORIES.has(entry.name)
          ) {
            next.push(path);
          }
        }
      } catch {
        // unreadable directory: the hooks cannot see into it either
      }
    }
    queue = next.sort();
  }
  return { markers, truncated: false };
}

/** The shell's logical $PWD when it names the current directory, as the hooks see it. */
function workingDirectory(app: App): string {
  const cwd = Deno.cwd();
  const pwd = app.settings.env.PWD;
  if (pwd === undefined || !pwd.startsWith("/")) return cwd;
  try {
    return Deno.realPathSync(pwd) === Deno.realPathSync(cwd) ? pwd : cwd;
  } catch {
    return cwd;
  }
}

/** A marker's location as the trust store records it; the path itself when it cannot be had. */
async function location(marker: string): Promise<string> {
  try {
    return await markerLocation(marker);
  } catch {
    return marker;
  }
}

/** A path as one word to paste into a shell; escaped instead when it holds control characters. */
function shellWord(path: string): string {
  if (showPath(path) !== path) return showPath(path);
  return /^[\w@%+=:,./-]+$/.test(path) ? path : `'${path.replaceAll("'", `'\\''`)}'`;
}

function fromError(error: unknown): Finding {
  if (error instanceof VaultshError) {
    return finding("markers", "error", `${error.what}: ${error.why}`, error.hint);
  }
  return finding("markers", "error", errorMessage(error));
}
