/** The path with the home directory shown as `~`, for messages. */
export function displayPath(path: string, home: string): string {
  return home !== "" && home !== "/" && path.startsWith(`${home}/`)
    ? `~${path.slice(home.length)}`
    : path;
}
