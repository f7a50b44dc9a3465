import { createRequire } from 'node:module'
import { readdirSync } from 'node:fs'

/**
 * How BleAdapter obtains its noble instance. Called once, at first use, so that noble (a native module) is only
 * loaded when BLE is actually used and a missing or broken install becomes an adapter state, not a crash.
 * Returns a Noble instance (typed loosely on purpose: the real one, or one over the virtual radio).
 */
export interface NobleFactory {
  (): unknown
  /** Shown in states and errors, e.g. "hci0", "uart:/tmp/ttyHCI", "virtual radio". */
  readonly label?: string
  /** Refines noble's bare state for this kind of adapter, e.g. 'unsupported' → "unavailable: no adapter". */
  explainState?(nobleState: string): string | undefined
}

export interface HciOptions {
  /** HCI device number (hciN); default noble's (0, or NOBLE_HCI_DEVICE_ID). */
  deviceId?: number
  /** Exclusive HCI user channel (the adapter must be down). */
  userChannel?: boolean
  /** BLE 5 extended scanning/connecting; default: detected from the controller. */
  extended?: boolean
}

type WithBindings = (type: string, options?: object) => unknown

let withBindingsCache: WithBindings | undefined

/**
 * noble's `withBindings` without noble's index.js (which builds a default instance — and opens the default
 * adapter — at require time). CommonJS, so through createRequire.
 */
export function loadWithBindings(): WithBindings {
  if (withBindingsCache) return withBindingsCache
  const require = createRequire(import.meta.url)
  const fn: unknown = require('@stoprocent/noble/lib/resolve-bindings.js')
  if (typeof fn !== 'function') throw new Error('@stoprocent/noble/lib/resolve-bindings.js does not export a function (noble version changed?)')
  withBindingsCache = fn as WithBindings
  return withBindingsCache
}

function withLabel(fn: () => unknown, label: string, explainState?: (s: string) => string | undefined): NobleFactory {
  return Object.assign(fn, { label, ...(explainState ? { explainState } : {}) })
}

/** Linux: the adapters the kernel knows (/sys/class/bluetooth/hci*); undefined where that cannot be read. */
export function linuxHciDevices(): string[] | undefined {
  try {
    return readdirSync('/sys/class/bluetooth').filter((n) => /^hci\d+$/.test(n)).sort()
  } catch {
    return undefined
  }
}

/** noble's state explained for a Linux HCI socket. */
export function explainHciState(state: string, deviceId?: number): string | undefined {
  if (state === 'unauthorized') return 'unauthorized: needs cap_net_raw (run: sudo setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node)))'
  if (state !== 'unsupported' && state !== 'poweredOff') return undefined
  // Without the adapter noble reports 'unsupported' and 'poweredOff' in turns: say what is actually missing.
  const devices = linuxHciDevices()
  const wanted = `hci${deviceId ?? 0}`
  if (devices === undefined) return 'unavailable: no adapter (no Bluetooth support in this kernel: /sys/class/bluetooth is missing)'
  if (devices.length === 0) return 'unavailable: no adapter'
  if (!devices.includes(wanted)) return `unavailable: no adapter ${wanted} (present: ${devices.join(', ')})`
  if (state === 'poweredOff') return `poweredOff: ${wanted} is down (run: sudo hciconfig ${wanted} up, or rfkill unblock bluetooth)`
  return `unsupported: ${wanted} does not support Bluetooth Low Energy (or its HCI version is below 4.0)`
}

/** The local adapter through a Linux HCI socket (or noble's platform bindings elsewhere). */
export function hciNoble(options: HciOptions = {}): NobleFactory {
  return withLabel(() => loadWithBindings()('hci', { ...options }), `hci${options.deviceId ?? 0}`, (s) => explainHciState(s, options.deviceId))
}

/** An HCI controller on a serial port (H4 UART): a USB dongle in HCI mode, or `objecttwin sim --pty PATH`. */
export function uartNoble(port: string, baudRate = 1_000_000): NobleFactory {
  return withLabel(
    () => loadWithBindings()('hci', { hciDriver: 'uart', bindParams: { uart: { port, baudRate } } }),
    `uart:${port}`,
    (s) => (s === 'unsupported' || s === 'poweredOff' ? `unavailable: no HCI controller answering on ${port}` : undefined),
  )
}

/** noble's default for the platform: HCI on Linux, CoreBluetooth on macOS, WinRT on Windows. */
export function defaultNoble(): NobleFactory {
  return withLabel(() => loadWithBindings()('default'), 'default', (s) => {
    if (process.platform === 'linux') return explainHciState(s)
    if (s === 'unauthorized') return 'unauthorized: Bluetooth permission denied (allow it in the system settings)'
    if (s === 'unsupported') return 'unsupported: this machine has no Bluetooth Low Energy adapter'
    return undefined
  })
}
