import type { ConsoleEvent } from '../../../shared/api/events.ts'
import type { RecordJson } from '../../../shared/api/schemas.ts'
import { EcgFeed } from './sample-feed.ts'
import type { EcgFeedOptions } from './sample-feed.ts'

/**
 * Where the UI's event handler meets the monitors. A monitor acquires the feed for its (endpoint, ECG path) when it
 * mounts and releases it when it unmounts; the handler passes every notification and control event to `dispatch`,
 * which routes the records to the feeds that want them:
 * - records of the ECG path: samples (their own times; values in µV/10);
 * - records of the rate path: the sampling rate;
 * - records of the link paths: drop ratio and RSSI;
 * - control events for the rate path (or the ECG path): decisions.
 * Trend values are stamped with the time the console received them (their device times may be on another clock).
 */
export interface EcgSource {
  endpoint: string
  /** The observed ECG resource, e.g. /1031/0/1. */
  path: string
  /** The sampling-rate resource, e.g. /1031/0/2. */
  ratePath?: string
  linkPaths?: { dropRatio?: string; rssi?: string }
}

/** One tile of the ECG wall: a source, a label, optionally a feed of its own. */
export interface EcgWallTile extends EcgSource {
  title?: string
  feed?: EcgFeed
}

/** An adaptive-control decision event (issue 7). Time in ms since the epoch like every console event. */
export type ControlEvent = Extract<ConsoleEvent, { kind: 'control' }>

interface Entry {
  source: EcgSource
  feed: EcgFeed
  refs: number
}

const DEFAULT_RATE_HZ = 150

export class EcgFeedRegistry {
  private readonly entries = new Map<string, Entry>()

  private static key(endpoint: string, path: string): string {
    return `${endpoint}\u0000${path}`
  }

  /** The feed for this source, created on first use; the source's rate and link paths are updated. */
  acquire(source: EcgSource, options?: EcgFeedOptions): EcgFeed {
    const key = EcgFeedRegistry.key(source.endpoint, source.path)
    let entry = this.entries.get(key)
    if (!entry) {
      entry = { source: { ...source }, feed: new EcgFeed(options), refs: 0 }
      this.entries.set(key, entry)
    } else {
      entry.source = { ...source }
    }
    entry.refs++
    return entry.feed
  }

  /** Change the rate and link paths of a held source (no new reference). */
  update(source: EcgSource): void {
    const entry = this.entries.get(EcgFeedRegistry.key(source.endpoint, source.path))
    if (entry) entry.source = { ...source }
  }

  /** Drop one reference; the feed and its data go when the last monitor showing it goes. */
  release(source: Pick<EcgSource, 'endpoint' | 'path'>): void {
    const key = EcgFeedRegistry.key(source.endpoint, source.path)
    const entry = this.entries.get(key)
    if (!entry) return
    if (--entry.refs <= 0) this.entries.delete(key)
  }

  get(endpoint: string, path: string): EcgFeed | undefined {
    return this.entries.get(EcgFeedRegistry.key(endpoint, path))?.feed
  }

  /** Number of feeds held. */
  get size(): number {
    return this.entries.size
  }

  /** Route one console event; events of other kinds are ignored. Returns the number of feeds it touched. */
  dispatch(event: ConsoleEvent): number {
    if (event.kind === 'notification' || event.kind === 'send') {
      return this.dispatchRecords(event.endpoint, event.records, event.time / 1000)
    }
    if (event.kind === 'control') {
      // The console names the sampling-rate resource the decision wrote.
      let touched = 0
      for (const entry of this.entries.values()) {
        const { endpoint, path, ratePath } = entry.source
        if (endpoint !== event.endpoint || (path !== event.path && ratePath !== event.path)) continue
        entry.feed.pushControl(event.time / 1000, { oldRate: event.oldRate, newRate: event.newRate, dropRatio: event.dropRatio })
        touched++
      }
      return touched
    }
    return 0
  }

  /** Route the records of one notification of `endpoint`, received at `receivedS` (s since the epoch). */
  dispatchRecords(endpoint: string, records: readonly RecordJson[], receivedS: number): number {
    let touched = 0
    for (const entry of this.entries.values()) {
      if (entry.source.endpoint !== endpoint) continue
      if (routeRecords(entry.feed, entry.source, records, receivedS)) touched++
    }
    return touched
  }
}

/**
 * Push the records meant for this source into its feed. ECG records without a time (timestamping off) are placed
 * at the current sampling rate after the previous sample, or ending at `receivedS` when that is more than 1 s off.
 * Returns whether anything was pushed.
 */
export function routeRecords(feed: EcgFeed, source: EcgSource, records: readonly RecordJson[], receivedS: number): boolean {
  let samples = 0
  let untimed = 0
  let touched = false
  for (const r of records) {
    if (r.path === source.path) {
      if (typeof r.value !== 'number') continue
      if (r.time === undefined) untimed++
      samples++
    } else if (typeof r.value === 'number') {
      if (r.path === source.ratePath) {
        feed.pushRate(receivedS, r.value)
        touched = true
      } else if (r.path === source.linkPaths?.dropRatio) {
        feed.pushLink(receivedS, { dropRatio: r.value })
        touched = true
      } else if (r.path === source.linkPaths?.rssi) {
        feed.pushLink(receivedS, { rssi: r.value })
        touched = true
      }
    }
  }
  if (samples === 0) return touched
  // untimed samples continue the trace at the current rate, re-anchored to the arrival time if that drifts by > 1 s
  const dt = 1 / (feed.currentRate > 0 ? feed.currentRate : DEFAULT_RATE_HZ)
  let next = feed.ecg.lastTime + dt
  if (untimed > 0 && !(Math.abs(next + (untimed - 1) * dt - receivedS) <= 1)) next = receivedS - (untimed - 1) * dt
  for (const r of records) {
    if (r.path !== source.path || typeof r.value !== 'number') continue
    let t = r.time
    if (t === undefined) {
      t = next
      next += dt
    }
    feed.pushSample(t, r.value)
  }
  feed.touch()
  return true
}

/** The registry the monitors and the UI's event handler share. */
export const ecgFeeds = new EcgFeedRegistry()
