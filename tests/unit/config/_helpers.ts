/**
 * Helpers for the config tests: a small valid config to vary, and the
 * issues a `ConfigError` carries.
 *
 * @module
 */
import { ConfigError, type ConfigIssue } from "../../../lib/errors.ts";
import { type ConfigInput, parseConfig, type ValidateOptions } from "../../../lib/config/mod.ts";

/** A valid config with every namespace the checks ask for, plus `overrides`. */
export function input(overrides: Partial<ConfigInput> = {}): ConfigInput {
  return {
    rootfs: "/srv/box",
    namespaces: ["NEWNS", "NEWUTS", "NEWIPC", "NEWPID", "NEWNET"].map((type) => ({
      type,
    })) as ConfigInput["namespaces"],
    ...overrides,
  };
}

/** The issues `fn` throws as a `ConfigError`; fails when it throws nothing or something else. */
export function issuesOf(fn: () => unknown): ConfigIssue[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
  throw new Error("Expected a ConfigError, but nothing was thrown");
}

/** The issues `parseConfig` reports for `value`; empty when it is valid. */
export function issuesFor(value: unknown, options?: ValidateOptions): ConfigIssue[] {
  try {
    parseConfig(value, options);
    return [];
  } catch (error) {
    if (error instanceof ConfigError) return [...error.issues];
    throw error;
  }
}

/** The paths of the issues `parseConfig` reports for `value`. */
export function pathsFor(value: unknown, options?: ValidateOptions): string[] {
  return issuesFor(value, options).map((issue) => issue.path);
}
