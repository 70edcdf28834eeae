/**
 * Which cgroup layout a host has, from its mounted hierarchies: `v1` (one
 * hierarchy per controller or group of controllers), `v2` (the unified
 * hierarchy alone) or `hybrid` (v1 controllers beside a v2 mount, as
 * systemd sets up by default on older distributions, and this project's
 * development machine).
 *
 * It takes the hierarchies as input ({@link cgroupLayout} reads them), so
 * tests can describe any host.
 *
 * @module
 */
import { ContainerError } from "../errors.ts";
import type { Hierarchy } from "./hierarchies.ts";

/** The cgroup layout of a host. */
export type CgroupMode = "v1" | "hybrid" | "v2";

/**
 * The layout the hierarchies form. A v1 hierarchy that binds no controller
 * (systemd's `name=systemd`) does not count: beside a v2 mount that is v2.
 *
 * @throws {ContainerError} `SystemError` when no cgroup hierarchy is mounted.
 */
export function cgroupMode(hierarchies: readonly Hierarchy[]): CgroupMode {
  const v1 = hierarchies.some((h) =>
    h.version === 1 && h.subsystems.some((s) => !s.startsWith("name="))
  );
  const v2 = hierarchies.some((h) => h.version === 2);
  if (v1 && v2) return "hybrid";
  if (v1) return "v1";
  if (v2) return "v2";
  throw new ContainerError(
    "SystemError",
    "No cgroup hierarchy is mounted: neither a cgroup (v1) nor a cgroup2 filesystem",
  );
}
