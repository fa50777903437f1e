import { ConfigError } from "@twist/shared/config";

/** The variable names a service's config loader refuses `env` for, sorted; [] when it accepts it. */
export function configProblems(load: (env: Record<string, string>) => unknown, env: Record<string, string>): string[] {
  try {
    load(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems.map((p) => p.name).sort();
    throw err;
  }
  return [];
}
