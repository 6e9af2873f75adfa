/**
 * The app's own origin. The renderer is served from this privileged custom scheme (never
 * file:// or http://), so "is this our page?" is a plain URL comparison.
 */
export const APP_SCHEME = 'keel';
export const APP_HOST = 'app';
export const APP_ORIGIN = `${APP_SCHEME}://${APP_HOST}`;
export const APP_ENTRY_URL = `${APP_ORIGIN}/index.html`;

/**
 * True only for `keel://app/...`. Compared field by field because WHATWG URL reports the
 * origin of a non-special scheme as "null" under plain Node; userinfo and ports are refused
 * so `keel://app@evil` or `keel://app:1` cannot pass.
 */
export function isAppUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  return url.protocol === `${APP_SCHEME}:` && url.host === APP_HOST && url.username === '' && url.password === '';
}
