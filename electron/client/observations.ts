import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { formatPath, isPathPrefixOf, pathDepth, type Lwm2mPath } from '../../shared/lwm2m/path.ts'
import type { Lwm2mRecord, Lwm2mValue } from '../../shared/lwm2m/values.ts'
import type { CoapPeer, NotificationChannel } from '../coap/transport.ts'
import { valueQualifies, type AttributeStore, type NotificationAttributes } from './attributes.ts'
import type { ObjectTree, TreeChange } from './object-tree.ts'
import { OperationError, toOperationError } from './operation-error.ts'
import { RateBudget, SampleBuffer } from './sample-buffer.ts'

/** How streamed samples (pushSamples) become notifications. */
export interface StreamOptions {
  /** CON notifications for streams; default false (NON), as a lost batch is cheaper than a stalled stream. */
  readonly confirmable: boolean
  /** Flush once this many samples wait, and put at most this many in one notification. */
  readonly batchSize: number
  /** Flush at the latest this long after the first waiting sample (pmin permitting). */
  readonly flushIntervalMs: number
  /** Client-wide ceiling on stream notifications (REFERENCE.md §2: ~250 messages/s per peer). */
  readonly maxNotificationsPerSecond: number
  /** A notification larger than this is split in two (one datagram; node-coap refuses more than 1152 bytes). */
  readonly maxPayloadBytes: number
}

export interface ObservationEngineOptions {
  readonly tree: ObjectTree
  readonly attributes: AttributeStore
  /** The Server object's Default Minimum / Maximum Period. */
  readonly defaults: () => { pmin?: number; pmax?: number }
  readonly encode: (format: number, basePath: Lwm2mPath, records: readonly Lwm2mRecord[]) => Uint8Array
  /** CON (true) or NON notifications for ordinary changes. */
  readonly confirmable: boolean
  readonly stream: StreamOptions
  readonly log: (level: 'info' | 'warn' | 'error', message: string) => void
  readonly onStarted?: (info: ObservationInfo) => void
  readonly onEnded?: (info: ObservationInfo, reason: string) => void
  readonly now?: () => number
}

export interface ObservationInfo {
  readonly token: string
  readonly peer: CoapPeer
  readonly paths: readonly string[]
  readonly composite: boolean
  readonly format: number
}

interface Observation {
  readonly key: string
  readonly token: string
  readonly peer: CoapPeer
  readonly paths: readonly Lwm2mPath[]
  readonly composite: boolean
  readonly format: number
  readonly basePath: Lwm2mPath
  readonly channel: NotificationChannel
  lastSentAt: number
  lastNumber: number | undefined
  pminTimer: NodeJS.Timeout | undefined
  pmaxTimer: NodeJS.Timeout | undefined
  sending: boolean
  again: boolean
  /** A send is queued for the end of this turn: changes made together (one link snapshot) go out as one notification. */
  sendQueued: boolean
  ended: boolean
  readonly buffers: Map<string, SampleBuffer>
  buffered: number
  firstBufferedAt: number
  flushTimer: NodeJS.Timeout | undefined
  flushAt: number
  notifications: number
}

/** Formats that carry several timestamped values of one resource. */
const STREAM_FORMATS: ReadonlySet<number> = new Set([ContentFormat.SENML_CBOR, ContentFormat.SENML_JSON, ContentFormat.LWM2M_JSON, ContentFormat.LEGACY_LWM2M_JSON])

function latestUntimed(records: readonly Lwm2mRecord[]): Lwm2mRecord[] {
  const latest = new Map<string, Lwm2mRecord>()
  for (const r of records) latest.set(formatPath(r.path), r.type ? { path: r.path, value: r.value, type: r.type } : { path: r.path, value: r.value })
  return [...latest.values()]
}

export function observationKey(peer: CoapPeer, token: string): string {
  return `${peer.address}:${peer.port}#${token}`
}

function overlaps(a: Lwm2mPath, b: Lwm2mPath): boolean {
  return isPathPrefixOf(a, b) || isPathPrefixOf(b, a)
}

function asNumber(value: unknown): number | undefined {
  if (typeof value === 'number') return value
  if (typeof value === 'bigint') return Number(value)
  return undefined
}

/**
 * The observations the server holds on this client, and when each notifies: a change that passes
 * gt/lt/st goes out at once or when pmin has passed since the last notification; pmax sends the current
 * value when nothing else did. Streamed samples are batched into timestamped notifications.
 */
export class ObservationEngine {
  private readonly observations = new Map<string, Observation>()
  private readonly opts: ObservationEngineOptions
  private readonly now: () => number
  private readonly budget: RateBudget

  constructor(options: ObservationEngineOptions) {
    this.opts = options
    this.now = options.now ?? Date.now
    this.budget = new RateBudget(options.stream.maxNotificationsPerSecond, this.now())
  }

  get size(): number {
    return this.observations.size
  }

  list(): ObservationInfo[] {
    return [...this.observations.values()].map((o) => this.info(o))
  }

  private info(o: Observation): ObservationInfo {
    return { token: o.token, peer: o.peer, paths: o.paths.map(formatPath), composite: o.composite, format: o.format }
  }

  /** A new observation; the 2.05 carrying `initial` has gone out on `channel`. A new one on the same token replaces the old. */
  add(params: { token: string; peer: CoapPeer; paths: readonly Lwm2mPath[]; composite: boolean; format: number; channel: NotificationChannel; initial: readonly Lwm2mRecord[] }): void {
    const key = observationKey(params.peer, params.token)
    const old = this.observations.get(key)
    if (old) this.remove(old, 'replaced by a new observation on the same token')
    const now = this.now()
    const o: Observation = {
      key,
      token: params.token,
      peer: params.peer,
      paths: params.paths,
      composite: params.composite,
      format: params.format,
      basePath: params.composite ? {} : (params.paths[0] ?? {}),
      channel: params.channel,
      lastSentAt: now,
      lastNumber: this.numberIn(params.paths, params.composite, params.initial),
      pminTimer: undefined,
      pmaxTimer: undefined,
      sending: false,
      again: false,
      sendQueued: false,
      ended: false,
      buffers: new Map(),
      buffered: 0,
      firstBufferedAt: 0,
      flushTimer: undefined,
      flushAt: 0,
      notifications: 0,
    }
    this.observations.set(key, o)
    params.channel.onClose((reason) => this.remove(o, reason === 'reset' ? 'the server reset a notification' : reason === 'failed' ? 'a notification could not be delivered' : 'closed'))
    this.schedulePmax(o)
    for (const p of o.paths) this.opts.tree.observationChanged(p, true).catch((e: unknown) => this.opts.log('warn', `observe hook of ${formatPath(p)} failed: ${toOperationError(e).message}`))
    this.opts.onStarted?.(this.info(o))
  }

  /** Observe 1 with the observation's token: it ends (the caller answers the request as a Read). */
  cancel(peer: CoapPeer, token: string): boolean {
    const o = this.observations.get(observationKey(peer, token))
    if (!o) return false
    this.remove(o, 'cancelled by the server')
    return true
  }

  /** Ends every observation, e.g. after a new registration (the server's tokens are gone). */
  clear(reason: string): void {
    for (const o of [...this.observations.values()]) this.remove(o, reason)
  }

  /** Ends an observation; with a code, the server hears why (a last message without Observe). */
  private remove(o: Observation, reason: string, code?: string): void {
    if (o.ended) return
    o.ended = true
    clearTimeout(o.pminTimer)
    clearTimeout(o.pmaxTimer)
    clearTimeout(o.flushTimer)
    if (this.observations.get(o.key) === o) this.observations.delete(o.key)
    o.channel.close(code, code === undefined ? undefined : reason)
    for (const p of o.paths) this.opts.tree.observationChanged(p, false).catch((e: unknown) => this.opts.log('warn', `observe hook of ${formatPath(p)} failed: ${toOperationError(e).message}`))
    this.opts.onEnded?.(this.info(o), reason)
  }

  // ---- triggers ----------------------------------------------------------------------------

  onTreeChange(change: TreeChange): void {
    for (const o of [...this.observations.values()]) {
      if (!o.paths.some((p) => overlaps(p, change.path))) continue
      if (change.kind === 'structure' && change.removed && o.paths.some((p) => isPathPrefixOf(change.path, p)) && !o.composite) {
        this.remove(o, `${formatPath(change.path)} was deleted`, '4.04')
        continue
      }
      this.consider(o)
    }
  }

  /** Write-Attributes changed what applies: pmax restarts from the last notification. */
  onAttributesChanged(path: Lwm2mPath): void {
    for (const o of this.observations.values()) if (o.paths.some((p) => overlaps(p, path))) this.schedulePmax(o)
  }

  private attributesOf(o: Observation): NotificationAttributes {
    const first = o.paths[0] ?? {}
    return this.opts.attributes.effective(first, this.opts.defaults())
  }

  private currentNumber(o: Observation): number | undefined {
    if (o.composite || pathDepth(o.basePath) < 3) return undefined
    return asNumber(this.opts.tree.peek(o.basePath))
  }

  private numberIn(paths: readonly Lwm2mPath[], composite: boolean, records: readonly Lwm2mRecord[]): number | undefined {
    if (composite || pathDepth(paths[0] ?? {}) < 3 || records.length !== 1) return undefined
    return asNumber(records[records.length - 1]?.value)
  }

  /** A change under the observation: notify now, at pmin, or not at all (gt/lt/st not met). */
  private consider(o: Observation): void {
    if (o.ended) return
    if (o.buffered > 0) return this.scheduleFlush(o)
    const attrs = this.attributesOf(o)
    if (!valueQualifies(attrs, o.lastNumber, this.currentNumber(o))) return
    const now = this.now()
    const due = o.lastSentAt + (attrs.pmin ?? 0) * 1000
    if (now >= due) {
      if (o.sendQueued) return
      o.sendQueued = true
      queueMicrotask(() => {
        o.sendQueued = false
        void this.send(o)
      })
      return
    }
    if (o.pminTimer) return
    o.pminTimer = setTimeout(() => {
      o.pminTimer = undefined
      this.consider(o)
    }, due - now)
    o.pminTimer.unref()
  }

  private schedulePmax(o: Observation): void {
    clearTimeout(o.pmaxTimer)
    o.pmaxTimer = undefined
    if (o.ended) return
    const { pmin, pmax } = this.attributesOf(o)
    if (pmax === undefined || pmax <= 0 || (pmin !== undefined && pmax < pmin)) return
    const wait = Math.max(0, o.lastSentAt + pmax * 1000 - this.now())
    o.pmaxTimer = setTimeout(() => {
      o.pmaxTimer = undefined
      if (o.buffered > 0) this.flush(o)
      else void this.send(o)
    }, wait)
    o.pmaxTimer.unref()
  }

  private async readFor(o: Observation): Promise<Lwm2mRecord[]> {
    if (!o.composite) return this.opts.tree.read(o.basePath, { preferCache: true })
    const out: Lwm2mRecord[] = []
    for (const p of o.paths) {
      try {
        out.push(...(await this.opts.tree.read(p, { preferCache: true })))
      } catch (e) {
        if (!(e instanceof OperationError && e.kind === 'not_found')) throw e
      }
    }
    return out
  }

  /** Sends the current value(s) under the observation. */
  private async send(o: Observation): Promise<void> {
    if (o.ended) return
    if (o.sending) {
      o.again = true
      return
    }
    o.sending = true
    clearTimeout(o.pminTimer)
    o.pminTimer = undefined
    try {
      const records = await this.readFor(o)
      if (o.ended) return
      const payload = this.opts.encode(o.format, o.basePath, records)
      o.channel.notify(payload, { contentFormat: o.format, confirmable: this.opts.confirmable })
      o.notifications++
      o.lastSentAt = this.now()
      o.lastNumber = this.numberIn(o.paths, o.composite, records)
      this.schedulePmax(o)
    } catch (e) {
      const error = toOperationError(e)
      if (error.kind === 'not_found') {
        this.remove(o, error.message, error.code)
      } else {
        // A sensor that did not answer this once: the observation stays, the next change or pmax tries again.
        this.opts.log('warn', `notification of ${o.paths.map(formatPath).join(',')} skipped: ${error.code} ${error.message}`)
        o.lastSentAt = this.now()
        this.schedulePmax(o)
      }
    } finally {
      o.sending = false
      if (o.again && !o.ended) {
        o.again = false
        this.consider(o)
      }
    }
  }

  // ---- streams -----------------------------------------------------------------------------

  /**
   * Samples of the resource at `path`. Each observation covering it buffers them for a batched
   * notification: timestamped records in SenML or LwM2M JSON, the latest value in other formats.
   * Returns how many observations took the samples.
   */
  pushSamples(path: Lwm2mPath, times: ArrayLike<number>, values: ArrayLike<number> | readonly Lwm2mValue[]): number {
    let taken = 0
    for (const o of this.observations.values()) {
      if (o.ended || !o.paths.some((p) => isPathPrefixOf(p, path))) continue
      const key = formatPath(path)
      let buffer = o.buffers.get(key)
      if (!buffer) {
        const rid = path.resourceId
        o.buffers.set(key, (buffer = new SampleBuffer(path, path.objectId !== undefined && rid !== undefined ? this.opts.tree.resource(path.objectId, rid)?.type : undefined)))
      }
      const n = Math.min(times.length, values.length)
      if (n === 0) continue
      if (o.buffered === 0) o.firstBufferedAt = this.now()
      for (let i = 0; i < n; i++) buffer.push(times[i] as number, values[i] as Lwm2mValue)
      o.buffered += n
      taken++
      this.scheduleFlush(o)
    }
    return taken
  }

  private scheduleFlush(o: Observation): void {
    if (o.ended || o.buffered === 0) return
    const now = this.now()
    const { pmin } = this.attributesOf(o)
    const readyAt = o.buffered >= this.opts.stream.batchSize ? now : o.firstBufferedAt + this.opts.stream.flushIntervalMs
    const at = Math.max(o.lastSentAt + (pmin ?? 0) * 1000, readyAt, this.budget.nextAt(now))
    if (at <= now) {
      this.flush(o)
      return
    }
    if (o.flushTimer && o.flushAt <= at) return
    clearTimeout(o.flushTimer)
    o.flushAt = at
    o.flushTimer = setTimeout(() => {
      o.flushTimer = undefined
      this.scheduleFlush(o)
    }, at - now)
    o.flushTimer.unref()
  }

  /** Sends every waiting sample: batches of at most batchSize records, each small enough for one datagram. */
  private flush(o: Observation): void {
    clearTimeout(o.flushTimer)
    o.flushTimer = undefined
    if (o.ended || o.buffered === 0) return
    let records: Lwm2mRecord[] = []
    for (const buffer of o.buffers.values()) for (const r of buffer.drain()) records.push(r)
    o.buffered = 0
    // TLV or text carry one value per path and no time: such an observer gets the latest sample of each, rate-limited all the same.
    if (!STREAM_FORMATS.has(o.format)) records = latestUntimed(records)
    const payloads: Uint8Array[] = []
    try {
      for (let i = 0; i < records.length; i += this.opts.stream.batchSize) this.encodeFitting(o, records.slice(i, i + this.opts.stream.batchSize), payloads)
    } catch (e) {
      this.opts.log('error', `batch of ${records.length} samples for ${o.paths.map(formatPath).join(',')} dropped: ${toOperationError(e).message}`)
      return
    }
    for (const payload of payloads) {
      if (!o.channel.notify(payload, { contentFormat: o.format, confirmable: this.opts.stream.confirmable })) break
      o.notifications++
    }
    const now = this.now()
    this.budget.take(payloads.length, now)
    o.lastSentAt = now
    this.schedulePmax(o)
  }

  private encodeFitting(o: Observation, records: Lwm2mRecord[], out: Uint8Array[]): void {
    const payload = this.opts.encode(o.format, o.basePath, records)
    if (payload.length <= this.opts.stream.maxPayloadBytes || records.length === 1) {
      out.push(payload)
      return
    }
    const half = Math.ceil(records.length / 2)
    this.encodeFitting(o, records.slice(0, half), out)
    this.encodeFitting(o, records.slice(half), out)
  }
}
