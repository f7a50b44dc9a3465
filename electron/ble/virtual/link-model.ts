/**
 * Link model of the virtual radio: what the air between a simulated sensor and the adapter does to packets.
 *
 * - Capacity: a connection event every `connectionIntervalMs`, `packetsPerEvent` link-layer PDUs per direction and
 *   event. Queued traffic is delivered in batches per connection event by ONE timer per connection.
 * - The sensor's transmit queue is bounded (`txQueuePackets` PDUs): a notification that does not fit is dropped at
 *   the sensor (`notify` returns false), as real stacks do (NRF_ERROR_RESOURCES and the like).
 * - Interference 0..1: transmissions fail in bursts (two-state Gilbert–Elliott channel, mean failure rate ≈
 *   interference). Reliable traffic (ATT responses, indications, signalling) is never lost: a failure ends the
 *   connection event and the link layer retransmits at the next one. A notification hit by a failure is flushed at
 *   once by default (mean loss ≈ interference, whatever the load); with `retransmissions` > 0 it is retried like
 *   reliable traffic that many times first, so interference costs capacity instead and loss comes from the
 *   transmit queue overflowing: it grows with the notification rate (the paper's premise for adaptive sampling).
 *   Interference 1 jams the link: nothing gets through and the supervision timeout ends the connection.
 * - RSSI: mean from a log-distance path-loss model, plus a mean-reverting random walk (Ornstein–Uhlenbeck).
 */

import { mulberry32, type Random } from './prng.ts'

/** Settings of one peripheral's radio path; all adjustable at run time. */
export interface LinkSettings {
  /** 0..1: mean fraction of notifications lost on the air (bursty). */
  interference: number
  /** Distance to the adapter in metres (drives RSSI; beyond sensitivity the sensor is out of range). */
  distanceM: number
  /** Connection interval in ms (7.5 .. 4000, multiples of 1.25 ms are reported to the host). */
  connectionIntervalMs: number
  /** Link-layer PDUs per direction per connection event (real links: 1..~8; up to 1000 to take the link out of the way). */
  packetsPerEvent: number
  /** Bound of the sensor's notification transmit queue, in link-layer PDUs. */
  txQueuePackets: number
  /** Mean length of a loss burst, in notifications (Gilbert–Elliott bad state). */
  burstLength: number
  /**
   * Link-layer retries of a notification hit by interference before the sensor flushes it: 0 loses it at once
   * (loss ≈ interference at any rate); more make loss depend on the load (see above).
   */
  retransmissions: number
  /** RSSI at 1 m in dBm (includes the sensor's TX power). */
  rssiAt1m: number
  /** Path-loss exponent (2 free space, 2..3 indoors). */
  pathLossExponent: number
  /** Standard deviation of the RSSI random walk around its mean, dB. */
  rssiSigmaDb: number
  /** Receiver sensitivity: a sensor whose mean RSSI is below it is out of range. */
  sensitivityDbm: number
}

export const DEFAULT_LINK_SETTINGS: Readonly<LinkSettings> = Object.freeze({
  interference: 0,
  distanceM: 1,
  connectionIntervalMs: 7.5,
  packetsPerEvent: 4,
  txQueuePackets: 32,
  burstLength: 4,
  retransmissions: 0,
  rssiAt1m: -59,
  pathLossExponent: 2.2,
  rssiSigmaDb: 2,
  sensitivityDbm: -100,
})

/** Validate and clamp a partial update; throws on nonsense. */
export function checkLinkSettings(update: Partial<LinkSettings>): Partial<LinkSettings> {
  const out: Partial<LinkSettings> = { ...update }
  const num = (name: keyof LinkSettings, min: number, max: number): void => {
    const v = update[name]
    if (v === undefined) return
    if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max) {
      throw new RangeError(`link setting ${name} must be a number in [${min}, ${max}], not ${String(v)}`)
    }
  }
  num('interference', 0, 1)
  num('distanceM', 0.01, 100_000)
  num('connectionIntervalMs', 7.5, 4000)
  num('packetsPerEvent', 1, 1000)
  num('txQueuePackets', 1, 100_000)
  num('burstLength', 1, 10_000)
  num('retransmissions', 0, 255)
  num('rssiAt1m', -127, 20)
  num('pathLossExponent', 1, 6)
  num('rssiSigmaDb', 0, 30)
  num('sensitivityDbm', -127, 0)
  if (out.packetsPerEvent !== undefined) out.packetsPerEvent = Math.floor(out.packetsPerEvent)
  if (out.txQueuePackets !== undefined) out.txQueuePackets = Math.floor(out.txQueuePackets)
  if (out.retransmissions !== undefined) out.retransmissions = Math.floor(out.retransmissions)
  return out
}

export type { Random }

/** A seeded PRNG (mulberry32): uniform in [0, 1). */
export function createRandom(seed: number = (Math.random() * 2 ** 32) >>> 0): Random {
  return mulberry32(seed)
}

/** Standard normal deviate (Box–Muller). */
export function gaussian(random: Random): number {
  let u = random()
  while (u <= Number.EPSILON) u = random()
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random())
}

/** Mean RSSI (dBm) at a distance: log-distance path loss. */
export function meanRssi(settings: Pick<LinkSettings, 'distanceM' | 'rssiAt1m' | 'pathLossExponent'>): number {
  return settings.rssiAt1m - 10 * settings.pathLossExponent * Math.log10(Math.max(settings.distanceM, 0.01))
}

/** RSSI random walk around the path-loss mean; advanced lazily with elapsed time (step 100 ms). */
export class RssiModel {
  private offset = 0
  private lastMs: number
  private readonly settings: LinkSettings
  private readonly random: Random

  constructor(settings: LinkSettings, random: Random, nowMs: number = performance.now()) {
    this.settings = settings
    this.random = random
    this.lastMs = nowMs
    this.offset = gaussian(random) * settings.rssiSigmaDb
  }

  /** Current RSSI in whole dBm (int8 range). */
  sample(nowMs: number = performance.now()): number {
    const steps = Math.min(50, Math.floor((nowMs - this.lastMs) / 100))
    if (steps > 0) {
      this.lastMs += steps * 100
      // AR(1) with stationary standard deviation sigma: x' = a x + sqrt(1 - a^2) sigma N(0,1)
      const a = 0.9
      const k = Math.sqrt(1 - a * a) * this.settings.rssiSigmaDb
      for (let i = 0; i < steps; i++) this.offset = a * this.offset + k * gaussian(this.random)
    }
    const v = Math.round(meanRssi(this.settings) + this.offset)
    return Math.max(-127, Math.min(20, v))
  }

  /** True when the mean RSSI is above the receiver sensitivity. */
  inRange(): boolean {
    return meanRssi(this.settings) >= this.settings.sensitivityDbm
  }
}

/**
 * Two-state Gilbert–Elliott channel: Good (no loss) / Bad (loss). Stationary P(Bad) = p / (p + r) = mean loss;
 * mean burst length 1 / r.
 */
export class GilbertElliott {
  private bad = false
  private p = 0
  private r = 1
  private readonly random: Random

  constructor(random: Random, meanLoss = 0, burstLength = 4) {
    this.random = random
    this.configure(meanLoss, burstLength)
  }

  configure(meanLoss: number, burstLength: number): void {
    const loss = Math.max(0, Math.min(1, meanLoss))
    if (loss <= 0) {
      this.p = 0
      this.r = 1
      this.bad = false
      return
    }
    if (loss >= 1) {
      this.p = 1
      this.r = 0
      return
    }
    let r = 1 / Math.max(1, burstLength)
    let p = (loss * r) / (1 - loss)
    if (p > 1) {
      // Bursts must be longer to reach that mean loss with p <= 1.
      p = 1
      r = (1 - loss) / loss
    }
    this.p = p
    this.r = r
  }

  /** Advance one packet; true when it is lost. */
  lost(): boolean {
    if (this.bad) {
      if (this.random() < this.r) this.bad = false
    } else if (this.random() < this.p) {
      this.bad = true
    }
    return this.bad
  }
}

/** Space the controller leaves in front of an L2CAP frame for the H4 ACL header (1 type + 2 handle + 2 length). */
export const ACL_HEADROOM = 5
/** Offset of the L2CAP payload in a frame buffer: ACL headroom + L2CAP header (2 length + 2 CID). */
export const L2CAP_PAYLOAD_OFFSET = ACL_HEADROOM + 4

/**
 * FIFO of frames for the central, as a ring of parallel arrays: queueing a notification allocates nothing beyond its
 * packet. A frame buffer is [5 bytes headroom][L2CAP header][payload].
 */
class TxRing {
  frames: (Buffer | undefined)[] = new Array<Buffer | undefined>(64)
  reliable = new Uint8Array(64)
  pdus = new Uint16Array(64)
  /** PDUs of the frame already delivered (a frame may span connection events). */
  sent = new Uint16Array(64)
  /** Failed transmissions of the frame so far (notifications with retransmissions). */
  failures = new Uint8Array(64)
  callbacks: (((delivered: boolean) => void) | undefined)[] = new Array<((delivered: boolean) => void) | undefined>(64)
  head = 0
  count = 0

  push(frame: Buffer, reliable: boolean, pdus: number, onSent: ((delivered: boolean) => void) | undefined): void {
    if (this.count === this.frames.length) this.grow()
    const i = (this.head + this.count) % this.frames.length
    this.frames[i] = frame
    this.reliable[i] = reliable ? 1 : 0
    this.pdus[i] = pdus
    this.sent[i] = 0
    this.failures[i] = 0
    this.callbacks[i] = onSent
    this.count++
  }

  /** Remove the head; returns its callback. */
  shift(): ((delivered: boolean) => void) | undefined {
    const i = this.head
    const cb = this.callbacks[i]
    this.frames[i] = undefined
    this.callbacks[i] = undefined
    this.head = (i + 1) % this.frames.length
    this.count--
    return cb
  }

  private grow(): void {
    const n = this.frames.length
    const order = Array.from({ length: n }, (_, k) => (this.head + k) % n)
    const frames = new Array<Buffer | undefined>(n * 2)
    const callbacks = new Array<((delivered: boolean) => void) | undefined>(n * 2)
    const reliable = new Uint8Array(n * 2)
    const pdus = new Uint16Array(n * 2)
    const sent = new Uint16Array(n * 2)
    const failures = new Uint8Array(n * 2)
    order.forEach((j, k) => {
      frames[k] = this.frames[j]
      callbacks[k] = this.callbacks[j]
      reliable[k] = this.reliable[j] as number
      pdus[k] = this.pdus[j] as number
      sent[k] = this.sent[j] as number
      failures[k] = this.failures[j] as number
    })
    this.frames = frames
    this.callbacks = callbacks
    this.reliable = reliable
    this.pdus = pdus
    this.sent = sent
    this.failures = failures
    this.head = 0
  }
}

/** What the link model drives. */
export interface LinkIo {
  /** Deliver one link-layer PDU of `frame` (PDU index `index` of `count`) to the central. */
  toCentral(frame: Buffer, index: number, count: number, pduOctets: number): void
  /** Deliver one ACL packet the central sent (as queued with {@link LinkModel.fromCentral}) to the peripheral. */
  toPeripheral(packet: Buffer): void
  /** End of a connection event in which something happened: `completed` central packets were acknowledged. */
  eventDone(completed: number): void
  /** The link was jammed for longer than the supervision timeout. */
  supervisionTimeout(): void
}

export interface LinkStats {
  /** Notifications handed to the link. */
  notificationsQueued: number
  /** Notifications dropped at the sensor because the transmit queue was full. */
  droppedQueueFull: number
  /** Notifications lost on the air (interference). */
  lostOnAir: number
  /** Notifications delivered to the central. */
  notificationsDelivered: number
  /** Connection events with traffic. */
  events: number
}

/** The link of one connection: two queues drained per connection event by one timer. */
export class LinkModel {
  readonly stats: LinkStats = { notificationsQueued: 0, droppedQueueFull: 0, lostOnAir: 0, notificationsDelivered: 0, events: 0 }
  /** Link-layer payload octets per PDU (27, or up to 251 with data length extension). */
  pduOctets = 27
  /** Supervision timeout in ms (from the connection parameters). */
  supervisionTimeoutMs = 420

  private readonly settings: LinkSettings
  private readonly io: LinkIo
  private readonly channel: GilbertElliott
  private readonly tx = new TxRing()
  private readonly rx: Buffer[] = []
  private rxHead = 0
  private queuedNotificationPdus = 0
  private timer: ReturnType<typeof setInterval> | undefined
  private timerPeriod = 0
  private anchorMs = 0
  private lastEvent = 0
  private jammed = false
  private supervisionTimer: ReturnType<typeof setTimeout> | undefined
  private closed = false
  private forcedJam = false

  constructor(settings: LinkSettings, io: LinkIo, random: Random) {
    this.settings = settings
    this.io = io
    this.channel = new GilbertElliott(random, settings.interference, settings.burstLength)
    this.anchorMs = performance.now()
    this.updateJam()
  }

  /** Capacity in PDUs per second and direction. */
  get capacityPerSecond(): number {
    return (this.settings.packetsPerEvent * 1000) / this.settings.connectionIntervalMs
  }

  /** PDUs waiting in the transmit queue (both kinds). */
  get queuedPdus(): number {
    const t = this.tx
    let n = 0
    for (let k = 0; k < t.count; k++) {
      const i = (t.head + k) % t.frames.length
      n += (t.pdus[i] as number) - (t.sent[i] as number)
    }
    return n
  }

  /** Number of PDUs an L2CAP frame of `l2capLength` octets (header included) needs. */
  pdusFor(l2capLength: number): number {
    return Math.max(1, Math.ceil(l2capLength / this.pduOctets))
  }

  /**
   * Queue a frame for the central. `frame` holds ACL headroom + L2CAP header + payload. Unreliable frames
   * (notifications) are refused (false) when the sensor's transmit queue is full.
   */
  send(frame: Buffer, reliable: boolean, onSent?: (delivered: boolean) => void): boolean {
    if (this.closed) return false
    const pdus = this.pdusFor(frame.length - ACL_HEADROOM)
    if (!reliable) {
      this.stats.notificationsQueued++
      if (this.queuedNotificationPdus + pdus > this.settings.txQueuePackets) {
        this.stats.droppedQueueFull++
        return false
      }
      this.queuedNotificationPdus += pdus
    }
    this.tx.push(frame, reliable, pdus, onSent)
    this.kick()
    return true
  }

  /** An ACL packet from the central (delivered to the peripheral at the next connection event). */
  fromCentral(packet: Buffer): void {
    if (this.closed) return
    this.rx.push(packet)
    this.kick()
  }

  /** Settings changed (interval, interference, ...). */
  settingsChanged(): void {
    this.channel.configure(this.settings.interference, this.settings.burstLength)
    if (this.timer !== undefined && this.timerPeriod !== this.period()) {
      this.stopTimer()
      this.kick()
    }
    this.updateJam()
  }

  /** Re-anchor the connection event grid (after a connection update). */
  reanchor(): void {
    this.anchorMs = performance.now()
    this.lastEvent = 0
    if (this.timer !== undefined) {
      this.stopTimer()
      this.kick()
    }
  }

  /** Force the link jammed (out of range) or release it. */
  setJammed(jammed: boolean): void {
    this.forcedJam = jammed
    this.updateJam()
  }

  /** Stop everything; undelivered frames report onSent(false). */
  close(): void {
    if (this.closed) return
    this.closed = true
    this.stopTimer()
    if (this.supervisionTimer !== undefined) clearTimeout(this.supervisionTimer)
    this.supervisionTimer = undefined
    const callbacks: ((delivered: boolean) => void)[] = []
    while (this.tx.count > 0) {
      const cb = this.tx.shift()
      if (cb) callbacks.push(cb)
    }
    this.rx.length = 0
    this.rxHead = 0
    this.queuedNotificationPdus = 0
    for (const cb of callbacks) cb(false)
  }

  private period(): number {
    return Math.max(1, Math.floor(this.settings.connectionIntervalMs))
  }

  private updateJam(): void {
    const jammed = this.forcedJam || this.settings.interference >= 1
    if (jammed === this.jammed) return
    this.jammed = jammed
    if (jammed) {
      this.supervisionTimer = setTimeout(() => {
        this.supervisionTimer = undefined
        if (!this.closed) this.io.supervisionTimeout()
      }, this.supervisionTimeoutMs)
    } else {
      if (this.supervisionTimer !== undefined) clearTimeout(this.supervisionTimer)
      this.supervisionTimer = undefined
      this.kick()
    }
  }

  private kick(): void {
    if (this.timer !== undefined || this.closed) return
    // Idle → active: no credit for the events that passed while idle.
    const I = this.settings.connectionIntervalMs
    this.lastEvent = Math.floor((performance.now() - this.anchorMs) / I)
    this.timerPeriod = this.period()
    this.timer = setInterval(() => this.tick(), this.timerPeriod)
  }

  private stopTimer(): void {
    if (this.timer !== undefined) clearInterval(this.timer)
    this.timer = undefined
  }

  private tick(): void {
    const I = this.settings.connectionIntervalMs
    const k = Math.floor((performance.now() - this.anchorMs) / I)
    const events = k - this.lastEvent
    if (events <= 0) return
    this.lastEvent = k
    if (this.jammed) return
    const budget = events * this.settings.packetsPerEvent
    this.stats.events += events

    // Central → peripheral.
    let completed = 0
    while (this.rxHead < this.rx.length && completed < budget) {
      const packet = this.rx[this.rxHead] as Buffer
      this.rx[this.rxHead++] = EMPTY
      completed++
      this.io.toPeripheral(packet)
      if (this.closed) return
    }
    if (this.rxHead === this.rx.length) {
      this.rx.length = 0
      this.rxHead = 0
    }

    // Peripheral → central, one connection event after the other (a failed transmission ends its event only).
    const t = this.tx
    for (let event = 0; event < events && t.count > 0; event++) {
      this.transmitEvent()
      if (this.closed) return
    }

    this.io.eventDone(completed)
    if (this.rx.length === 0 && t.count === 0) this.stopTimer()
  }

  /** One connection event's PDUs towards the central. */
  private transmitEvent(): void {
    const t = this.tx
    let slots = this.settings.packetsPerEvent
    while (slots > 0 && t.count > 0) {
      const i = t.head
      const frame = t.frames[i] as Buffer
      const reliable = t.reliable[i] === 1
      const pdus = t.pdus[i] as number
      if (t.sent[i] === 0 && this.settings.interference > 0 && this.channel.lost()) {
        // Reliable traffic, and notifications with retries left, are retransmitted at the next event.
        if (reliable) return
        slots--
        if ((t.failures[i] as number) < this.settings.retransmissions) {
          t.failures[i] = (t.failures[i] as number) + 1
          return
        }
        // Lost on the air: the sensor's link layer flushed it.
        this.stats.lostOnAir++
        this.dequeue(false, pdus, false)
        continue
      }
      while (slots > 0 && (t.sent[i] as number) < pdus) {
        this.io.toCentral(frame, t.sent[i] as number, pdus, this.pduOctets)
        t.sent[i] = (t.sent[i] as number) + 1
        slots--
        if (this.closed) return
      }
      if (t.sent[i] === pdus) {
        if (!reliable) this.stats.notificationsDelivered++
        this.dequeue(reliable, pdus, true)
      }
    }
  }

  private dequeue(reliable: boolean, pdus: number, delivered: boolean): void {
    if (!reliable) this.queuedNotificationPdus -= pdus
    this.tx.shift()?.(delivered)
  }
}

const EMPTY = Buffer.alloc(0)
