import type { Session } from 'electron';

/**
 * Keel's page needs no browser permission (camera, notifications, clipboard read, HID, ...):
 * every request and every check is refused, for every session.
 */
export function denyAllPermissions(session: Session): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
  session.setDevicePermissionHandler(() => false);
}
