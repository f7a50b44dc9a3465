import type { MenuItemConstructorOptions } from 'electron'
import type { ShellCommand } from '../../shared/api/bridge.ts'

/** Where Help → Documentation leads (through the http(s)-only external helper). */
export const HELP_LINKS = [
  { label: 'LwM2M Specification (OMA)', url: 'https://www.openmobilealliance.org/specifications/lwm2m' },
  { label: 'Bluetooth GATT Specifications', url: 'https://www.bluetooth.com/specifications/specs/' },
] as const

export interface MenuOptions {
  readonly appName: string
  readonly platform: NodeJS.Platform
  /** Packaged builds have no reload and no developer tools. */
  readonly isPackaged: boolean
  /** Sends a command to the renderer (e.g. the theme toggle). */
  readonly sendCommand: (command: ShellCommand) => void
  readonly openExternal: (url: string) => void
}

/**
 * The application menu: File, Edit, View, Window, Help (and the app menu on macOS). Built from
 * roles where Electron has one, so shortcuts and platform conventions come for free.
 */
export function menuTemplate(options: MenuOptions): MenuItemConstructorOptions[] {
  const mac = options.platform === 'darwin'
  const developer: MenuItemConstructorOptions[] = options.isPackaged ? [] : [{ role: 'reload' }, { role: 'forceReload' }, { role: 'toggleDevTools' }, { type: 'separator' }]
  const template: MenuItemConstructorOptions[] = [
    { label: 'File', submenu: [mac ? { role: 'close' } : { role: 'quit' }] },
    { label: 'Edit', submenu: [{ role: 'undo' }, { role: 'redo' }, { type: 'separator' }, { role: 'cut' }, { role: 'copy' }, { role: 'paste' }, { role: 'selectAll' }] },
    {
      label: 'View',
      submenu: [
        ...developer,
        { label: 'Toggle Theme', accelerator: 'CmdOrCtrl+Shift+T', click: () => options.sendCommand('toggle-theme') },
        { type: 'separator' },
        { role: 'resetZoom' },
        { role: 'zoomIn' },
        { role: 'zoomOut' },
        { type: 'separator' },
        { role: 'togglefullscreen' },
      ],
    },
    { label: 'Window', submenu: mac ? [{ role: 'minimize' }, { role: 'zoom' }, { type: 'separator' }, { role: 'front' }] : [{ role: 'minimize' }, { role: 'close' }] },
    {
      role: 'help',
      submenu: [
        ...HELP_LINKS.map((link): MenuItemConstructorOptions => ({ label: link.label, click: () => options.openExternal(link.url) })),
        ...(mac ? [] : [{ type: 'separator' } as const, { role: 'about' } as const]),
      ],
    },
  ]
  return mac ? [{ label: options.appName, role: 'appMenu' }, ...template] : template
}

/** Every role and label in a template, depth first (for tests and checks). */
export function menuItems(template: readonly MenuItemConstructorOptions[]): MenuItemConstructorOptions[] {
  return template.flatMap((item) => [item, ...(Array.isArray(item.submenu) ? menuItems(item.submenu as MenuItemConstructorOptions[]) : [])])
}
