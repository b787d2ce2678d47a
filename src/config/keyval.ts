// QEMU's KEY=VALUE,... option syntax (semantics of util/keyval.c as of QEMU 7.2), written from
// its documented grammar and test cases:
//
//   key-vals     = [ key-val { ',' key-val } [ ',' ] ]
//   key-val      = key '=' val | help
//   key          = key-fragment { '.' key-fragment }
//   key-fragment = name | index             (the first fragment must be a name)
//   name         = / [A-Za-z][A-Za-z0-9_-]* /
//   index        = / [0-9]+ /
//   val          = { / [^,] / | ',,' }       (',,' is a literal comma; '=' is an ordinary char)
//   help         = 'help' | '?'             (sets KeyvalResult.help; QEMU lists properties)
//
// With an implied key (`-device nvme,...` implies driver=, `-m 4G` implies size=):
//
//   key-vals-ik  = val-no-key [ ',' key-vals ]
//   val-no-key   = / [^=,]+ /               (no ',,' escape here, unlike val)
//
// Meaning, by reduction to a JSON-like tree:
// - Each key-val is a path from the root to a leaf string; dotted keys build nested objects
//   (`zoned.zone_size=64M` -> { zoned: { zone_size: '64M' } }).
// - If several key-vals name the same leaf, the last one wins (`a=1,a=2` -> a = '2').
// - A node can't be both a leaf and an object: `a=1,a.b=2` and `a.b=1,a=2` both fail with
//   "Parameters 'a.*' used inconsistently".
// - Index fragments make lists: `l.0=x,l.1=y`. Their order in the input doesn't matter, but
//   the indexes must be 0..n-1 ("Parameter 'l.1' missing") and must not be mixed with names.
//   Lists stay objects here (keys '0', '1', ... canonical decimal, so `l.01` is `l.1`); read
//   them with keyvalListItems().
// - A fragment is at most 127 characters. There is no way to write an empty object or list.
//
// QemuOpts compatibility (`bareKeysAreOn`). In QEMU 7.2, -object and -machine use keyval
// (a bare `share` there fails: "Expected '=' after parameter 'share'"), while -device and -m
// still use QemuOpts, which reads a bare `KEY` as KEY=on and `noKEY` as KEY=off and warns
// "short-form boolean option 'KEY' deprecated" / "Please use KEY=on instead". With
// bareKeysAreOn the parser does the same and returns the warning text in `warnings`.
// QemuOpts keys are flat (`flat`): `zoned=on,zoned.zone_size=64M` is two properties.
// Not supported: QAPI's `__RFQDN_` downstream-extension key prefix (nvmemu has none).

import { ConfigError } from './errors.js';

/** A parsed option string. Objects have a null prototype; leaves are strings. */
export type KeyvalTree = { [key: string]: string | KeyvalTree };

export interface KeyvalOptions {
  /** The key a leading value without '=' belongs to (dotted keys allowed). */
  readonly impliedKey?: string | undefined;
  /** Accept QemuOpts' short-form booleans: bare `KEY` -> 'on', bare `noKEY` -> KEY='off'. */
  readonly bareKeysAreOn?: boolean | undefined;
  /**
   * QemuOpts keys: dotted names are flat property names, not paths. `-device` documents
   * `zoned=on,zoned.zone_size=64M`, which keyval nesting would reject as inconsistent.
   */
  readonly flat?: boolean | undefined;
}

export interface KeyvalResult {
  readonly tree: KeyvalTree;
  /** QEMU's warning texts (without the "warning: " prefix), e.g. for short-form booleans. */
  readonly warnings: string[];
  /** A bare `help` or `?` element was present. */
  readonly help: boolean;
}

/** A syntax error in an option string, worded as QEMU words it. */
export class KeyvalError extends ConfigError {
  constructor(message: string, property?: string) {
    super(message, property);
    this.name = 'KeyvalError';
  }
}

/** QEMU keeps a fragment in a 128-byte buffer with its terminating NUL. */
export const KEY_FRAGMENT_MAX = 127;
const INT_MAX = 2147483647n;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]*$/;
const INDEX_RE = /^[0-9]+$/;

function newNode(): KeyvalTree {
  return Object.create(null) as KeyvalTree;
}

/**
 * Splits and checks a key. Returns the fragments as stored in the tree (indexes canonical)
 * together with the fragments as typed (for messages).
 */
function splitKey(key: string): { stored: string[]; typed: string[] } {
  const typed = key.split('.');
  const stored = typed.map((frag, i) => {
    const isIndex = i > 0 && INDEX_RE.test(frag);
    if (!isIndex && !NAME_RE.test(frag)) throw new KeyvalError(`Invalid parameter '${key}'`);
    if (frag.length > KEY_FRAGMENT_MAX) {
      const what = typed.length > 1 ? 'Parameter fragment' : 'Parameter';
      throw new KeyvalError(`${what} '${frag}' is too long`);
    }
    // QEMU's key_to_index() caps huge indexes at INT_MAX; the gap check then reports them.
    if (!isIndex) return frag;
    const n = BigInt(frag);
    return (n > INT_MAX ? INT_MAX : n).toString();
  });
  return { stored, typed };
}

function put(tree: KeyvalTree, key: string, value: string): void {
  const { stored, typed } = splitKey(key);
  let cur = tree;
  for (let i = 0; i < stored.length - 1; i++) {
    const frag = stored[i] ?? '';
    const next = cur[frag];
    if (typeof next === 'string') {
      throw new KeyvalError(
        `Parameters '${typed.slice(0, i + 1).join('.')}.*' used inconsistently`,
      );
    }
    cur = next ?? (cur[frag] = newNode());
  }
  const leaf = stored[stored.length - 1] ?? '';
  if (typeof cur[leaf] === 'object') {
    throw new KeyvalError(`Parameters '${key}.*' used inconsistently`);
  }
  cur[leaf] = value;
}

/** Parses an option string. Throws KeyvalError with QEMU's message on malformed input. */
export function parseKeyval(text: string, options?: string | KeyvalOptions): KeyvalResult {
  const opts: KeyvalOptions =
    typeof options === 'string' ? { impliedKey: options } : (options ?? {});
  const tree = newNode();
  const warnings: string[] = [];
  let help = false;
  let implied = opts.impliedKey;
  const store =
    opts.flat === true
      ? (key: string, value: string) => {
          splitKey(key);
          tree[key] = value;
        }
      : (key: string, value: string) => put(tree, key, value);
  let pos = 0;
  while (pos < text.length) {
    let stop = pos;
    while (stop < text.length && text[stop] !== '=' && text[stop] !== ',') stop++;
    const head = text.slice(pos, stop);
    if (head !== '' && text[stop] !== '=') {
      // An element without '=': help, the implied key's value, or a short-form boolean.
      pos = stop + 1;
      if (head === 'help' || head === '?') {
        help = true;
      } else if (implied !== undefined) {
        store(implied, head);
      } else if (opts.bareKeysAreOn === true) {
        const negated = head.startsWith('no');
        const key = negated ? head.slice(2) : head;
        const value = negated ? 'off' : 'on';
        if (key === '') throw new KeyvalError(`Invalid parameter '${head}'`);
        store(key, value);
        warnings.push(
          `short-form boolean option '${head}' deprecated\nPlease use ${key}=${value} instead`,
        );
      } else {
        splitKey(head); // an invalid key is reported as such first
        throw new KeyvalError(`Expected '=' after parameter '${head}'`);
      }
    } else {
      splitKey(head); // empty or invalid key: "Invalid parameter '...'"
      let value = '';
      let i = stop + 1;
      for (;;) {
        const comma = text.indexOf(',', i);
        if (comma < 0) {
          value += text.slice(i);
          i = text.length;
          break;
        }
        value += text.slice(i, comma);
        if (text[comma + 1] !== ',') {
          i = comma + 1;
          break;
        }
        value += ',';
        i = comma + 2;
      }
      store(head, value);
      pos = i;
    }
    implied = undefined;
  }
  if (opts.flat !== true) checkLists(tree, '');
  return { tree, warnings, help };
}

/**
 * Enforces the list rules bottom-up (as QEMU's keyval_listify does): index keys must not be
 * mixed with names, and must be exactly 0..n-1. `prefix` is the path so far plus '.'.
 */
function checkLists(node: KeyvalTree, prefix: string): void {
  let indexes = 0;
  let names = 0;
  for (const [k, v] of Object.entries(node)) {
    if (INDEX_RE.test(k)) indexes++;
    else names++;
    if (typeof v === 'object') checkLists(v, `${prefix}${k}.`);
  }
  if (indexes === 0) return;
  if (names > 0) throw new KeyvalError(`Parameters '${prefix}*' used inconsistently`);
  for (let i = 0; i < indexes; i++) {
    if (!(String(i) in node)) throw new KeyvalError(`Parameter '${prefix}${i}' missing`);
  }
}

/** The members of a list node (`l.0=..,l.1=..`) in index order, or undefined if not a list. */
export function keyvalListItems(node: KeyvalTree): (string | KeyvalTree)[] | undefined {
  const keys = Object.keys(node);
  if (keys.length === 0 || !keys.every((k) => INDEX_RE.test(k))) return undefined;
  // Canonical index keys are array-index-like, so Object.keys() already yields them ascending.
  return keys.map((k) => node[k] as string | KeyvalTree);
}

/** All leaves as dotted paths, in insertion order: { a: { b: '1' } } -> 'a.b' => '1'. */
export function flattenKeyval(tree: KeyvalTree): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (node: KeyvalTree, prefix: string): void => {
    for (const [k, v] of Object.entries(node)) {
      if (typeof v === 'string') out.set(prefix + k, v);
      else walk(v, `${prefix}${k}.`);
    }
  };
  walk(tree, '');
  return out;
}

/**
 * The inverse of parseKeyval: KEY=VALUE pairs joined by ',', commas in values doubled. With
 * `impliedKey`, that key's value leads without `KEY=` when the implied syntax can carry it.
 * Throws KeyvalError for trees the syntax can't express (bad keys, empty objects, gaps).
 */
export function formatKeyval(tree: KeyvalTree, impliedKey?: string): string {
  const parts: string[] = [];
  let skip: string | undefined;
  if (impliedKey !== undefined) {
    const v = flattenKeyval(tree).get(impliedKey);
    if (v !== undefined && /^[^=,]+$/.test(v) && v !== 'help' && v !== '?') {
      parts.push(v);
      skip = impliedKey;
    }
  }
  const walk = (node: KeyvalTree, prefix: string, depth: number): void => {
    const entries = Object.entries(node);
    if (entries.length === 0 && depth > 0) {
      throw new KeyvalError(`Parameter '${prefix.slice(0, -1)}' is an empty object`);
    }
    for (const [k, v] of entries) {
      const isIndex = depth > 0 && /^(?:0|[1-9][0-9]*)$/.test(k) && BigInt(k) <= INT_MAX;
      if (!(isIndex || NAME_RE.test(k)) || k.length > KEY_FRAGMENT_MAX) {
        throw new KeyvalError(`Invalid parameter '${prefix}${k}'`);
      }
      const path = prefix + k;
      if (typeof v === 'object') walk(v, `${path}.`, depth + 1);
      else if (path !== skip) parts.push(`${path}=${v.replaceAll(',', ',,')}`);
    }
  };
  walk(tree, '', 0);
  checkLists(tree, '');
  return parts.join(',');
}
