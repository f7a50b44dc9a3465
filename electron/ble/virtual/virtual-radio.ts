/**
 * The virtual radio: simulated peripherals on a shared medium, one virtual HCI controller per virtual adapter, and
 * the two ways in — in-process for noble ({@link createVirtualNoble}) and a pseudo-terminal HCI UART
 * ({@link VirtualRadio.serveOnPty}).
 *
 * ```ts
 * const radio = new VirtualRadio()
 * const sensor = radio.addPeripheral(definition)          // a PeripheralDefinition (gatt-table.ts)
 * const noble = createVirtualNoble(radio)                  // noble's real HCI stack on a virtual controller
 * await noble.waitForPoweredOnAsync()
 * sensor.setLink({ interference: 0.1, distanceM: 5 })      // induce losses / move the sensor
 * sensor.disconnect(0x13); sensor.stopResponding(); sensor.failNext(0x0a, 0x02); sensor.outOfRange()
 * noble.stop(); await radio.close()
 * ```
 */
import { createRequire } from 'node:module'
import type { Noble } from '@stoprocent/noble'
import type { PeripheralDefinition } from './gatt-table.ts'
import { normalizeAddress } from './h4.ts'
import { VirtualHciController, type HciControllerOptions, type RadioMedium } from './hci-controller.ts'
import type { LinkSettings } from './link-model.ts'
import { BIND_KEY, installVirtualHciDriver, VIRTUAL_HCI_DRIVER } from './noble-driver.ts'
import { PtyServer, type PtyServerOptions } from './pty-server.ts'
import { VirtualPeripheral } from './virtual-peripheral.ts'

export interface AddPeripheralOptions {
  /** Initial link settings (distance, interference, connection interval, ...). */
  link?: Partial<LinkSettings>
  /** Seed of the peripheral's randomness (RSSI walk, losses): reproducible runs. */
  seed?: number
}

/** Options of noble's `withBindings('hci', …)` that bind it to a virtual controller. */
export interface VirtualNobleBindingOptions {
  hciDriver: string
  bindParams: Record<string, unknown>
}

export class VirtualRadio implements RadioMedium {
  private readonly byAddress = new Map<string, VirtualPeripheral>()
  private readonly controllers = new Set<VirtualHciController>()
  private readonly servers = new Set<PtyServer>()
  private readonly nobles = new WeakMap<object, VirtualHciController>()

  /** Add a simulated peripheral; it advertises at once. */
  addPeripheral(definition: PeripheralDefinition, options: AddPeripheralOptions = {}): VirtualPeripheral {
    const p = new VirtualPeripheral(definition, options.link, options.seed)
    if (this.byAddress.has(p.address)) throw new Error(`a peripheral with address ${p.address} is already on the radio`)
    this.byAddress.set(p.address, p)
    return p
  }

  /** Remove (switch off) a peripheral; its link drops with a supervision timeout. */
  removePeripheral(peripheral: VirtualPeripheral | string): boolean {
    const address = typeof peripheral === 'string' ? normalizeAddress(peripheral) : peripheral.address
    const p = this.byAddress.get(address)
    if (!p) return false
    this.byAddress.delete(address)
    p.markRemoved()
    return true
  }

  peripheral(address: string): VirtualPeripheral | undefined {
    try {
      return this.byAddress.get(normalizeAddress(address))
    } catch {
      return undefined
    }
  }

  peripherals(): IterableIterator<VirtualPeripheral> {
    return this.byAddress.values()
  }

  /** A new virtual adapter on this radio. */
  createController(options: HciControllerOptions = {}): VirtualHciController {
    const c = new VirtualHciController(this, options)
    this.controllers.add(c)
    return c
  }

  /**
   * noble `withBindings('hci', options)` options that bind it to `controller`; installs the virtual driver (throws on
   * unpinned noble versions). No `extended`: noble picks legacy or extended commands from the controller's features
   * (controller option `extended`).
   */
  nobleOptions(controller: VirtualHciController = this.createController()): VirtualNobleBindingOptions {
    installVirtualHciDriver()
    return { hciDriver: VIRTUAL_HCI_DRIVER, bindParams: { [BIND_KEY]: controller } }
  }

  /** The controller a noble made by {@link createVirtualNoble} is bound to. */
  controllerOf(noble: object): VirtualHciController | undefined {
    return this.nobles.get(noble)
  }

  /** @internal */
  registerNoble(noble: object, controller: VirtualHciController): void {
    this.nobles.set(noble, controller)
  }

  /**
   * Serve a new controller of this radio as an HCI UART (H4) device: PATH becomes a link to a pseudo-terminal that
   * noble's UART driver can open. Serves until the returned server is stopped (or the radio closed).
   */
  async serveOnPty(path: string, options: PtyServerOptions & { controller?: HciControllerOptions } = {}): Promise<PtyServer> {
    const controller = this.createController(options.controller)
    const server = new PtyServer(controller, path, options)
    try {
      await server.start()
    } catch (e) {
      controller.close()
      this.controllers.delete(controller)
      throw e
    }
    this.servers.add(server)
    return server
  }

  /** Stop everything: pty servers (socat killed), controllers (links dropped). */
  async close(): Promise<void> {
    await Promise.all([...this.servers].map((s) => s.stop()))
    this.servers.clear()
    for (const c of this.controllers) c.close()
    this.controllers.clear()
  }
}

export interface CreateVirtualNobleOptions extends HciControllerOptions {
  /** Use this controller instead of creating one. */
  controller?: VirtualHciController
}

/**
 * A noble instance whose HCI socket is a virtual controller of `radio` (noble's real HCI/GAP/ATT code). Installs the
 * virtual driver first (throws on unpinned noble versions). Stop it with `noble.stop()`.
 */
export function createVirtualNoble(radio: VirtualRadio, options: CreateVirtualNobleOptions = {}): Noble {
  const inst = installVirtualHciDriver()
  const controller = options.controller ?? radio.createController(options)
  const withBindings = inst.nobleRequire('../resolve-bindings.js') as (type: string, options: object) => Noble
  const noble = withBindings('hci', radio.nobleOptions(controller))
  radio.registerNoble(noble, controller)
  return noble
}

/** Create a noble that uses its UART driver on `port` (e.g. a pty served by {@link VirtualRadio.serveOnPty}). */
export function createUartNoble(port: string, baudRate = 1_000_000): Noble {
  const req = createRequire(import.meta.url)
  const withBindings = req('@stoprocent/noble/lib/resolve-bindings.js') as (type: string, options: object) => Noble
  return withBindings('hci', { hciDriver: 'uart', bindParams: { uart: { port, baudRate } } })
}
