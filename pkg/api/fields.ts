/**
 * Field selectors (apimachinery fields.ParseSelector): `a=b`, `a==b` and `a!=b` terms joined by
 * commas, where `\` escapes `,`, `=`, `!` and `\` inside a value.
 */

export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

export class FieldSelectorParseError extends Error {}

export class FieldSelector {
  constructor(readonly requirements: FieldRequirement[]) {}

  static everything(): FieldSelector {
    return new FieldSelector([]);
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  /** The fields this selector reads, to check them against a resource's selectable fields. */
  fields(): string[] {
    return this.requirements.map((r) => r.field);
  }

  matches(fields: Record<string, string>): boolean {
    for (const r of this.requirements) {
      const v = fields[r.field] ?? '';
      if (r.operator === '=' ? v !== r.value : v === r.value) return false;
    }
    return true;
  }

  /** If the selector pins `field` to one value, that value (used to pick an index). */
  requiresExactMatch(field: string): string | undefined {
    return this.requirements.find((r) => r.field === field && r.operator === '=')?.value;
  }
}

function splitTerms(s: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1];
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else cur += c;
  }
  terms.push(cur);
  return terms;
}

function unescape(s: string): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c === '\\') {
      const n = s[i + 1];
      if (n === undefined || !'\\,=!'.includes(n)) throw new FieldSelectorParseError(`invalid field selector: invalid escape sequence in ${JSON.stringify(s)}`);
      out += n;
      i++;
    } else if (c === ',' || c === '=' || c === '!') {
      throw new FieldSelectorParseError(`invalid field selector: unescaped ${JSON.stringify(c)} in value ${JSON.stringify(s)}`);
    } else out += c;
  }
  return out;
}

/** Parses `?fieldSelector=`. Throws FieldSelectorParseError on malformed input. */
export function parseFieldSelector(s: string | undefined): FieldSelector {
  if (s === undefined || s.trim() === '') return FieldSelector.everything();
  const reqs: FieldRequirement[] = [];
  for (const term of splitTerms(s)) {
    if (term === '') continue;
    let idx = -1;
    let op: '=' | '!=' = '=';
    let opLen = 1;
    for (let i = 0; i < term.length; i++) {
      const c = term[i]!;
      if (c === '\\') {
        i++;
        continue;
      }
      if (c === '!' && term[i + 1] === '=') {
        idx = i;
        op = '!=';
        opLen = 2;
        break;
      }
      if (c === '=') {
        idx = i;
        op = '=';
        opLen = term[i + 1] === '=' ? 2 : 1;
        break;
      }
    }
    if (idx <= 0) throw new FieldSelectorParseError(`invalid selector: '${term}'; can't understand '${term}'`);
    const field = term.slice(0, idx).trim();
    const value = unescape(term.slice(idx + opLen));
    reqs.push({ field, operator: op, value });
  }
  return new FieldSelector(reqs);
}
