import type { WebContents } from 'electron';

/**
 * No web contents may navigate, redirect, open windows or attach webviews (I11). Applied to
 * every web contents the app ever creates, via app 'web-contents-created'. The app's page is
 * a single document; loadURL from main is not a navigation event and is unaffected.
 */
export function guardWebContents(contents: WebContents, onBlocked: (what: string, url: string) => void): void {
  contents.on('will-navigate', (event) => {
    event.preventDefault();
    onBlocked('navigation', event.url);
  });
  contents.on('will-frame-navigate', (event) => {
    event.preventDefault();
    onBlocked('frame navigation', event.url);
  });
  contents.on('will-redirect', (event) => {
    event.preventDefault();
    onBlocked('redirect', event.url);
  });
  contents.on('will-attach-webview', (event, _webPreferences, params) => {
    event.preventDefault();
    onBlocked('webview', params.src ?? '');
  });
  contents.setWindowOpenHandler((details) => {
    onBlocked('new window', details.url);
    return { action: 'deny' };
  });
}
