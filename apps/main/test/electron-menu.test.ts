import { describe, expect, it, vi } from 'vitest';
import type { MenuItemConstructorOptions } from 'electron';
import { appMenuTemplate, type MenuOptions } from '../src/electron/menu-template.js';

const roles = (items: MenuItemConstructorOptions[]): string[] =>
  items.flatMap((item) => [...(item.role ? [item.role] : []), ...(Array.isArray(item.submenu) ? roles(item.submenu) : [])]);

const options = (overrides: Partial<MenuOptions> = {}): MenuOptions => ({
  appName: 'Keel',
  isPackaged: true,
  showAbout: vi.fn(),
  exportDiagnostics: vi.fn(),
  openBundle: vi.fn(),
  ...overrides,
});

const submenu = (template: MenuItemConstructorOptions[], label: string) => template.find((item) => item.label === label)?.submenu as MenuItemConstructorOptions[];
const click = (item: MenuItemConstructorOptions | undefined) => item?.click?.({} as never, undefined, {} as never);

describe('application menu', () => {
  it('has About and Quit, and no Reload or DevTools when packaged', () => {
    const chosen = options();
    const template = appMenuTemplate(chosen);
    expect(roles(template)).toContain('quit');
    expect(roles(template)).not.toContain('reload');
    expect(roles(template)).not.toContain('toggleDevTools');
    click(submenu(template, 'Keel').find((item) => item.label === 'About Keel'));
    expect(chosen.showAbout).toHaveBeenCalledOnce();
  });

  it('adds Reload and Toggle DevTools when not packaged', () => {
    const template = appMenuTemplate(options({ isPackaged: false }));
    expect(roles(template)).toEqual(expect.arrayContaining(['reload', 'toggleDevTools', 'quit', 'copy', 'paste']));
  });

  it('File has Export diagnostics… and Open bundle…, each calling only its own command', () => {
    const chosen = options();
    const file = submenu(appMenuTemplate(chosen), 'File');
    expect(file.map((item) => [item.label, item.accelerator])).toEqual([
      ['Export diagnostics…', 'CmdOrCtrl+Shift+E'],
      ['Open bundle…', 'CmdOrCtrl+O'],
    ]);
    click(file[0]);
    expect(chosen.exportDiagnostics).toHaveBeenCalledOnce();
    expect(chosen.openBundle).not.toHaveBeenCalled();
    click(file[1]);
    expect(chosen.openBundle).toHaveBeenCalledOnce();
    expect(chosen.exportDiagnostics).toHaveBeenCalledOnce();
    expect(chosen.showAbout).not.toHaveBeenCalled();
  });
});
