/**
 * better-sqlite3's compiled addon to load. Tests and the CLI use the build in node_modules
 * (plain Node); `npm start` under Electron points KEEL_SQLITE_BINDING at a copy built for
 * Electron's ABI, so the working node_modules never changes (DESIGN §7).
 */
export function nativeBindingOption(): { nativeBinding?: string } {
  const binding = process.env.KEEL_SQLITE_BINDING;
  return binding ? { nativeBinding: binding } : {};
}
