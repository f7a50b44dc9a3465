/**
 * In-process way into the virtual radio: a driver for noble's HCI layer.
 *
 * noble's lib/hci-socket/hci.js takes `loadDriver` from `@stoprocent/bluetooth-hci-socket` when it is first required
 * and instantiates `new (loadDriver(options.hciDriver || 'default'))()`. {@link installVirtualHciDriver} wraps
 * `loadDriver` on that very module object (resolved from noble's own directory) so that the driver name
 * {@link VIRTUAL_HCI_DRIVER} yields {@link VirtualHciSocket}; every other name goes to the original. noble's real HCI,
 * GAP, L2CAP and ATT code then runs against the virtual controller.
 *
 * The mechanism depends on noble's internals, so it is pinned: it refuses to install on other versions than the ones
 * it was verified with, and test/integration/ble-virtual-pin.test.ts fails when an upgrade breaks it.
 */
import { EventEmitter } from 'node:events'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import type { VirtualHciController } from './hci-controller.ts'

/** The hciDriver name that selects the virtual socket. */
export const VIRTUAL_HCI_DRIVER = 'objecttwin-virtual'

/** Versions the injection was verified with (package.json pins noble exactly; hci-socket comes with it). */
export const PINNED_VERSIONS = Object.freeze({ noble: '2.8.0', hciSocket: '2.3.0' })

/** Key in noble's `bindParams` that carries the controller to bind to. */
export const BIND_KEY = 'objecttwinVirtualController'

const PATCH_MARK = Symbol.for('objecttwin.virtualHciDriver')

interface HciSocketModule {
  loadDriver: ((type: string) => unknown) & { [PATCH_MARK]?: true }
}

export interface NobleInstallation {
  nobleDir: string
  nobleVersion: string
  hciSocketDir: string
  hciSocketVersion: string
  /** require() that resolves like noble's hci.js does. */
  nobleRequire: NodeJS.Require
  hciJsPath: string
}

/** Locate noble and the hci-socket module noble's hci.js will load. */
export function locateNoble(): NobleInstallation {
  const req = createRequire(import.meta.url)
  let noblePkg: string
  try {
    noblePkg = req.resolve('@stoprocent/noble/package.json')
  } catch {
    throw new Error('virtual HCI driver: @stoprocent/noble is not installed')
  }
  const nobleDir = dirname(noblePkg)
  const hciJsPath = join(nobleDir, 'lib', 'hci-socket', 'hci.js')
  const nobleRequire = createRequire(hciJsPath)
  let socketPkg: string
  try {
    socketPkg = nobleRequire.resolve('@stoprocent/bluetooth-hci-socket/package.json')
  } catch {
    throw new Error('virtual HCI driver: @stoprocent/bluetooth-hci-socket (noble dependency) is not installed')
  }
  const version = (file: string): string => String((JSON.parse(readFileSync(file, 'utf8')) as { version?: unknown }).version)
  return {
    nobleDir,
    nobleVersion: version(noblePkg),
    hciSocketDir: dirname(socketPkg),
    hciSocketVersion: version(socketPkg),
    nobleRequire,
    hciJsPath,
  }
}

/** Throw a clear error unless the versions are the pinned ones. */
export function verifyPinnedVersions(found: { noble: string; hciSocket: string }): void {
  const bad: string[] = []
  if (found.noble !== PINNED_VERSIONS.noble) bad.push(`@stoprocent/noble ${found.noble} (pinned ${PINNED_VERSIONS.noble})`)
  if (found.hciSocket !== PINNED_VERSIONS.hciSocket) {
    bad.push(`@stoprocent/bluetooth-hci-socket ${found.hciSocket} (pinned ${PINNED_VERSIONS.hciSocket})`)
  }
  if (bad.length) {
    throw new Error(
      `virtual HCI driver refuses to install: found ${bad.join(', ')}. The injection patches noble's driver loader ` +
        'and was verified only with the pinned versions; re-verify (test/integration/ble-virtual-pin.test.ts) and update PINNED_VERSIONS.',
    )
  }
}

/**
 * Make `hciDriver: 'objecttwin-virtual'` available to noble. Idempotent. Throws a clear error when the installed
 * noble / bluetooth-hci-socket are not the pinned versions.
 */
export function installVirtualHciDriver(): NobleInstallation {
  const inst = locateNoble()
  verifyPinnedVersions({ noble: inst.nobleVersion, hciSocket: inst.hciSocketVersion })
  const mod = inst.nobleRequire('@stoprocent/bluetooth-hci-socket') as HciSocketModule
  if (typeof mod.loadDriver !== 'function') {
    throw new Error('virtual HCI driver: @stoprocent/bluetooth-hci-socket no longer exports loadDriver()')
  }
  if (mod.loadDriver[PATCH_MARK]) return inst
  const original = mod.loadDriver
  const patched = Object.assign((type: string): unknown => (type === VIRTUAL_HCI_DRIVER ? VirtualHciSocket : original(type)), {
    [PATCH_MARK]: true as const,
  })
  mod.loadDriver = patched
  // hci.js takes loadDriver when it is loaded. If noble's HCI bindings were already loaded (a real adapter was used
  // first), drop hci.js and bindings.js (which holds Hci) from the cache: bindings created from now on load them
  // again and see the patched loader; existing noble instances keep theirs.
  const cache = inst.nobleRequire.cache
  if (cache[inst.hciJsPath]) {
    delete cache[inst.hciJsPath]
    delete cache[join(dirname(inst.hciJsPath), 'bindings.js')]
  }
  return inst
}

/** True once the driver is installed. */
export function isVirtualHciDriverInstalled(): boolean {
  try {
    const inst = locateNoble()
    const mod = inst.nobleRequire('@stoprocent/bluetooth-hci-socket') as HciSocketModule
    return mod.loadDriver[PATCH_MARK] === true
  } catch {
    return false
  }
}

/**
 * The socket surface noble's hci.js uses, backed by a {@link VirtualHciController}: EventEmitter with 'data',
 * 'error', 'state'; bindRaw / bindUser / start / stop / isDevUp / setFilter / write. Packets are H4 with the type
 * byte, one per write and one per 'data' event, like the Linux HCI socket.
 */
export class VirtualHciSocket extends EventEmitter {
  private controller: VirtualHciController | undefined
  private started = false

  bindRaw(_devId?: number, params?: Record<string, unknown>): void {
    this.bind(params)
  }

  bindUser(_devId?: number, params?: Record<string, unknown>): void {
    this.bind(params)
  }

  private bind(params: Record<string, unknown> | undefined): void {
    const c = params?.[BIND_KEY] as VirtualHciController | undefined
    if (!c || typeof c.receive !== 'function' || typeof c.attach !== 'function') {
      throw new Error(`virtual HCI driver: bindParams.${BIND_KEY} must be a VirtualHciController`)
    }
    this.controller = c
  }

  start(): void {
    if (this.started || !this.controller) return
    this.controller.attach((packets) => {
      for (const p of packets) this.emit('data', p)
    })
    this.started = true
  }

  stop(): void {
    if (!this.started) return
    this.started = false
    this.controller?.detach()
  }

  isDevUp(): boolean {
    return this.started
  }

  setFilter(_filter: Buffer): void {}

  write(data: Buffer): void {
    if (!this.started || !this.controller) {
      this.emit('error', new Error('virtual HCI socket is not started'))
      return
    }
    this.controller.receive(data)
  }

  reset(): void {}

  cleanup(): void {}

  getDeviceList(): { devId: number; devUp: boolean; idVendor: null; idProduct: null; busNumber: null; deviceAddress: null }[] {
    return [{ devId: 0, devUp: this.started, idVendor: null, idProduct: null, busNumber: null, deviceAddress: null }]
  }
}
