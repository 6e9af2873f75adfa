/**
 * The environment for a Node script Keel starts with `process.execPath` (the built-in agent, the
 * live exporter, the reliability harness's host). Inside Electron, process.execPath is Electron
 * itself: without ELECTRON_RUN_AS_NODE the child would be a second Keel app, not Node.
 */
export function nodeChildEnv(env: NodeJS.ProcessEnv = process.env, electron: string | undefined = process.versions.electron): NodeJS.ProcessEnv {
  return electron ? { ...env, ELECTRON_RUN_AS_NODE: '1' } : env;
}
