/**
 * Figures (measured and printed, not asserted): notifications per second one link sustains through noble's real
 * stack on the in-process virtual radio, CPU per notification, and the CPU of a 500 Hz notification stream
 * (controller + link model + noble, all in this process). The assertions only check that the data arrived.
 */
import type { Characteristic, Noble, Peripheral } from '@stoprocent/noble'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import type { VirtualPeripheral } from '../../electron/ble/virtual/virtual-peripheral.ts'
import type { VirtualRadio } from '../../electron/ble/virtual/virtual-radio.ts'
import { CHAR_NOTIFY, TEST_SERVICE, type TestPeripheral } from '../support/ble-virtual-fixture.ts'
import { disconnected, scanFor, startVirtualNobleRig, stopVirtualNobleRig, until, within } from '../support/ble-virtual-helpers.ts'

let radio: VirtualRadio
let noble: Noble
let tp: TestPeripheral
let vp: VirtualPeripheral
let p: Peripheral
let stream: Characteristic
const figures: Record<string, string> = {}

beforeAll(async () => {
  ;({ radio, noble, tp, vp } = await startVirtualNobleRig({ peripheral: 31, noble: 32 }, 'c0:ff:ee:00:00:31', 'OT-Perf'))
  p = await scanFor(noble, tp.definition.address)
  await within(p.connectAsync(), 10_000, 'connect')
  const { characteristics } = await within(p.discoverSomeServicesAndCharacteristicsAsync([TEST_SERVICE], [CHAR_NOTIFY]), 10_000, 'discover')
  stream = characteristics[0] as Characteristic
  await within(stream.subscribeAsync(), 5000, 'subscribe')
})

afterEach(() => {
  stream.removeAllListeners('data')
})

afterAll(async () => {
  if (p.state === 'connected') {
    const gone = disconnected(p)
    await within(p.disconnectAsync(), 5000, 'disconnect')
    await gone
  }
  await stopVirtualNobleRig({ radio, noble })
  console.log(`\nvirtual radio figures (in-process, noble ${'2.8.0'}):\n` + Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`).join('\n'))
})

interface Run {
  sent: number
  received: number
  seconds: number
  cpuMs: number
}

/** Wait until the previous run's notifications have drained and reached noble. */
async function drained(): Promise<void> {
  await until(() => (tp.api?.queued ?? 0) === 0, 10_000, 'transmit queue drained')
  await new Promise((r) => setTimeout(r, 50))
}

/** Keep the sensor's transmit queue full for `ms` (notify until it refuses), count what noble delivers. */
async function saturate(ms: number): Promise<Run> {
  await drained()
  let received = 0
  stream.on('data', () => received++)
  const payload = Buffer.alloc(4)
  let sent = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      if (performance.now() - t0 >= ms) {
        clearInterval(t)
        resolve()
        return
      }
      for (;;) {
        payload.writeUInt16LE(sent & 0xffff, 0)
        if (!tp.api?.notify(CHAR_NOTIFY, payload)) break
        sent++
      }
    }, 1)
  })
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const counted = received
  await drained() // before the next test changes the link
  return { sent, received: counted, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }
}

/** A steady `hz` stream of 4-byte notifications (seq, sample) for `ms`, generated in 10 ms batches. */
async function steady(hz: number, ms: number): Promise<Run> {
  await drained()
  let received = 0
  stream.on('data', () => received++)
  const payload = Buffer.alloc(4)
  let sent = 0
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise<void>((resolve) => {
    const t = setInterval(() => {
      const elapsed = performance.now() - t0
      const due = Math.min(Math.floor((elapsed * hz) / 1000), Math.floor((ms * hz) / 1000))
      while (sent < due) {
        payload.writeUInt16LE(sent & 0xffff, 0)
        payload.writeInt16LE(Math.round(1000 * Math.sin(sent / 20)), 2)
        tp.api?.notify(CHAR_NOTIFY, payload)
        sent++
      }
      if (elapsed >= ms) {
        clearInterval(t)
        resolve()
      }
    }, 10)
  })
  const seconds = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  await drained() // the last batch still in flight counts as delivered
  return { sent, received, seconds, cpuMs: (cpu.user + cpu.system) / 1000 }
}

describe('virtual radio performance through noble', () => {
  it('default link (7.5 ms interval, 4 PDUs per event): sustained notifications per second', async () => {
    vp.setLink({ connectionIntervalMs: 7.5, packetsPerEvent: 4, txQueuePackets: 32 })
    const r = await saturate(3000)
    expect(r.received).toBeGreaterThan(0)
    const rate = r.received / r.seconds
    figures['default link, saturated'] = `${rate.toFixed(0)} notifications/s (link capacity ${(4000 / 7.5).toFixed(0)}/s), ` +
      `${((r.cpuMs * 1000) / r.received).toFixed(1)} µs CPU per notification, ${((r.cpuMs / (r.seconds * 1000)) * 100).toFixed(1)} % of a core`
  })

  it('unthrottled link (1000 PDUs per event): what noble\'s stack sustains', async () => {
    vp.setLink({ connectionIntervalMs: 7.5, packetsPerEvent: 1000, txQueuePackets: 4096 })
    const r = await saturate(3000)
    expect(r.received).toBeGreaterThan(0)
    const rate = r.received / r.seconds
    figures['unthrottled link, saturated'] = `${rate.toFixed(0)} notifications/s, ` +
      `${((r.cpuMs * 1000) / r.received).toFixed(1)} µs CPU per notification, ${((r.cpuMs / (r.seconds * 1000)) * 100).toFixed(1)} % of a core`
  })

  it('500 Hz stream on the default link: CPU of controller + noble', async () => {
    vp.setLink({ connectionIntervalMs: 7.5, packetsPerEvent: 4, txQueuePackets: 32 })
    const r = await steady(500, 5000)
    expect(r.sent).toBeGreaterThan(2000)
    expect(r.received).toBeGreaterThan(r.sent * 0.95)
    figures['500 Hz stream'] = `${r.received}/${r.sent} delivered in ${r.seconds.toFixed(1)} s, ` +
      `${((r.cpuMs / (r.seconds * 1000)) * 100).toFixed(2)} % of one core (target < 5 %), ${((r.cpuMs * 1000) / r.received).toFixed(1)} µs per notification`
  })
})
