import fs from 'node:fs';
import path from 'node:path';
import { scriptsDir } from './paths.js';
import { loadScript } from './script.js';

export interface BuiltinScriptInfo {
  name: string;
  description: string;
  /** Absolute path of the script file. */
  path: string;
}

/** A path (has a slash or a `.json` suffix) rather than a shipped script's name. */
export const isPathLike = (nameOrPath: string) => nameOrPath.includes('/') || nameOrPath.includes(path.sep) || nameOrPath.endsWith('.json');

/**
 * A shipped script's name (`hello`) or a path to a script file (anything with a slash or a
 * `.json` suffix, relative to the current directory) -> absolute path of an existing file.
 */
export function resolveBuiltinScript(nameOrPath: string): string {
  if (isPathLike(nameOrPath)) {
    const file = path.resolve(nameOrPath);
    if (!fs.existsSync(file)) throw new Error(`Built-in agent script file not found: ${file}`);
    return file;
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(nameOrPath)) throw new Error(`Invalid built-in agent script name "${nameOrPath}"`);
  const file = path.join(scriptsDir, `${nameOrPath}.json`);
  if (!fs.existsSync(file)) {
    const known = listScriptNames().join(', ');
    throw new Error(`Unknown built-in agent script "${nameOrPath}" (known: ${known || 'none'})`);
  }
  return file;
}

function listScriptNames(): string[] {
  if (!fs.existsSync(scriptsDir)) return [];
  return fs
    .readdirSync(scriptsDir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => file.slice(0, -'.json'.length))
    .sort();
}

/** The shipped scripts, validated (a broken shipped script throws). */
export function listBuiltinScripts(): BuiltinScriptInfo[] {
  return listScriptNames().map((name) => {
    const file = path.join(scriptsDir, `${name}.json`);
    const script = loadScript(file);
    return { name, description: script.description, path: file };
  });
}
