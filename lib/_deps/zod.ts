/**
 * The one place zod is imported from, so the version is pinned once and a
 * later switch (for example to a JSR build) touches only this file.
 *
 * @module
 */
export { z } from "npm:zod@^4.1.0";
export type { ZodError } from "npm:zod@^4.1.0";
