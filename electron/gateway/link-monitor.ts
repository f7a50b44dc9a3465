import { SeqLossCounter } from '../../shared/ble/ecg-payload.ts'

/**
 * Link quality per sensor (issue 5, the paper's Fig. 9/10b): RSSI (polled), packet drop ratio from the ECG
 * sequence gaps over 5 s windows, notifications per second, last seen. Pure bookkeeping plus one timer; the gateway
 * exposes each snapshot as an instance of our BLE Link object (33001).
 */

export interface LinkSnapshot {
  readonly sensorId: string
  readonly address: string
  readonly name: string
  readonly connected: boolean
  /** dBm; undefined until the first poll answers. */
  readonly rssi: number | undefined
  /** Lost / (received + lost) ECG packets in the last complete window; 0 without sequence numbers. */
  readonly dropRatio: number
  /** Notifications per second in the last complete window (all characteristics). */
  readonly notificationsPerSecond: number
  /** Milliseconds since the epoch of the last packet or answer from the sensor. */
  readonly lastSeen: number
  /** Since the link came up: packets counted and lost from sequence gaps. */
  readonly received: number
  readonly lost: number
}

export interface LinkMonitorOptions {
  /** Length of a measurement window, ms (default 5000, as in the paper). */
  windowMs?: number
  /** How often RSSI is read from the adapter, ms (default 2000; 0 turns polling off). */
  rssiIntervalMs?: number
  /** Reads a sensor's RSSI (BleAdapter.readRssi). */
  readRssi: (sensorId: string) => Promise<number>
  /** A sensor's snapshot changed (at window ends, RSSI polls, connect and disconnect). */
  onSnapshot: (snapshot: LinkSnapshot) => void
  onWarning?: (message: string) => void
  now?: () => number
}

interface Entry {
  sensorId: string
  address: string
  name: string
  connected: boolean
  rssi: number | undefined
  dropRatio: number
  notificationsPerSecond: number
  lastSeen: number
  windowStart: number
  windowNotifications: number
  readonly loss: SeqLossCounter
  received: number
  lost: number
  rssiBusy: boolean
}

export class LinkMonitor {
  private readonly entries = new Map<string, Entry>()
  private readonly windowMs: number
  private readonly rssiIntervalMs: number
  private readonly opts: LinkMonitorOptions
  private readonly now: () => number
  private windowTimer: ReturnType<typeof setInterval> | undefined
  private rssiTimer: ReturnType<typeof setInterval> | undefined

  constructor(options: LinkMonitorOptions) {
    this.opts = options
    this.windowMs = options.windowMs ?? 5000
    this.rssiIntervalMs = options.rssiIntervalMs ?? 2000
    this.now = options.now ?? Date.now
  }

  start(): void {
    if (this.windowTimer) return
    this.windowTimer = setInterval(() => this.closeWindows(), Math.min(this.windowMs, 1000))
    this.windowTimer.unref()
    if (this.rssiIntervalMs > 0) {
      this.rssiTimer = setInterval(() => this.pollRssi(), this.rssiIntervalMs)
      this.rssiTimer.unref()
    }
  }

  stop(): void {
    clearInterval(this.windowTimer)
    clearInterval(this.rssiTimer)
    this.windowTimer = undefined
    this.rssiTimer = undefined
  }

  connected(sensorId: string, address: string, name: string): LinkSnapshot {
    const now = this.now()
    let e = this.entries.get(sensorId)
    if (!e) {
      e = {
        sensorId, address, name, connected: true, rssi: undefined, dropRatio: 0, notificationsPerSecond: 0, lastSeen: now, windowStart: now,
        windowNotifications: 0, loss: new SeqLossCounter(), received: 0, lost: 0, rssiBusy: false,
      }
      this.entries.set(sensorId, e)
    }
    e.connected = true
    e.name = name
    e.lastSeen = now
    e.windowStart = now
    e.windowNotifications = 0
    e.dropRatio = 0
    e.notificationsPerSecond = 0
    e.received = 0
    e.lost = 0
    e.loss.reset()
    const snap = this.snapshotOf(e)
    this.opts.onSnapshot(snap)
    void this.pollOne(e)
    return snap
  }

  disconnected(sensorId: string): void {
    const e = this.entries.get(sensorId)
    if (!e || !e.connected) return
    e.connected = false
    e.notificationsPerSecond = 0
    this.opts.onSnapshot(this.snapshotOf(e))
  }

  /** A notification arrived (hot path: counters only). */
  notification(sensorId: string): void {
    const e = this.entries.get(sensorId)
    if (!e) return
    e.windowNotifications++
    e.lastSeen = this.now()
  }

  /** An ECG packet's sequence number: gaps are dropped packets. Returns the packets lost just before it. */
  sequence(sensorId: string, seq: number): number {
    const e = this.entries.get(sensorId)
    if (!e) return 0
    const gap = e.loss.push(seq)
    e.received++
    e.lost += gap
    return gap
  }

  /** Any sign of life other than a notification (a read answered). */
  seen(sensorId: string): void {
    const e = this.entries.get(sensorId)
    if (e) e.lastSeen = this.now()
  }

  snapshot(sensorId: string): LinkSnapshot | undefined {
    const e = this.entries.get(sensorId)
    return e ? this.snapshotOf(e) : undefined
  }

  snapshots(): LinkSnapshot[] {
    return [...this.entries.values()].map((e) => this.snapshotOf(e))
  }

  forget(sensorId: string): void {
    this.entries.delete(sensorId)
  }

  /** Ends every window that is complete: ratio and rate from it, then the counts start over. */
  closeWindows(): void {
    const now = this.now()
    for (const e of this.entries.values()) {
      if (!e.connected || now - e.windowStart < this.windowMs) continue
      const seconds = (now - e.windowStart) / 1000
      e.notificationsPerSecond = Math.round((e.windowNotifications / seconds) * 100) / 100
      e.dropRatio = e.loss.lossRatio
      e.loss.resetWindow()
      e.windowNotifications = 0
      e.windowStart = now
      this.opts.onSnapshot(this.snapshotOf(e))
    }
  }

  private pollRssi(): void {
    for (const e of this.entries.values()) if (e.connected) void this.pollOne(e)
  }

  private async pollOne(e: Entry): Promise<void> {
    if (e.rssiBusy || this.rssiIntervalMs <= 0) return
    e.rssiBusy = true
    try {
      const rssi = await this.opts.readRssi(e.sensorId)
      if (!e.connected) return
      e.lastSeen = this.now()
      if (rssi !== e.rssi) {
        e.rssi = rssi
        this.opts.onSnapshot(this.snapshotOf(e))
      }
    } catch (err) {
      if (e.connected) this.opts.onWarning?.(`RSSI of ${e.address}: ${(err as Error).message}`)
    } finally {
      e.rssiBusy = false
    }
  }

  private snapshotOf(e: Entry): LinkSnapshot {
    return {
      sensorId: e.sensorId, address: e.address, name: e.name, connected: e.connected, rssi: e.rssi, dropRatio: e.dropRatio,
      notificationsPerSecond: e.notificationsPerSecond, lastSeen: e.lastSeen, received: e.received, lost: e.lost,
    }
  }
}
