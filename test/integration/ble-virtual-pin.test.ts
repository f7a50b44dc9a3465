/**
 * The in-process injection patches noble's driver loader and depends on noble's internals. This test fails when a
 * noble / bluetooth-hci-socket upgrade breaks it: the pinned versions, the internals it relies on, and the injection
 * working end to end (noble's real HCI code reaching poweredOn on the virtual controller).
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  installVirtualHciDriver,
  isVirtualHciDriverInstalled,
  locateNoble,
  PINNED_VERSIONS,
  VIRTUAL_HCI_DRIVER,
  VirtualHciSocket,
  verifyPinnedVersions,
} from '../../electron/ble/virtual/noble-driver.ts'
import { createVirtualNoble, VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { stopNoble } from '../support/ble-virtual-helpers.ts'

describe('virtual HCI driver version pin', () => {
  it('package.json pins noble exactly to the verified version', () => {
    const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '../../package.json'), 'utf8')) as { dependencies: Record<string, string> }
    expect(pkg.dependencies['@stoprocent/noble']).toBe(PINNED_VERSIONS.noble)
  })

  it('the installed noble and bluetooth-hci-socket are the pinned versions', () => {
    const inst = locateNoble()
    expect({ noble: inst.nobleVersion, hciSocket: inst.hciSocketVersion }).toEqual({ ...PINNED_VERSIONS })
    expect(() => verifyPinnedVersions({ noble: inst.nobleVersion, hciSocket: inst.hciSocketVersion })).not.toThrow()
  })

  it('refuses other versions with a clear error', () => {
    expect(() => verifyPinnedVersions({ noble: '2.9.0', hciSocket: PINNED_VERSIONS.hciSocket })).toThrow(
      /refuses to install: found @stoprocent\/noble 2\.9\.0 \(pinned 2\.8\.0\)/,
    )
    expect(() => verifyPinnedVersions({ noble: PINNED_VERSIONS.noble, hciSocket: '3.0.0' })).toThrow(/bluetooth-hci-socket 3\.0\.0 \(pinned 2\.3\.0\)/)
  })

  it("noble's internals the injection relies on are still there", () => {
    const inst = locateNoble()
    const hciJs = readFileSync(inst.hciJsPath, 'utf8')
    // hci.js takes loadDriver from the hci-socket module and instantiates the driver named by options.hciDriver.
    expect(hciJs).toMatch(/const \{ loadDriver \} = require\('@stoprocent\/bluetooth-hci-socket'\)/)
    expect(hciJs).toMatch(/loadDriver\(options\.hciDriver \|\| 'default'\)/)
    expect(hciJs).toMatch(/bindParams/)
    // the factory without side effects
    const withBindings: unknown = inst.nobleRequire('../resolve-bindings.js')
    expect(typeof withBindings).toBe('function')
    const mod = inst.nobleRequire('@stoprocent/bluetooth-hci-socket') as { loadDriver: unknown }
    expect(typeof mod.loadDriver).toBe('function')
    // the socket surface hci.js calls is what VirtualHciSocket implements
    for (const m of ['bindRaw', 'bindUser', 'start', 'stop', 'isDevUp', 'setFilter', 'write']) {
      expect(hciJs).toContain(`this._socket.${m}(`)
      expect(typeof (VirtualHciSocket.prototype as unknown as Record<string, unknown>)[m]).toBe('function')
    }
  })

  it('installs idempotently; the patched loader yields the virtual socket and delegates other names', () => {
    installVirtualHciDriver()
    installVirtualHciDriver()
    expect(isVirtualHciDriverInstalled()).toBe(true)
    const inst = locateNoble()
    const mod = inst.nobleRequire('@stoprocent/bluetooth-hci-socket') as { loadDriver: (t: string) => unknown }
    expect(mod.loadDriver(VIRTUAL_HCI_DRIVER)).toBe(VirtualHciSocket)
    const socketDir = inst.hciSocketDir
    expect(mod.loadDriver('some-unknown-driver')).toBe(createRequire(join(socketDir, 'index.js'))('./lib/unsupported.js'))
  })

  it("noble's real HCI code reaches poweredOn through the injected driver", async () => {
    const radio = new VirtualRadio()
    const noble = createVirtualNoble(radio)
    try {
      await noble.waitForPoweredOnAsync(10_000)
      expect(noble.state).toBe('poweredOn')
      expect(radio.controllerOf(noble)?.attached).toBe(true)
    } finally {
      await stopNoble(noble)
      await radio.close()
    }
  })
})
