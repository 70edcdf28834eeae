/**
 * Where a JSON text stops being JSON. `JSON.parse` names a position for
 * most errors but not all (an unexpected token only quotes the text), so
 * this small scanner finds the offset of the first bad character itself.
 *
 * @module
 */

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);
const MAX_DEPTH = 512;

/** Thrown inside the scanner at the offset of the first bad character. */
class Stop {
  constructor(readonly offset: number) {}
}

class Scanner {
  #i = 0;
  constructor(readonly text: string) {}

  run(): void {
    this.#value(0);
    this.#space();
    if (this.#i < this.text.length) this.#fail();
  }

  #fail(): never {
    throw new Stop(this.#i);
  }

  #space(): void {
    while (WHITESPACE.has(this.text[this.#i] ?? "")) this.#i++;
  }

  #expect(char: string): void {
    if (this.text[this.#i] !== char) this.#fail();
    this.#i++;
  }

  #value(depth: number): void {
    if (depth > MAX_DEPTH) this.#fail();
    this.#space();
    const char = this.text[this.#i];
    if (char === "{") this.#container("}", depth, true);
    else if (char === "[") this.#container("]", depth, false);
    else if (char === '"') this.#string();
    else if (char === "-" || (char !== undefined && char >= "0" && char <= "9")) this.#number();
    else if (char === "t") this.#word("true");
    else if (char === "f") this.#word("false");
    else if (char === "n") this.#word("null");
    else this.#fail();
  }

  #container(close: string, depth: number, object: boolean): void {
    this.#i++;
    this.#space();
    if (this.text[this.#i] === close) {
      this.#i++;
      return;
    }
    for (;;) {
      if (object) {
        this.#space();
        this.#string();
        this.#space();
        this.#expect(":");
      }
      this.#value(depth + 1);
      this.#space();
      if (this.text[this.#i] === close) {
        this.#i++;
        return;
      }
      this.#expect(",");
    }
  }

  #string(): void {
    this.#expect('"');
    for (;;) {
      const char = this.text[this.#i];
      if (char === undefined || char < " ") this.#fail();
      this.#i++;
      if (char === '"') return;
      if (char !== "\\") continue;
      const escape = this.text[this.#i];
      if (escape === "u") {
        if (!/^[0-9A-Fa-f]{4}$/.test(this.text.slice(this.#i + 1, this.#i + 5))) this.#fail();
        this.#i += 5;
      } else if (escape !== undefined && ESCAPES.has(escape)) {
        this.#i++;
      } else {
        this.#fail();
      }
    }
  }

  #digits(): void {
    const start = this.#i;
    while (/[0-9]/.test(this.text[this.#i] ?? "")) this.#i++;
    if (this.#i === start) this.#fail();
  }

  #number(): void {
    if (this.text[this.#i] === "-") this.#i++;
    if (this.text[this.#i] === "0") this.#i++;
    else this.#digits();
    if (this.text[this.#i] === ".") {
      this.#i++;
      this.#digits();
    }
    if (this.text[this.#i] === "e" || this.text[this.#i] === "E") {
      this.#i++;
      if (this.text[this.#i] === "+" || this.text[this.#i] === "-") this.#i++;
      this.#digits();
    }
  }

  #word(word: string): void {
    for (const char of word) this.#expect(char);
  }
}

/** Where the first syntax error in a JSON text is. */
export interface JsonErrorPosition {
  /** Offset of the first bad character (the text's length when it ends too early). */
  offset: number;
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
}

/** Finds the first syntax error in `text`, or `undefined` when it is valid JSON. */
export function jsonErrorPosition(text: string): JsonErrorPosition | undefined {
  try {
    new Scanner(text).run();
    return undefined;
  } catch (error) {
    if (!(error instanceof Stop)) throw error;
    const before = text.slice(0, error.offset);
    const line = before.split("\n").length;
    return { offset: error.offset, line, column: error.offset - before.lastIndexOf("\n") };
  }
}
