#!/usr/bin/env node
// gen_bots.mjs [--check] - writes src/rules/bots_list.h, the robot User-Agent patterns of bots.c, from the
// npm package crawler-user-agents (pinned in package.json; the list the isbot package is built from).
//
// The list writes its patterns for JavaScript's RegExp; bots.c joins them into one POSIX extended
// regular expression (glibc regcomp, REG_EXTENDED | REG_ICASE | REG_NOSUB). Each pattern is
// converted here: \d, \s, \w and their negations become bracket classes, escaped punctuation
// becomes the plain character (or the ERE escape of a special one), (?:...) becomes (...), lazy
// quantifiers become greedy ones (the same strings match), [\s\S] becomes "." (a header holds no
// newline). A pattern that cannot be converted faithfully (look-around, back-references, \b,
// Unicode escapes, ...) is dropped and counted. EXCLUDED patterns are left out on purpose (they
// match ordinary readers' browsers); EXTRA patterns are kept from the markers thamdo used before
// this list (so nothing counted as a robot before counts as a reader now), written in ERE.
//
// With --check, writes nothing and exits 1 when src/rules/bots_list.h is not what it would write (run by
// `make bots-check`, part of `make lint`). Needs node and node_modules (npm ci); building does not.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkgDir = path.join(root, 'node_modules', 'crawler-user-agents');
const outFile = path.join(root, 'src', 'rules', 'bots_list.h');

// Patterns of the list that match ordinary readers, with the reason.
const EXCLUDED = new Map([
  ['AP3A\\.240617\\.008', 'an Android 15 build id (Build/AP3A.240617.008) of many phones, not a robot'],
]);

// thamdo's own markers (ERE, matched case-insensitively): families of robots and tools that the
// list names one by one, or not at all.
const EXTRA = [
  '(^|[^u])bot', '(^|[^c])ubot', // any "...bot", but not the CUBOT phones ("Android 10; CUBOT X30")
  'crawl', 'spider', 'slurp', 'mediapartners', 'facebookexternalhit', 'bingpreview', 'monitor',
  'uptime', 'pingdom', 'statuscake', 'site24x7', 'zabbix', 'nagios', 'check_http', 'curl/',
  'wget/', 'python-requests', 'python-urllib', 'go-http-client', 'okhttp', 'java/', 'libwww',
  'httpclient', 'scrapy', 'lighthouse', 'pagespeed', 'feedfetcher', 'validator', 'headless',
];

const ERE_SPECIAL = new Set(['.', '[', '\\', '(', ')', '*', '+', '?', '{', '|', '^', '$']);
const CLASS = { d: '0-9', s: '[:space:]', w: '[:alnum:]_' };

class Unconvertible extends Error {}
const fail = (why) => { throw new Unconvertible(why); };

/** A literal character outside brackets, in ERE. */
function literal(c) {
  if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e) fail('a character outside printable ASCII');
  return ERE_SPECIAL.has(c) ? `\\${c}` : c;
}

/** Parses a bracket expression at src[i] === '['; returns [ERE text, next index]. */
function bracket(src, i) {
  let j = i + 1;
  let negated = false;
  if (src[j] === '^') { negated = true; j++; }
  const chars = new Set();
  const ranges = [];
  const classes = new Set(); // d s w, and D S W for negated classes
  const readChar = () => {
    if (src[j] === '\\') {
      const e = src[j + 1];
      if (e === undefined) fail('a trailing backslash');
      j += 2;
      if ('dswDSW'.includes(e)) return { cls: e };
      if (/[A-Za-z0-9]/.test(e)) fail(`\\${e} in a character class`);
      return { ch: e };
    }
    const c = src[j];
    if (c === undefined) fail('an unterminated character class');
    j++;
    return { ch: c };
  };
  let first = true;
  while (first || src[j] !== ']') {
    first = false;
    if (src[j] === '[' && ':.='.includes(src[j + 1] ?? '')) fail('a POSIX class written in a JS pattern');
    const a = readChar();
    if (a.cls) { classes.add(a.cls); continue; }
    if (src[j] === '-' && src[j + 1] !== ']' && src[j + 1] !== undefined) {
      j++;
      const b = readChar();
      if (b.cls) fail('a range ending in a class');
      if (a.ch > b.ch) fail('a reversed range');
      ranges.push([a.ch, b.ch]);
    } else {
      chars.add(a.ch);
    }
  }
  j++; // ']'
  for (const c of chars) if (c.charCodeAt(0) < 0x20 || c.charCodeAt(0) > 0x7e) fail('a character outside printable ASCII');
  // Negated classes inside brackets: only [\s\S] (any character) and a bracket holding one alone.
  const neg = [...classes].filter((c) => c === c.toUpperCase());
  if (neg.length > 0) {
    const lower = neg[0].toLowerCase();
    if (!negated && classes.has(lower)) return ['.', j];
    if (neg.length === 1 && classes.size === 1 && chars.size === 0 && ranges.length === 0) {
      return [`[${negated ? '' : '^'}${CLASS[lower]}]`, j];
    }
    fail('a negated class mixed with other characters');
  }
  // Order so that ERE reads it right: "]" first, "^" not first, "-" last, "[" never before ":.=".
  let body = '';
  if (chars.has(']')) body += ']';
  for (const [a, b] of ranges) body += `${a}-${b}`;
  for (const c of classes) body += CLASS[c];
  for (const c of [...chars].sort()) if (!']^[-'.includes(c)) body += c;
  if (chars.has('^')) body += '^';
  if (chars.has('[')) body += '[';
  if (chars.has('-')) body += '-';
  if (body === '^' && !negated) return ['\\^', j];
  if (body === '') fail('an empty character class');
  return [`[${negated ? '^' : ''}${body}]`, j];
}

/** Converts one JS pattern to POSIX ERE, or throws Unconvertible. */
export function toEre(src) {
  let out = '';
  let i = 0;
  let depth = 0;
  let canQuantify = false; // the previous token is an atom
  while (i < src.length) {
    const c = src[i];
    if (c === '\\') {
      const e = src[i + 1];
      if (e === undefined) fail('a trailing backslash');
      i += 2;
      if ('dswDSW'.includes(e)) {
        const lower = e.toLowerCase();
        out += `[${e === lower ? '' : '^'}${CLASS[lower]}]`;
      } else if (/[A-Za-z0-9]/.test(e)) {
        fail(`\\${e}`);
      } else {
        out += literal(e);
      }
      canQuantify = true;
    } else if (c === '[') {
      const [ere, next] = bracket(src, i);
      out += ere;
      i = next;
      canQuantify = true;
    } else if (c === '(') {
      if (src[i + 1] === '?') {
        if (src[i + 2] !== ':') fail('a look-around or named group');
        i += 3;
      } else {
        i += 1;
      }
      out += '(';
      depth++;
      canQuantify = false;
    } else if (c === ')') {
      if (depth === 0) fail('an unbalanced ")"');
      if (out.endsWith('(') || out.endsWith('|')) fail('an empty alternative');
      depth--;
      out += ')';
      i++;
      canQuantify = true;
    } else if (c === '|') {
      if (out === '' || out.endsWith('(') || out.endsWith('|')) fail('an empty alternative');
      out += '|';
      i++;
      canQuantify = false;
    } else if (c === '*' || c === '+' || c === '?' || (c === '{' && /^\{\d+(,\d*)?\}/.test(src.slice(i)))) {
      if (!canQuantify) fail('a quantifier with nothing to repeat');
      const q = c === '{' ? src.slice(i).match(/^\{\d+(,\d*)?\}/)[0] : c;
      out += q;
      i += q.length;
      if (src[i] === '?') i++; // lazy: the same strings match
      if (src[i] === '*' || src[i] === '+' || src[i] === '{') fail('a quantifier after a quantifier');
      canQuantify = false;
    } else if (c === '^' || c === '$') {
      out += c;
      i++;
      canQuantify = false;
    } else if (c === '.') {
      out += '.';
      i++;
      canQuantify = true;
    } else {
      out += literal(c); // "{" that is not a quantifier, "}", "]": literal in JS (non-Unicode) too
      i++;
      canQuantify = true;
    }
  }
  if (depth !== 0) fail('an unbalanced "("');
  if (out === '' || out.endsWith('|')) fail('an empty alternative');
  return out;
}

/** A C string literal of s (ASCII): backslash, quote and "?" (no trigraphs) escaped. */
const cString = (s) => `"${s.replace(/[\\"?]/g, (c) => `\\${c}`)}"`;

function generate() {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'));
  const list = JSON.parse(fs.readFileSync(path.join(pkgDir, 'crawler-user-agents.json'), 'utf8'));
  const patterns = [];
  const dropped = [];
  const excluded = [];
  const seen = new Set();
  for (const { pattern } of list) {
    if (EXCLUDED.has(pattern)) { excluded.push(pattern); continue; }
    try {
      const ere = toEre(pattern);
      if (!seen.has(ere)) { seen.add(ere); patterns.push(ere); }
    } catch (e) {
      if (!(e instanceof Unconvertible)) throw e;
      dropped.push(`${pattern}: ${e.message}`);
    }
  }
  for (const ere of EXTRA) if (!seen.has(ere)) { seen.add(ere); patterns.push(ere); }
  const lines = [
    '/* bots_list.h - generated by scripts/gen_bots.mjs (make bots), do not edit.',
    ' *',
    ' * Robot User-Agent patterns in POSIX ERE, matched case-insensitively:',
    ` * ${patterns.length - EXTRA.length} from the npm package ${pkg.name} ${pkg.version} (of its ${list.length}`,
    ` * patterns, ${dropped.length} dropped as not convertible, ${excluded.length} excluded as matching ordinary`,
    ` * browsers), then ${EXTRA.length} markers of thamdo's own. Included by bots.c only. */`,
    '#ifndef THAMDO_BOTS_LIST_H',
    '#define THAMDO_BOTS_LIST_H',
    '',
    `#define BOTS_LIST_SOURCE "${pkg.name} ${pkg.version}"`,
    '',
    '/* clang-format off */',
    'static const char *const bots_list[] = {',
    ...patterns.map((p) => `    ${cString(p)},`),
    '};',
    '/* clang-format on */',
    '',
    '#endif',
    '',
  ];
  return { text: lines.join('\n'), pkg, list, patterns, dropped, excluded };
}

function main() {
  const g = generate();
  const report = `${g.pkg.name} ${g.pkg.version}: ${g.list.length} patterns, ${g.patterns.length - EXTRA.length} converted, ` +
    `${g.dropped.length} dropped, ${g.excluded.length} excluded; ${EXTRA.length} own markers`;
  if (process.argv.includes('--check')) {
    const current = fs.existsSync(outFile) ? fs.readFileSync(outFile, 'utf8') : '';
    if (current !== g.text) {
      console.error(`src/rules/bots_list.h is not the list of ${g.pkg.name} ${g.pkg.version}: run make bots`);
      process.exit(1);
    }
    console.log(`src/rules/bots_list.h is current (${report})`);
  } else {
    fs.writeFileSync(outFile, g.text);
    console.log(`wrote src/rules/bots_list.h: ${report}`);
    for (const d of g.dropped) console.log(`  dropped ${d}`);
    for (const x of g.excluded) console.log(`  excluded ${x}: ${EXCLUDED.get(x)}`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
