import { protocol } from 'electron';
import { APP_SCHEME } from './app-origin.js';
import { createAppRequestHandler } from './protocol-response.js';

/**
 * Declares `keel:` as a standard, secure scheme. Must run before `ready`. Deliberately not
 * corsEnabled (that would let other origins read it) and not bypassCSP.
 */
export function registerAppScheme(): void {
  protocol.registerSchemesAsPrivileged([
    { scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true } },
  ]);
}

/** Serves the built renderer on `keel://app/`. Call once, after `ready`. */
export function serveAppScheme(rendererDir: string): void {
  protocol.handle(APP_SCHEME, createAppRequestHandler(rendererDir));
}
