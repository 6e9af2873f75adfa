import Database from 'better-sqlite3';

let addonLoaded = false;

/**
 * better-sqlite3 is built with URI filenames off and reads SQLITE_USE_URI once, when its addon
 * loads. Keel needs one URI, `file:…?immutable=1`, to read keel.db on a read-only filesystem
 * (see read-only-database.ts), so the first open loads the addon with URIs on and restores the
 * environment at once: no child process inherits the variable. Every path Keel opens is
 * absolute, so none is ever read as a URI by accident.
 */
function loadAddonWithUris(option: { nativeBinding?: string }): void {
  if (addonLoaded) return;
  addonLoaded = true;
  const previous = process.env.SQLITE_USE_URI;
  process.env.SQLITE_USE_URI = '1';
  try {
    new Database(':memory:', option).close();
  } finally {
    if (previous === undefined) delete process.env.SQLITE_USE_URI;
    else process.env.SQLITE_USE_URI = previous;
  }
}

/**
 * better-sqlite3's compiled addon to load. Tests and the CLI use the build in node_modules
 * (plain Node); `npm start` under Electron points KEEL_SQLITE_BINDING at a copy built for
 * Electron's ABI, so the working node_modules never changes (DESIGN §7).
 */
export function nativeBindingOption(): { nativeBinding?: string } {
  const binding = process.env.KEEL_SQLITE_BINDING;
  const option = binding ? { nativeBinding: binding } : {};
  loadAddonWithUris(option);
  return option;
}
