#!/usr/bin/env node
// `npm run dist:mac`: package Keel for macOS (dmg + zip, arm64 + x64).
//
//   1. build the workspaces (tsc + vite);
//   2. stage the app with its production dependencies, copied at their locked versions from
//      the working node_modules, into a staging directory OUTSIDE the repository;
//   3. rebuild better-sqlite3 for Electron inside the staging copy;
//   4. run electron-builder on the staging copy (it rebuilds native modules again per target
//      arch there: npmRebuild is on in electron-builder.yml).
// The working node_modules is only ever read: tests run on plain Node and need the Node build
// of better-sqlite3.
//
// Why outside the repository: npm, electron-builder and @electron/rebuild all walk up from
// the project dir looking for a workspace root; inside this repo they find it, and would
// then resolve (and rebuild!) modules in the repo's node_modules.
//
// Flags: --force       run on a non-macOS host (packaging itself still needs macOS tools)
//        --stage-only  stop after staging and checking the staged dependency tree
//        --skip-build  use the existing dist directories
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const STAGING = path.join(os.tmpdir(), 'keel-dist-staging');
const OUTPUT = path.join(ROOT, '.cache', 'release');
/** The workspace that is the Electron app; its dependencies become the staged app's. */
const APP_WORKSPACE = '@keel/main';
/** Packages whose dist is a self-contained browser bundle: their dependencies are not shipped. */
const BUNDLED_WORKSPACES = new Set(['@keel/renderer']);
const NATIVE_MODULES = ['better-sqlite3'];

const args = new Set(process.argv.slice(2));
const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`dist:mac: ${message}`);
  process.exit(1);
}

function run(command, commandArgs, options = {}) {
  const result = spawnSync(command, commandArgs, { stdio: 'inherit', cwd: ROOT, ...options });
  if (result.error) fail(`${command} could not start: ${result.error.message}`);
  if (result.status !== 0) fail(`${command} ${commandArgs.join(' ')} exited with ${result.status ?? result.signal}`);
  return result;
}

const readJson = (file) => JSON.parse(fs.readFileSync(file, 'utf8'));
const writeJson = (file, value) => {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
};
const isInside = (child, parent) => child === parent || child.startsWith(parent + path.sep);

/** The production dependency tree of the app workspace, as npm resolved it in the working tree. */
function productionTree() {
  const result = spawnSync('npm', ['ls', '--omit=dev', '--all', '--json', '--long', '--workspace', APP_WORKSPACE], {
    cwd: ROOT,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
  });
  if (result.status !== 0) fail(`npm ls reports a broken production tree; run \`npm install\` first.\n${result.stderr}`);
  const app = JSON.parse(result.stdout).dependencies?.[APP_WORKSPACE];
  if (!app?.path) fail(`npm ls did not list ${APP_WORKSPACE}`);
  return app;
}

/** Workspace package.json trimmed to what a shipped package needs. */
function shippedManifest(manifest, { keepDependencies }) {
  const { devDependencies: _dev, scripts: _scripts, workspaces: _ws, ...rest } = manifest;
  if (!keepDependencies) delete rest.dependencies;
  return { ...rest, files: ['dist'] };
}

/** Copies a registry package, leaving out nested node_modules (staged separately) and native build output (rebuilt). */
function copyPackage(from, to) {
  const native = fs.existsSync(path.join(from, 'binding.gyp'));
  fs.cpSync(from, to, {
    recursive: true,
    dereference: true,
    filter: (source) => {
      const relative = path.relative(from, source);
      if (relative.split(path.sep)[0] === 'node_modules') return false;
      // A Node-ABI binary must never reach the app: if the Electron rebuild fails, packaging fails.
      if (native && relative.split(path.sep)[0] === 'build') return false;
      return true;
    },
  });
}

function stage() {
  fs.rmSync(STAGING, { recursive: true, force: true });
  fs.mkdirSync(STAGING, { recursive: true });

  const app = productionTree();
  const appDir = fs.realpathSync(app.path);
  const rootManifest = readJson(path.join(ROOT, 'package.json'));
  const appManifest = readJson(path.join(appDir, 'package.json'));

  // Workspace directory (relative to the repo) -> where it lives in the staging copy.
  const workspaceTargets = new Map([[path.relative(ROOT, appDir), path.relative(ROOT, appDir)]]);
  const staged = new Set();
  const stagedPathOf = (npmPath) => {
    const relative = path.relative(ROOT, npmPath);
    for (const [from, to] of workspaceTargets) {
      if (isInside(relative, from)) return path.join(to, path.relative(from, relative));
    }
    return relative;
  };

  const visit = (node, ancestors) => {
    for (const [name, dep] of Object.entries(node.dependencies ?? {})) {
      if (!dep?.path) continue; // an optional or peer dependency that is not installed
      const real = fs.realpathSync(dep.path);
      if (ancestors.has(real)) continue; // dependency cycle
      const isWorkspace = isInside(real, ROOT) && !isInside(real, path.join(ROOT, 'node_modules'));
      if (isWorkspace) {
        const target = path.join('node_modules', name);
        workspaceTargets.set(path.relative(ROOT, real), target);
        if (!staged.has(real)) {
          staged.add(real);
          const bundled = BUNDLED_WORKSPACES.has(name);
          writeJson(path.join(STAGING, target, 'package.json'), shippedManifest(readJson(path.join(real, 'package.json')), { keepDependencies: !bundled }));
          const dist = path.join(real, 'dist');
          if (!fs.existsSync(dist)) fail(`${name} has no dist directory; the build did not produce it`);
          fs.cpSync(dist, path.join(STAGING, target, 'dist'), { recursive: true, dereference: true });
          console.log(`  staged ${name} (workspace${bundled ? ', bundled' : ''})`);
        }
        if (BUNDLED_WORKSPACES.has(name)) continue;
      } else if (!staged.has(real)) {
        staged.add(real);
        copyPackage(real, path.join(STAGING, stagedPathOf(dep.path)));
      }
      visit(dep, new Set([...ancestors, real]));
    }
  };
  visit(app, new Set([appDir]));

  // The app itself: its compiled main process and preload, with "type": "module".
  const appTarget = path.join(STAGING, path.relative(ROOT, appDir));
  writeJson(path.join(appTarget, 'package.json'), {
    name: appManifest.name,
    version: appManifest.version,
    private: true,
    type: appManifest.type,
    main: appManifest.main,
  });
  fs.cpSync(path.join(appDir, 'dist'), path.join(appTarget, 'dist'), { recursive: true, dereference: true });

  // The project electron-builder packages: the app's dependencies, Electron's entry point.
  writeJson(path.join(STAGING, 'package.json'), {
    name: 'keel',
    productName: 'Keel',
    version: rootManifest.version,
    description: rootManifest.description,
    license: rootManifest.license,
    author: rootManifest.author ?? 'Keel contributors',
    private: true,
    type: 'module',
    main: path.posix.join(path.relative(ROOT, appDir).split(path.sep).join('/'), appManifest.main),
    dependencies: appManifest.dependencies,
  });
  console.log(`  staged ${staged.size} packages into ${STAGING}`);

  // electron-builder collects node_modules through `npm ls`; prove it will see a sound tree.
  const check = spawnSync('npm', ['ls', '--omit=dev', '--all'], { cwd: STAGING, encoding: 'utf8' });
  if (check.status !== 0) fail(`the staged dependency tree is not sound:\n${check.stdout}\n${check.stderr}`);
}

function electronVersion() {
  return readJson(require.resolve('electron/package.json')).version;
}

async function rebuildNativeModules(version) {
  let rebuildModule = null;
  try {
    rebuildModule = await import(pathToFileURL(require.resolve('@electron/rebuild')).href);
  } catch {
    rebuildModule = null;
  }
  if (rebuildModule) {
    console.log(`  @electron/rebuild: ${NATIVE_MODULES.join(', ')} for Electron ${version} (${process.arch})`);
    // projectRootPath pins the module search to the staging copy.
    await rebuildModule.rebuild({
      buildPath: STAGING,
      projectRootPath: STAGING,
      electronVersion: version,
      arch: process.arch,
      onlyModules: NATIVE_MODULES,
      force: true,
    });
    return;
  }
  // Fallback: electron-builder's own command, run inside the staging copy with a throwaway config.
  console.log('  @electron/rebuild not found; using electron-builder install-app-deps');
  const config = path.join(STAGING, 'electron-builder.json');
  writeJson(config, { electronVersion: version });
  try {
    run(process.execPath, [require.resolve('electron-builder/cli.js'), 'install-app-deps', '--platform', 'darwin', '--arch', process.arch], {
      cwd: STAGING,
    });
  } finally {
    fs.rmSync(config, { force: true });
  }
}

async function packageApp(version) {
  const config = YAML.parse(fs.readFileSync(path.join(ROOT, 'electron-builder.yml'), 'utf8'));
  const { build } = require('electron-builder');
  const artifacts = await build({
    projectDir: STAGING,
    mac: [],
    publish: 'never',
    config: { ...config, electronVersion: version, directories: { ...config.directories, output: OUTPUT } },
  });
  console.log('dist:mac: artifacts:');
  for (const artifact of artifacts) console.log(`  ${artifact}`);
}

async function main() {
  if (process.platform !== 'darwin' && !args.has('--force')) {
    fail(`macOS packages are built on macOS (this is ${process.platform}). Pass --force to stage anyway; with --stage-only nothing macOS-specific runs.`);
  }
  if (!args.has('--skip-build')) run('npm', ['run', 'build']);
  const version = electronVersion();
  console.log(`dist:mac: staging into ${STAGING}`);
  stage();
  if (args.has('--stage-only')) {
    console.log('dist:mac: staged (--stage-only): not rebuilding or packaging.');
    return;
  }
  console.log('dist:mac: rebuilding native modules in the staging copy');
  await rebuildNativeModules(version);
  console.log(`dist:mac: packaging with electron-builder into ${OUTPUT}`);
  await packageApp(version);
}

main().catch((error) => fail(error instanceof Error ? (error.stack ?? error.message) : String(error)));
