/**
 * Where a program name is looked for: the plan lists the candidate paths
 * and the helper tries them in order, as execvp does with $PATH.
 *
 * @module
 */

/** The PATH used when the process's environment has none. */
export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

function envValue(env: readonly string[], name: string): string | undefined {
  // The last definition wins, as the seed's TestExecInEnvironment expects.
  const prefix = `${name}=`;
  return env.findLast((entry) => entry.startsWith(prefix))?.slice(prefix.length);
}

/** The paths execve tries, in order, as execvp does with $PATH. */
export function execCandidates(file: string, env: readonly string[]): string[] {
  if (file.includes("/")) return [file];
  const path = envValue(env, "PATH") ?? DEFAULT_PATH;
  return path.split(":").filter((dir) => dir !== "").map((dir) =>
    `${dir.replace(/\/+$/, "")}/${file}`
  );
}
