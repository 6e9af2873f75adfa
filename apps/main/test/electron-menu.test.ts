import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { appMenuTemplate } from '../src/electron/menu-template.js';

const roles = (items: MenuItemConstructorOptions[]): string[] =>
  items.flatMap((item) => [...(item.role ? [item.role] : []), ...(Array.isArray(item.submenu) ? roles(item.submenu) : [])]);

describe('application menu', () => {
  it('has About and Quit, and no Reload or DevTools when packaged', () => {
    const showAbout = vi.fn();
    const template = appMenuTemplate({ appName: 'Keel', isPackaged: true, showAbout });
    expect(roles(template)).toContain('quit');
    expect(roles(template)).not.toContain('reload');
    expect(roles(template)).not.toContain('toggleDevTools');
    const about = (template[0]?.submenu as MenuItemConstructorOptions[]).find((item) => item.label === 'About Keel');
    about?.click?.({} as never, undefined, {} as never);
    expect(showAbout).toHaveBeenCalledOnce();
  });

  it('adds Reload and Toggle DevTools when not packaged', () => {
    const template = appMenuTemplate({ appName: 'Keel', isPackaged: false, showAbout: () => {} });
    expect(roles(template)).toEqual(expect.arrayContaining(['reload', 'toggleDevTools', 'quit', 'copy', 'paste']));
  });
});
