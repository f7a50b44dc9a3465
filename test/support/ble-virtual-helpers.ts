/** Helpers for the virtual radio tests: event-driven waits with generous timeouts, noble plumbing. */
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble'
import type { VirtualPeripheral } from '../../electron/ble/virtual/virtual-peripheral.ts'
import { createVirtualNoble, VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { testPeripheral, type TestPeripheral } from './ble-virtual-fixture.ts'

/** Reject after `ms` with a message naming what was awaited (noble may never call back on ATT errors). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout after ${ms} ms: ${what}`)), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

/** Resolve with the first peripheral whose address matches (scanning must be on). */
export function discover(noble: Noble, address: string, ms = 10_000): Promise<Peripheral> {
  let onDiscover: ((p: Peripheral) => void) | undefined
  return within(
    new Promise<Peripheral>((resolve) => {
      onDiscover = (p: Peripheral): void => {
        if (p.address === address) resolve(p)
      }
      noble.on('discover', onDiscover)
    }),
    ms,
    `discovery of ${address}`,
  ).finally(() => {
    if (onDiscover) noble.removeListener('discover', onDiscover)
  })
}

/** Scan until `address` is seen, then stop scanning. */
export async function scanFor(noble: Noble, address: string, ms = 10_000): Promise<Peripheral> {
  const found = discover(noble, address, ms)
  await noble.startScanningAsync([], false)
  try {
    return await found
  } finally {
    await noble.stopScanningAsync()
  }
}

/** Wait for a peripheral's 'disconnect' event; resolves with the reason. */
export function disconnected(p: Peripheral, ms = 10_000): Promise<unknown> {
  return within(new Promise((resolve) => p.once('disconnect', resolve)), ms, `disconnect of ${p.address}`)
}

/** Collect `count` notifications of a characteristic. */
export function collect(c: Characteristic, count: number, ms = 10_000): Promise<Buffer[]> {
  const got: Buffer[] = []
  return within(
    new Promise<Buffer[]>((resolve) => {
      const onData = (d: Buffer): void => {
        got.push(d)
        if (got.length >= count) {
          c.removeListener('data', onData)
          resolve(got)
        }
      }
      c.on('data', onData)
    }),
    ms,
    `${count} notifications of ${c.uuid} (got ${got.length})`,
  )
}

/** Poll a condition (for state that has no event), event-loop friendly. */
export async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const t0 = performance.now()
  while (!cond()) {
    if (performance.now() - t0 > ms) throw new Error(`timeout after ${ms} ms: ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Stop a noble instance (its HCI socket / serial port) and let pending callbacks run. */
export async function stopNoble(noble: Noble | undefined): Promise<void> {
  if (!noble) return
  noble.removeAllListeners('discover')
  noble.stop()
  await new Promise((r) => setTimeout(r, 20))
}

/** True while a process with this PID exists (signal 0 only probes). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** A virtual radio with one test peripheral and an in-process noble, powered on. */
export interface VirtualNobleRig {
  radio: VirtualRadio
  noble: Noble
  tp: TestPeripheral
  vp: VirtualPeripheral
}

export async function startVirtualNobleRig(seeds: { peripheral: number; noble: number }, address?: string, name?: string): Promise<VirtualNobleRig> {
  const radio = new VirtualRadio()
  const tp = testPeripheral(address, name)
  const vp = radio.addPeripheral(tp.definition, { seed: seeds.peripheral })
  const noble = createVirtualNoble(radio, { seed: seeds.noble })
  await noble.waitForPoweredOnAsync(10_000)
  return { radio, noble, tp, vp }
}

export async function stopVirtualNobleRig(rig: Pick<VirtualNobleRig, 'radio' | 'noble'>): Promise<void> {
  await stopNoble(rig.noble)
  await rig.radio.close()
}
