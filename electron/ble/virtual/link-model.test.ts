import { afterEach, describe, expect, it } from 'vitest'
import {
  ACL_HEADROOM,
  checkLinkSettings,
  createRandom,
  DEFAULT_LINK_SETTINGS,
  GilbertElliott,
  L2CAP_PAYLOAD_OFFSET,
  LinkModel,
  meanRssi,
  RssiModel,
  type LinkIo,
  type LinkSettings,
} from './link-model.ts'

describe('Gilbert–Elliott channel', () => {
  for (const loss of [0.02, 0.1, 0.3, 0.6, 0.9]) {
    it(`mean loss ≈ ${loss}`, () => {
      const ge = new GilbertElliott(createRandom(42), loss, 4)
      let lost = 0
      const n = 200_000
      for (let i = 0; i < n; i++) if (ge.lost()) lost++
      expect(Math.abs(lost / n - loss)).toBeLessThan(0.02)
    })
  }

  it('loses in bursts of the configured mean length', () => {
    const ge = new GilbertElliott(createRandom(7), 0.1, 5)
    let bursts = 0
    let lost = 0
    let prev = false
    for (let i = 0; i < 200_000; i++) {
      const l = ge.lost()
      if (l) lost++
      if (l && !prev) bursts++
      prev = l
    }
    expect(lost / bursts).toBeGreaterThan(4)
    expect(lost / bursts).toBeLessThan(6)
  })

  it('0 loses nothing, 1 loses everything', () => {
    const none = new GilbertElliott(createRandom(1), 0)
    const all = new GilbertElliott(createRandom(1), 1)
    for (let i = 0; i < 1000; i++) {
      expect(none.lost()).toBe(false)
      expect(all.lost()).toBe(true)
    }
  })
})

describe('RSSI', () => {
  it('follows log-distance path loss: -59 dBm at 1 m, about -81 dBm at 10 m', () => {
    expect(meanRssi({ ...DEFAULT_LINK_SETTINGS, distanceM: 1 })).toBeCloseTo(-59, 5)
    expect(meanRssi({ ...DEFAULT_LINK_SETTINGS, distanceM: 10 })).toBeCloseTo(-81, 5)
  })

  it('walks randomly around the mean with the configured spread', () => {
    const settings: LinkSettings = { ...DEFAULT_LINK_SETTINGS, distanceM: 5 }
    const m = new RssiModel(settings, createRandom(3), 0)
    const samples: number[] = []
    for (let t = 100; t <= 200_000; t += 100) samples.push(m.sample(t))
    const mean = samples.reduce((a, b) => a + b, 0) / samples.length
    const sd = Math.sqrt(samples.reduce((a, b) => a + (b - mean) ** 2, 0) / samples.length)
    expect(Math.abs(mean - meanRssi(settings))).toBeLessThan(1)
    expect(sd).toBeGreaterThan(1)
    expect(sd).toBeLessThan(3.5)
    // consecutive samples are correlated (a walk, not white noise)
    let diff = 0
    for (let i = 1; i < samples.length; i++) diff += Math.abs((samples[i] as number) - (samples[i - 1] as number))
    expect(diff / (samples.length - 1)).toBeLessThan(sd)
  })

  it('is out of range beyond the sensitivity', () => {
    const settings: LinkSettings = { ...DEFAULT_LINK_SETTINGS, distanceM: 200 }
    expect(new RssiModel(settings, createRandom(1)).inRange()).toBe(false)
    settings.distanceM = 20
    expect(new RssiModel(settings, createRandom(1)).inRange()).toBe(true)
  })
})

describe('link settings', () => {
  it('rejects nonsense with a clear message', () => {
    expect(() => checkLinkSettings({ interference: 1.5 })).toThrow(/interference must be a number in \[0, 1\]/)
    expect(() => checkLinkSettings({ connectionIntervalMs: 5 })).toThrow(/connectionIntervalMs/)
    expect(checkLinkSettings({ packetsPerEvent: 3.7 }).packetsPerEvent).toBe(3)
    expect(() => checkLinkSettings({ retransmissions: -1 })).toThrow(/retransmissions must be a number in \[0, 255\]/)
  })
})

describe('LinkModel', () => {
  const models: LinkModel[] = []
  afterEach(() => {
    for (const m of models.splice(0)) m.close()
  })

  function setup(settings: Partial<LinkSettings>): { model: LinkModel; delivered: Buffer[]; toPeripheral: Buffer[]; completed: number[]; timeouts: number[] } {
    const delivered: Buffer[] = []
    const toPeripheral: Buffer[] = []
    const completed: number[] = []
    const timeouts: number[] = []
    const io: LinkIo = {
      toCentral: (frame, index) => {
        if (index === 0) delivered.push(frame)
      },
      toPeripheral: (p) => toPeripheral.push(p),
      eventDone: (n) => completed.push(n),
      supervisionTimeout: () => timeouts.push(performance.now()),
    }
    const model = new LinkModel({ ...DEFAULT_LINK_SETTINGS, ...settings }, io, createRandom(5))
    models.push(model)
    return { model, delivered, toPeripheral, completed, timeouts }
  }

  function frame(seq: number, payload = 4): Buffer {
    const f = Buffer.alloc(L2CAP_PAYLOAD_OFFSET + payload)
    f.writeUInt16LE(payload, ACL_HEADROOM)
    f.writeUInt16LE(4, ACL_HEADROOM + 2)
    f.writeUInt16LE(seq, L2CAP_PAYLOAD_OFFSET)
    return f
  }

  const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
  async function until(cond: () => boolean, what: string): Promise<void> {
    const t0 = performance.now()
    while (!cond()) {
      if (performance.now() - t0 > 5000) throw new Error(`timeout: ${what}`)
      await wait(5)
    }
  }

  it('refuses notifications beyond the transmit queue, never reliable frames', () => {
    const { model } = setup({ txQueuePackets: 5, connectionIntervalMs: 1000 })
    const results = Array.from({ length: 8 }, (_, i) => model.send(frame(i), false))
    expect(results).toEqual([true, true, true, true, true, false, false, false])
    expect(model.send(frame(99), true)).toBe(true)
    expect(model.stats.droppedQueueFull).toBe(3)
    expect(model.queuedPdus).toBe(6)
  })

  it('counts PDUs per frame from the PDU size (fragmentation)', () => {
    const { model } = setup({})
    expect(model.pdusFor(27)).toBe(1)
    expect(model.pdusFor(28)).toBe(2)
    expect(model.pdusFor(251)).toBe(10)
    model.pduOctets = 251
    expect(model.pdusFor(251)).toBe(1)
  })

  it('delivers in connection events, in order, and acknowledges the central\'s packets', async () => {
    const { model, delivered, toPeripheral, completed } = setup({ connectionIntervalMs: 10, packetsPerEvent: 2 })
    for (let i = 0; i < 6; i++) model.send(frame(i), false)
    model.fromCentral(Buffer.from([2, 0x40, 0, 0, 0]))
    await until(() => delivered.length === 6 && completed.some((n) => n > 0), 'delivery')
    expect(delivered.map((f) => f.readUInt16LE(L2CAP_PAYLOAD_OFFSET))).toEqual([0, 1, 2, 3, 4, 5])
    expect(toPeripheral.length).toBe(1)
    expect(completed.reduce((a, b) => a + b, 0)).toBe(1)
    expect(model.stats.notificationsDelivered).toBe(6)
  })

  it('loses notifications under interference but delivers reliable frames', async () => {
    const { model, delivered } = setup({ connectionIntervalMs: 7.5, packetsPerEvent: 50, interference: 0.5, txQueuePackets: 1000 })
    for (let i = 0; i < 400; i++) model.send(frame(i), false)
    for (let i = 1000; i < 1010; i++) model.send(frame(i), true)
    await until(() => model.queuedPdus === 0, 'queue drained')
    const seqs = delivered.map((f) => f.readUInt16LE(L2CAP_PAYLOAD_OFFSET))
    expect(seqs.filter((s) => s >= 1000)).toEqual(Array.from({ length: 10 }, (_, i) => 1000 + i))
    const notes = seqs.filter((s) => s < 1000).length
    expect(notes).toBeGreaterThan(100)
    expect(notes).toBeLessThan(300)
    expect(model.stats.lostOnAir).toBe(400 - notes)
  })

  it('with retransmissions, interference costs capacity, not notifications: all arrive, in order', async () => {
    const { model, delivered } = setup({ connectionIntervalMs: 7.5, packetsPerEvent: 50, interference: 0.5, txQueuePackets: 1000, retransmissions: 255 })
    for (let i = 0; i < 400; i++) model.send(frame(i), false)
    await until(() => model.queuedPdus === 0, 'queue drained')
    expect(delivered.map((f) => f.readUInt16LE(L2CAP_PAYLOAD_OFFSET))).toEqual(Array.from({ length: 400 }, (_, i) => i))
    expect(model.stats.lostOnAir).toBe(0)
    expect(model.stats.notificationsDelivered).toBe(400)
  })

  it('a notification out of retries is flushed: fewer are lost than without retries', async () => {
    const lostWith = async (retransmissions: number): Promise<number> => {
      const { model } = setup({ connectionIntervalMs: 7.5, packetsPerEvent: 50, interference: 0.5, txQueuePackets: 1000, retransmissions })
      for (let i = 0; i < 400; i++) model.send(frame(i), false)
      await until(() => model.queuedPdus === 0, 'queue drained')
      return model.stats.lostOnAir
    }
    const flushed = await lostWith(0)
    const retried = await lostWith(2)
    expect(retried).toBeGreaterThan(0)
    expect(retried).toBeLessThan(flushed)
  })

  it('a jammed link times out after the supervision timeout', async () => {
    const { model, timeouts } = setup({})
    model.supervisionTimeoutMs = 100
    model.setJammed(true)
    expect(timeouts.length).toBe(0)
    await until(() => timeouts.length === 1, 'supervision timeout')
  })

  it('a link back in range before the timeout survives', async () => {
    const { model, timeouts } = setup({})
    model.supervisionTimeoutMs = 100
    model.setJammed(true)
    await wait(30)
    model.setJammed(false)
    await wait(150)
    expect(timeouts.length).toBe(0)
  })

  it('keeps order across a growing queue of reliable frames', async () => {
    const { model, delivered } = setup({ connectionIntervalMs: 7.5, packetsPerEvent: 20 })
    for (let i = 0; i < 300; i++) model.send(frame(i), true)
    await until(() => delivered.length === 300, 'delivery')
    expect(delivered.map((f) => f.readUInt16LE(L2CAP_PAYLOAD_OFFSET))).toEqual(Array.from({ length: 300 }, (_, i) => i))
  })

  it('close() reports undelivered frames', () => {
    const { model } = setup({ connectionIntervalMs: 1000 })
    const outcomes: boolean[] = []
    model.send(frame(1), true, (d) => outcomes.push(d))
    model.close()
    expect(outcomes).toEqual([false])
    expect(model.send(frame(2), false)).toBe(false)
  })
})
