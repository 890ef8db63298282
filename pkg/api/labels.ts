/**
 * Label selectors: the string form of `?labelSelector=` (apimachinery labels.Parse) and the
 * structured metav1.LabelSelector, with every operator: =, ==, !=, in, notin, exists, !exists,
 * gt and lt.
 */
import type { LabelSelector } from './types.js';
import { isQualifiedName, isValidLabelValue } from './validation.js';

export type Operator = 'exists' | '!' | '=' | '==' | '!=' | 'in' | 'notin' | 'gt' | 'lt';

export interface Requirement {
  key: string;
  operator: Operator;
  values: string[];
}

/** A parsed selector: all requirements must hold. An empty selector matches everything. */
export class Selector {
  constructor(readonly requirements: Requirement[]) {}

  static everything(): Selector {
    return new Selector([]);
  }

  /** A selector that matches nothing (a nil metav1.LabelSelector in some APIs). */
  static nothing(): Selector {
    const s = new Selector([]);
    s.matches = () => false;
    return s;
  }

  isEmpty(): boolean {
    return this.requirements.length === 0;
  }

  matches(labels: Record<string, string> | undefined): boolean {
    const l = labels ?? {};
    for (const r of this.requirements) {
      const has = Object.prototype.hasOwnProperty.call(l, r.key);
      const v = has ? l[r.key]! : undefined;
      switch (r.operator) {
        case 'exists':
          if (!has) return false;
          break;
        case '!':
          if (has) return false;
          break;
        case '=':
        case '==':
        case 'in':
          if (!has || !r.values.includes(v!)) return false;
          break;
        case '!=':
        case 'notin':
          if (has && r.values.includes(v!)) return false;
          break;
        case 'gt':
        case 'lt': {
          if (!has) return false;
          const n = Number(v);
          const bound = Number(r.values[0]);
          if (!Number.isInteger(n) || !Number.isInteger(bound)) return false;
          if (r.operator === 'gt' ? !(n > bound) : !(n < bound)) return false;
          break;
        }
      }
    }
    return true;
  }

  /** If the selector pins `key` to one value (key=v or key in (v)), that value. */
  requiresExactMatch(key: string): string | undefined {
    for (const r of this.requirements) {
      if (r.key !== key) continue;
      if ((r.operator === '=' || r.operator === '==' || r.operator === 'in') && r.values.length === 1) return r.values[0];
    }
    return undefined;
  }

  toString(): string {
    return this.requirements
      .map((r) => {
        switch (r.operator) {
          case 'exists':
            return r.key;
          case '!':
            return `!${r.key}`;
          case 'in':
          case 'notin':
            return `${r.key} ${r.operator} (${r.values.join(',')})`;
          case 'gt':
            return `${r.key}>${r.values[0]}`;
          case 'lt':
            return `${r.key}<${r.values[0]}`;
          default:
            return `${r.key}${r.operator}${r.values[0]}`;
        }
      })
      .join(',');
  }
}

export class SelectorParseError extends Error {}

type Token =
  | { t: 'id'; v: string }
  | { t: 'op'; v: string }
  | { t: '(' }
  | { t: ')' }
  | { t: ',' }
  | { t: '!' };

const opChars = new Set(['=', '!', '<', '>']);
const specialChars = new Set(['=', '!', '<', '>', '(', ')', ',']);

function lex(s: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    if (c === '(') {
      out.push({ t: '(' });
      i++;
    } else if (c === ')') {
      out.push({ t: ')' });
      i++;
    } else if (c === ',') {
      out.push({ t: ',' });
      i++;
    } else if (opChars.has(c)) {
      let j = i;
      while (j < s.length && opChars.has(s[j]!)) j++;
      const op = s.slice(i, j);
      if (op === '!') out.push({ t: '!' });
      else if (['=', '==', '!=', '<', '>'].includes(op)) out.push({ t: 'op', v: op });
      else throw new SelectorParseError(`unable to parse requirement: found '${op}', expected: valid operator`);
      i = j;
    } else {
      let j = i;
      while (j < s.length && !specialChars.has(s[j]!) && !' \t\n\r'.includes(s[j]!)) j++;
      out.push({ t: 'id', v: s.slice(i, j) });
      i = j;
    }
  }
  return out;
}

function checkKey(key: string): void {
  const err = isQualifiedName(key);
  if (err.length) throw new SelectorParseError(`unable to parse requirement: key: Invalid value: ${JSON.stringify(key)}: ${err.join('; ')}`);
}

function checkValue(v: string): void {
  const err = isValidLabelValue(v);
  if (err.length) throw new SelectorParseError(`unable to parse requirement: values[0]: Invalid value: ${JSON.stringify(v)}: ${err.join('; ')}`);
}

/** Parses the string form of a label selector. Throws SelectorParseError on malformed input. */
export function parseLabelSelector(s: string | undefined): Selector {
  if (s === undefined || s.trim() === '') return Selector.everything();
  const toks = lex(s);
  const reqs: Requirement[] = [];
  let i = 0;
  const peek = () => toks[i];
  const next = () => toks[i++];
  while (i < toks.length) {
    let t = next()!;
    let negated = false;
    if (t.t === '!') {
      negated = true;
      t = next()!;
      if (!t || t.t !== 'id') throw new SelectorParseError(`unable to parse requirement: expected identifier after '!'`);
    }
    if (t.t !== 'id') throw new SelectorParseError(`unable to parse requirement: expected identifier, found '${'v' in t ? t.v : t.t}'`);
    const key = t.v;
    checkKey(key);
    const after = peek();
    if (negated) {
      if (after && after.t !== ',') throw new SelectorParseError(`unable to parse requirement: unexpected token after '!${key}'`);
      reqs.push({ key, operator: '!', values: [] });
    } else if (!after || after.t === ',') {
      reqs.push({ key, operator: 'exists', values: [] });
    } else if (after.t === 'op') {
      next();
      const vt = peek();
      let value = '';
      if (vt && vt.t === 'id') {
        value = vt.v;
        next();
      }
      const op = after.v;
      if (op === '<' || op === '>') {
        if (!/^-?\d+$/.test(value)) throw new SelectorParseError(`unable to parse requirement: for 'Gt', 'Lt' operators, the value must be an integer`);
        reqs.push({ key, operator: op === '>' ? 'gt' : 'lt', values: [value] });
      } else {
        checkValue(value);
        reqs.push({ key, operator: op as Operator, values: [value] });
      }
    } else if (after.t === 'id' && (after.v === 'in' || after.v === 'notin')) {
      next();
      const open = next();
      if (!open || open.t !== '(') throw new SelectorParseError(`unable to parse requirement: found '${open && 'v' in open ? open.v : open?.t}', expected: '('`);
      const values: string[] = [];
      let expectValue = true;
      for (;;) {
        const vt = next();
        if (!vt) throw new SelectorParseError(`unable to parse requirement: found '', expected: ')'`);
        if (vt.t === ')') {
          if (expectValue && values.length > 0) values.push('');
          break;
        }
        if (vt.t === ',') {
          if (expectValue) values.push('');
          expectValue = true;
          continue;
        }
        if (vt.t !== 'id' || !expectValue) throw new SelectorParseError(`unable to parse requirement: unexpected token in set`);
        checkValue(vt.v);
        values.push(vt.v);
        expectValue = false;
      }
      if (values.length === 0) throw new SelectorParseError(`unable to parse requirement: for 'in', 'notin' operators, values set can't be empty`);
      reqs.push({ key, operator: after.v as Operator, values });
    } else {
      throw new SelectorParseError(`unable to parse requirement: found '${'v' in after ? after.v : after.t}', expected: in, notin, =, ==, !=, gt, lt`);
    }
    const sep = next();
    if (sep && sep.t !== ',') throw new SelectorParseError(`unable to parse requirement: found '${'v' in sep ? sep.v : sep.t}', expected: ','`);
    if (sep && i >= toks.length) throw new SelectorParseError(`unable to parse requirement: found '', expected: identifier after ','`);
  }
  return new Selector(reqs);
}

/**
 * Converts a structured metav1.LabelSelector (matchLabels and matchExpressions). As upstream's
 * LabelSelectorAsSelector, a missing selector matches nothing and an empty one everything.
 */
export function labelSelectorAsSelector(ls: LabelSelector | undefined | null): Selector {
  if (ls === undefined || ls === null) return Selector.nothing();
  const reqs: Requirement[] = [];
  for (const [k, v] of Object.entries(ls.matchLabels ?? {})) reqs.push({ key: k, operator: '=', values: [v] });
  for (const e of ls.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        reqs.push({ key: e.key, operator: 'in', values: e.values ?? [] });
        break;
      case 'NotIn':
        reqs.push({ key: e.key, operator: 'notin', values: e.values ?? [] });
        break;
      case 'Exists':
        reqs.push({ key: e.key, operator: 'exists', values: [] });
        break;
      case 'DoesNotExist':
        reqs.push({ key: e.key, operator: '!', values: [] });
        break;
      default:
        throw new SelectorParseError(`${JSON.stringify(e.operator)} is not a valid label selector operator`);
    }
  }
  return new Selector(reqs);
}

/** Builds a selector string from a map: what kubectl shows for `matchLabels`. */
export function selectorFromSet(set: Record<string, string> | undefined): Selector {
  return new Selector(Object.entries(set ?? {}).map(([key, v]) => ({ key, operator: '=', values: [v] })));
}

/** Formats a metav1.LabelSelector as a string, as `kubectl get -o wide` shows it. */
export function formatLabelSelector(ls: LabelSelector | undefined | null): string {
  if (!ls) return '<none>';
  try {
    const s = labelSelectorAsSelector(ls).toString();
    return s === '' ? '<none>' : s;
  } catch {
    return '<error>';
  }
}
