// Small text scanners shared by the rules: indexOf-based equivalents of regexes that V8 would otherwise run over the
// whole document on every edit (a pattern that starts with \b or an alternation cannot use a fast literal search).

/** [A-Za-z0-9_] — a regex word character. */
export function isWordChar(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}

/** A character JavaScript's \s matches. */
export function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13) || c === 160 || c === 0xfeff || c === 0x2028 || c === 0x2029 ||
    (c >= 0x2000 && c <= 0x200a) || c === 0x1680 || c === 0x202f || c === 0x205f || c === 0x3000;
}

/**
 * Offsets of `\bNAME\s*\(` for each of `names` (identifiers), in text order — the matches of
 * new RegExp(`\\b(${names.join('|')})\\s*\\(`, 'g') when no name is a prefix of another.
 */
export function callSites(text: string, names: readonly string[]): Array<{ index: number; name: string }> {
  const out: Array<{ index: number; name: string }> = [];
  for (const name of names) {
    for (let i = text.indexOf(name); i >= 0; i = text.indexOf(name, i + 1)) {
      if (i > 0 && isWordChar(text.charCodeAt(i - 1))) continue;
      let j = i + name.length;
      while (j < text.length && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) === 40 /* ( */) out.push({ index: i, name });
    }
  }
  if (names.length > 1) out.sort((a, b) => a.index - b.index);
  return out;
}
