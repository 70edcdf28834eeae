/**
 * Container ids name directories under the factory root, so they are
 * checked before anything touches the filesystem.
 *
 * @module
 */
import { ContainerError } from "../errors.ts";

// A leading dot is refused too: it rules out `.` and `..`, and leaves dot
// names under the state root to the runtime itself.
const ID_PATTERN = /^[A-Za-z0-9_+-][A-Za-z0-9_+.-]*$/;

/**
 * Checks a container id: 1 to 255 of `A-Z a-z 0-9 _ + . -`, not starting with a dot.
 *
 * @throws {ContainerError} `InvalidIdFormat`
 */
export function validateId(id: string): void {
  if (typeof id !== "string" || id.length > 255 || !ID_PATTERN.test(id)) {
    const text = String(id);
    const shown = JSON.stringify(text.length > 64 ? text.slice(0, 64) + "..." : text);
    throw new ContainerError(
      "InvalidIdFormat",
      `Invalid container id ${shown}: use 1 to 255 of A-Z a-z 0-9 _ + . - not starting with a dot`,
    );
  }
}
