/**
 * Finds where a JSON text stops being valid. JSON.parse knows, but V8 only sometimes
 * puts the position in its message ("Unexpected token '}', ... is not valid JSON" has
 * none), and a client debugging a 400 needs the line and column. Only called after
 * JSON.parse has failed, so speed does not matter; iterative, so deep nesting cannot
 * overflow the stack.
 */
export interface TextPosition {
  offset: number;
  line: number;
  column: number;
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const WS = /[ \t\n\r]*/y;

/** The offset of the first syntax error, or undefined when the text is valid JSON. */
export function jsonErrorOffset(text: string): number | undefined {
  let i = 0;
  const stack: ("[" | "{")[] = [];
  const skipWs = () => {
    WS.lastIndex = i;
    WS.test(text);
    i = WS.lastIndex;
  };
  const string = (): boolean => {
    if (text[i] !== '"') return false;
    for (i++; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 0x22) return i++, true;
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[++i];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) return false;
          i += 4;
        } else if (e === undefined || !'"\\/bfnrt'.includes(e)) return false;
      }
    }
    return false;
  };
  const member = (): boolean => {
    skipWs();
    if (!string()) return false;
    skipWs();
    if (text[i] !== ":") return false;
    i++;
    return true;
  };

  let wantValue = true;
  for (;;) {
    skipWs();
    if (wantValue) {
      const c = text[i];
      if (c === "[" || c === "{") {
        stack.push(c);
        i++;
        skipWs();
        if (text[i] === (c === "[" ? "]" : "}")) {
          stack.pop();
          i++;
          wantValue = false;
        } else if (c === "{" && !member()) return i;
        continue;
      }
      if (c === '"') {
        if (!string()) return i;
      } else if (c === "t" || c === "f" || c === "n") {
        const word = c === "t" ? "true" : c === "f" ? "false" : "null";
        if (!text.startsWith(word, i)) return i;
        i += word.length;
      } else {
        NUMBER.lastIndex = i;
        if (!NUMBER.test(text)) return i;
        i = NUMBER.lastIndex;
      }
      wantValue = false;
      continue;
    }
    const top = stack[stack.length - 1];
    if (top === undefined) return i === text.length ? undefined : i;
    const c = text[i];
    if (c === (top === "[" ? "]" : "}")) {
      stack.pop();
      i++;
    } else if (c === ",") {
      i++;
      if (top === "{" && !member()) return i;
      wantValue = true;
    } else return i;
  }
}

export function positionOf(text: string, offset: number): TextPosition {
  let line = 1;
  let lineStart = 0;
  for (let i = text.indexOf("\n"); i !== -1 && i < offset; i = text.indexOf("\n", i + 1)) {
    line++;
    lineStart = i + 1;
  }
  return { offset, line, column: offset - lineStart + 1 };
}
