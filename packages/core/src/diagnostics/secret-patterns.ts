// Keel's own detectors, run beside secretlint's recommended preset (redactor.ts). secretlint
// finds secrets by what they look like; these find them by where they stand — after a key
// name, in a URL's userinfo, in an Authorization header, in a PEM block — which secretlint's
// preset leaves to the user's own rules. Each gives character ranges; nothing here decides
// what to do with them.

/** A half-open range [start, end) of `text` to replace, and the rule that found it. */
export interface SecretRange {
  start: number;
  end: number;
  rule: string;
}

/** Something that finds secrets in a text. A detector that throws aborts the bundle (fail closed). */
export interface Detector {
  readonly id: string;
  find(text: string): SecretRange[] | Promise<SecretRange[]>;
}

/**
 * Words that make a key name sensitive: its value is redacted whatever it looks like.
 * Matched case-insensitively inside longer names (`DB_PASSWORD`, `x-api-key`, `clientSecret`).
 */
const SENSITIVE_NAME =
  '(?:passw(?:or)?d|passphrase|pwd|secret|token|api[_-]?key|apikey|access[_-]?key|private[_-]?key|auth(?:orization)?|credentials?|session[_-]?key|cookie|signing[_-]?key|client[_-]?secret)';
/** A key name holding a sensitive word, as written in code, env files, YAML, JSON and headers. */
const KEY = `[A-Za-z0-9_.-]*${SENSITIVE_NAME}[A-Za-z0-9_.-]*`;

/** Values that are a reference, not a secret: `${VAR}`, `$VAR`, `<redacted>`, `***`, empty. */
function isPlaceholder(value: string): boolean {
  return /^(?:\$\{?[A-Za-z_][A-Za-z0-9_]*\}?|<[^>]*>|\*+|x+|null|none|undefined|true|false|\[REDACTED[^\]]*\])$/i.test(value);
}

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const char of text) counts.set(char, (counts.get(char) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

interface PatternRule {
  id: string;
  pattern: RegExp;
  /** The capture group holding the secret (0: the whole match). */
  group: number;
  /** Keep the match only when this says so (the secret group's text). */
  accept?: (secret: string) => boolean;
}

/** A value that is code, not data: a type name or a member expression (`password: string;`, `token: opts.token,`). */
const codeLike = (value: string) =>
  /^(?:string|number|boolean|bigint|any|unknown|never|void|object|this|new|await|function|async|readonly|process\.env\.[A-Za-z_]\w*)$/.test(value) ||
  /^[A-Za-z_$][\w$]*(?:\??\.[A-Za-z_$][\w$]*)+(?:\(.*)?$/.test(value) ||
  /^[A-Za-z_$][\w$]*\(/.test(value);

const longEnough = (min: number) => (value: string) => value.length >= min && !isPlaceholder(value);

/** Known token shapes (also in secretlint's preset, which skips documented example values; Keel does not). */
const TOKEN_RULES: PatternRule[] = [
  { id: 'keel/aws-access-key-id', pattern: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b/g, group: 0 },
  { id: 'keel/github-token', pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})/g, group: 0 },
  { id: 'keel/slack-token', pattern: /\bxox[abposrte]-[A-Za-z0-9-]{10,}/g, group: 0 },
  { id: 'keel/slack-webhook', pattern: /https:\/\/hooks\.slack\.com\/services\/[A-Za-z0-9/_-]+/g, group: 0 },
  { id: 'keel/anthropic-key', pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'keel/openai-key', pattern: /\bsk-(?:proj-|svcacct-|admin-|None-)?[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'keel/google-api-key', pattern: /\bAIza[0-9A-Za-z_-]{35}/g, group: 0 },
  { id: 'keel/stripe-key', pattern: /\b(?:sk|rk|pk)_(?:live|test)_[0-9A-Za-z]{16,}/g, group: 0 },
  { id: 'keel/npm-token', pattern: /\bnpm_[A-Za-z0-9]{36}\b/g, group: 0 },
  { id: 'keel/gitlab-token', pattern: /\bglpat-[A-Za-z0-9_-]{20,}/g, group: 0 },
  { id: 'keel/jwt', pattern: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g, group: 0 },
  // A PEM private key block, with real or JSON-escaped newlines; an unterminated block runs to the end.
  {
    id: 'keel/private-key',
    pattern: /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g,
    group: 0,
  },
];

/** Secrets found by where they stand. */
const PLACE_RULES: PatternRule[] = [
  // scheme://user:password@host — the password (the user name is kept).
  { id: 'keel/url-credentials', pattern: /\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@"'\\]+:([^\s/@"'\\]+)@/gi, group: 1, accept: longEnough(1) },
  // Authorization: Bearer xxx / Basic xxx / Token xxx (headers, curl -H, logs).
  // (A real token has a digit or a symbol: "Bearer authentication" in prose is not one.)
  { id: 'keel/bearer', pattern: /\b(?:bearer|basic)\s+([A-Za-z0-9._~+/=-]{8,})/gi, group: 1, accept: (value) => longEnough(8)(value) && /[^A-Za-z]/.test(value) },
  // Header lines: Authorization: ..., X-Api-Key: ..., Cookie: ...
  {
    id: 'keel/header',
    pattern: /\b(?:proxy-)?(?:authorization|x-api-key|api-key|x-auth-token|cookie|set-cookie)\s*:\s*(?!\\?")([^\r\n"\\]{4,})/gi,
    group: 1,
    accept: longEnough(4),
  },
  // "password": "value" in JSON, also JSON nested in a JSON string (\"password\":\"value\").
  {
    id: 'keel/key-name',
    pattern: new RegExp(`(\\\\{0,7}")(${KEY})\\1\\s*:\\s*\\1((?:(?!\\1)[^\\r\\n])*?)\\1`, 'gi'),
    group: 3,
    accept: longEnough(1),
  },
  // KEY=value and key: value at the start of a line (.env files, shell exports, YAML, INI); also
  // after a JSON-escaped newline (\n) in a log line.
  {
    id: 'keel/key-name',
    pattern: new RegExp(`(?:^|\\\\n|[\\r\\n])[ \\t]*(?:export[ \\t]+|set[ \\t]+)?(${KEY})[ \\t]*[=:][ \\t]*(?:\\\\?['"])?([^\\s'"\\\\,;]+)`, 'gim'),
    group: 2,
    accept: (value) => longEnough(1)(value) && !codeLike(value),
  },
  // key = "literal" / key: 'literal' in code: quoted literals only, so `password = getPassword()` is not touched.
  {
    id: 'keel/key-name',
    pattern: new RegExp(`\\b(${KEY})['"]?\\s*(?:=|:|=>)\\s*(\\\\?['"\`])((?:(?!\\2)[^\\r\\n])+)\\2`, 'gi'),
    group: 3,
    accept: longEnough(4),
  },
  // --password hunter2, --api-key=xyz, -p:... on command lines.
  { id: 'keel/key-name', pattern: new RegExp(`(?:^|\\s|")--?(${KEY})(?:=|\\s+|",\\s*")([^\\s"'\\\\]+)`, 'gi'), group: 2, accept: longEnough(4) },
  // PASSWORD env assignment inside a command line: env API_KEY=xyz cmd, or KEY=xyz in the middle of a line.
  // (Also right after a quote or a JSON-escaped \n or \t: `"text":"password=..."`.)
  { id: 'keel/key-name', pattern: new RegExp(`(?:^|[\\s;&|("'\`>]|\\\\[nrt])(${KEY})=([^\\s'"\\\\;&|)]+)`, 'gi'), group: 2, accept: longEnough(4) },
];

/**
 * High-entropy strings next to a key-ish name (`signature`, `my_service_key`, `client_secret`
 * in the middle of a line): 16+ characters with >= 3.5 bits of entropy per character.
 */
const ENTROPY_RULE: PatternRule = {
  id: 'keel/high-entropy',
  pattern: /\b([A-Za-z0-9_.-]*(?:key|sig|signature|salt|hmac|nonce|cert|pass|pwd|seed|secret|token|auth|cred)[A-Za-z0-9_.-]*)(?:\\*["'])?\s*[:=]\s*(?:\\*["'])?([A-Za-z0-9+/=_-]{16,})/gi,
  group: 2,
  accept: (value) => !/^[0-9a-f]{64}$/.test(value) && !/^[a-z_]+$/i.test(value) && entropy(value) >= 3.5,
};

const ALL_RULES = [...TOKEN_RULES, ...PLACE_RULES, ENTROPY_RULE];

function rangesOf(rule: PatternRule, text: string): SecretRange[] {
  const found: SecretRange[] = [];
  rule.pattern.lastIndex = 0;
  for (const match of text.matchAll(rule.pattern)) {
    const secret = match[rule.group];
    if (secret === undefined || secret.length === 0) continue;
    if (rule.accept && !rule.accept(secret)) continue;
    const start = rule.group === 0 ? match.index : match.index + match[0].lastIndexOf(secret);
    found.push({ start, end: start + secret.length, rule: rule.id });
  }
  return found;
}

/** Keel's pattern detectors: token shapes, key names, URL credentials, headers, PEM blocks, entropy. */
export const keelPatterns: Detector = {
  id: 'keel-patterns',
  find: (text) => ALL_RULES.flatMap((rule) => rangesOf(rule, text)),
};

/** Names that look sensitive and are not: the shell's working directories. */
const NOT_SECRET_ENV = new Set(['PWD', 'OLDPWD', 'INIT_CWD']);
/** Environment variable names whose values are secrets. */
const SECRET_ENV_NAME = new RegExp(`${SENSITIVE_NAME}|(?:^|_)(?:KEY|PAT|DSN|CREDS?)(?:_|$)`, 'i');

/**
 * The values of this environment's secret variables (`ANTHROPIC_API_KEY`, `GITHUB_TOKEN`,
 * `DB_PASSWORD`, ...), found literally and in their JSON-escaped form. Values shorter than 8
 * characters are left out: they would match ordinary text.
 */
export function environmentValues(env: NodeJS.ProcessEnv): Detector {
  const values = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (!value || value.length < 8 || NOT_SECRET_ENV.has(name.toUpperCase()) || !SECRET_ENV_NAME.test(name)) continue;
    values.add(value);
    const escaped = JSON.stringify(value).slice(1, -1);
    if (escaped !== value) values.add(escaped);
  }
  const sorted = [...values].sort((a, b) => b.length - a.length);
  return {
    id: 'environment',
    find(text) {
      const found: SecretRange[] = [];
      for (const value of sorted) {
        for (let at = text.indexOf(value); at !== -1; at = text.indexOf(value, at + value.length)) {
          found.push({ start: at, end: at + value.length, rule: 'keel/environment-value' });
        }
      }
      return found;
    },
  };
}
