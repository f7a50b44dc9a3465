import { readFile } from 'node:fs/promises'
import mqtt from 'mqtt'
import type { IClientOptions, IPublishPacket, MqttClient } from 'mqtt'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import type { MqttConnectionState, MqttSettings, MqttStatus } from '../../shared/api/mqtt-schemas.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { ClientInfo } from '../../shared/api/schemas.ts'
import { redactSecrets, rememberSecret } from '../../shared/security/redact.ts'
import { commandResult, parseCommand, performCommand, type BridgeConsole } from './commands.ts'
import { mqttSettingsView } from './mqtt-settings.ts'
import { goneState, messagesFor, registeredState, type OutgoingMessage } from './telemetry.ts'
import { bridgeStatusTopic, commandFilter, parseCommandTopic, resultTopic } from './topics.ts'

/**
 * The MQTT bridge (issue 7, docs/mqtt.md): the console's events go to a broker — retained client states, values
 * batched per notification — and commands from the broker become console API calls whose results are published
 * back. It sees the console only through its API (BridgeConsole). mqtt.js reconnects by itself; on every
 * (re)connect the bridge subscribes again and republishes its status and the state of every client, so a broker
 * that restarted without persistence is brought up to date.
 */

/** CONNACK refusals that retrying will not cure: bad credentials, not authorized (MQTT 3.1.1 codes 4, 5; MQTT 5 0x86, 0x87, 0x8C). */
const AUTH_REFUSALS = new Set([4, 5, 0x86, 0x87, 0x8c])
/** Publishes awaiting the broker beyond which telemetry is dropped instead of piling up in memory. */
const MAX_PENDING_PUBLISHES = 10_000
/** Commands carried out at once; more are answered `rate_limited`. */
const MAX_RUNNING_COMMANDS = 64
/** How long a stop waits for the broker to take the offline status before it cuts the connection. */
const STOP_GRACE_MS = 2000

export interface MqttBridgeOptions {
  readonly console: BridgeConsole
  readonly now?: () => number
}

/** One connection attempt's client and its in-flight count (a replaced client's late callbacks touch only its own). */
interface Connection {
  readonly client: MqttClient
  readonly settings: MqttSettings
  pending: number
}

/** The retained bridge status when it stops, and its last will. */
function offlineStatus(settings: MqttSettings): string {
  return JSON.stringify({ online: false, clientId: settings.clientId })
}

function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}

async function readPem(file: string | undefined, what: string): Promise<Result<Buffer | undefined>> {
  if (file === undefined) return ok(undefined)
  try {
    return ok(await readFile(file))
  } catch (e) {
    return fail('invalid_input', `cannot read the ${what} file ${file}: ${describeError(e)}`)
  }
}

/** TLS material for mqtts://, read from the configured files. */
async function tlsOptions(settings: MqttSettings): Promise<Result<Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>>> {
  const ca = await readPem(settings.tls.caFile, 'CA')
  if (!ca.ok) return ca
  const cert = await readPem(settings.tls.certFile, 'client certificate')
  if (!cert.ok) return cert
  const key = await readPem(settings.tls.keyFile, 'client key')
  if (!key.ok) return key
  return ok({
    rejectUnauthorized: settings.tls.rejectUnauthorized,
    ...(ca.value ? { ca: ca.value } : {}),
    ...(cert.value ? { cert: cert.value } : {}),
    ...(key.value ? { key: key.value } : {}),
  })
}

export class MqttBridge {
  private readonly api: BridgeConsole
  private readonly now: () => number
  private current: MqttSettings
  private connection: Connection | undefined
  private state: MqttConnectionState = 'disconnected'
  private lastError: { message: string; at: number } | undefined
  private connectedSince: number | undefined
  private published = 0
  private received = 0
  private dropped = 0
  private runningCommands = 0
  /** Endpoints whose registered state the broker may hold: each gets its gone state once it is gone. */
  private readonly announced = new Set<string>()
  private readonly offEvents: () => void
  /** Changes of settings run one after the other. */
  private switching: Promise<void> = Promise.resolve()
  private closed = false

  constructor(settings: MqttSettings, options: MqttBridgeOptions) {
    this.api = options.console
    this.now = options.now ?? Date.now
    this.current = settings
    this.offEvents = this.api.onEvent((event) => this.forward(event))
  }

  get settings(): MqttSettings {
    return this.current
  }

  status(): MqttStatus {
    return {
      state: this.state,
      settings: mqttSettingsView(this.current),
      ...(this.lastError ? { lastError: this.lastError.message, lastErrorAt: this.lastError.at } : {}),
      ...(this.connectedSince !== undefined ? { connectedSince: this.connectedSince } : {}),
      published: this.published,
      received: this.received,
      dropped: this.dropped,
    }
  }

  /**
   * Run with these settings: the current connection says offline and ends; a new one starts if they enable the
   * bridge. `unusable` says why they cannot be used as they are (a stored password that does not decrypt): the
   * bridge then reports it as its error instead of connecting without the password.
   */
  apply(settings: MqttSettings, unusable?: string): Promise<void> {
    this.switching = this.switching.then(async () => {
      await this.disconnect()
      this.current = settings
      // A failure of the old settings (an unreadable CA file, say) is not the state of the new ones.
      this.state = 'disconnected'
      if (unusable !== undefined) {
        this.setError(unusable)
        if (settings.enabled) this.state = 'error'
        return
      }
      if (!this.closed && settings.enabled) await this.connect(settings)
    })
    return this.switching
  }

  /** Says offline to the broker and stops; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return this.switching
    this.closed = true
    this.offEvents()
    this.switching = this.switching.then(() => this.disconnect())
    return this.switching
  }

  private isCurrent(connection: Connection): boolean {
    return this.connection === connection
  }

  private setError(message: string): void {
    // Errors of mqtt.js may quote the URL, and a URL may carry user:password.
    this.lastError = { message: redactSecrets(message), at: this.now() }
  }

  private async connect(settings: MqttSettings): Promise<void> {
    rememberSecret(settings.password)
    this.state = 'connecting'
    const tls = await tlsOptions(settings)
    if (!tls.ok) {
      this.state = 'error'
      this.setError(tls.error.message)
      return
    }
    const statusTopic = bridgeStatusTopic(settings.topicPrefix)
    let client: MqttClient
    try {
      client = this.open(settings, statusTopic, tls.value)
    } catch (e) {
      // mqtt.js parses the URL itself: a host it cannot read fails here, not in an event.
      this.state = 'error'
      this.setError(`${settings.url}: ${describeError(e)}`)
      return
    }
    const connection: Connection = { client, settings, pending: 0 }
    this.connection = connection
    this.follow(connection)
  }

  /** An mqtt.js client with these settings; it connects (and reconnects) by itself. */
  private open(settings: MqttSettings, statusTopic: string, tls: Pick<IClientOptions, 'ca' | 'cert' | 'key' | 'rejectUnauthorized'>): MqttClient {
    return mqtt.connect(settings.url, {
      clientId: settings.clientId,
      ...(settings.username !== undefined ? { username: settings.username } : {}),
      ...(settings.password !== undefined ? { password: settings.password } : {}),
      protocolVersion: settings.protocolVersion,
      keepalive: settings.keepaliveSeconds,
      reconnectPeriod: settings.reconnectPeriodMs,
      connectTimeout: settings.connectTimeoutMs,
      clean: settings.cleanSession,
      // A broker that is busy or restarting refuses for a while; bad credentials stop the bridge (see 'error').
      reconnectOnConnackError: true,
      // Subscribed anew on every connect (below), whatever the session kept.
      resubscribe: false,
      // Telemetry is not queued while the broker is away: it would replay stale samples in a burst.
      queueQoSZero: false,
      will: { topic: statusTopic, payload: Buffer.from(offlineStatus(settings)), qos: settings.qos, retain: true },
      ...tls,
    })
  }

  /** Connection state, commands and (re)subscription from the client's events; a replaced client's events are ignored. */
  private follow(connection: Connection): void {
    const { client, settings } = connection
    const statusTopic = bridgeStatusTopic(settings.topicPrefix)

    client.on('connect', () => {
      if (!this.isCurrent(connection)) return
      this.state = 'connected'
      this.connectedSince = this.now()
      client.subscribe(commandFilter(settings.topicPrefix), { qos: settings.qos }, (error) => {
        if (error && this.isCurrent(connection)) this.setError(`cannot subscribe to the command topics: ${describeError(error)}`)
      })
      this.publish(connection, { topic: statusTopic, payload: JSON.stringify({ online: true, clientId: settings.clientId, since: this.connectedSince }), retain: true, telemetry: false })
      this.republishStates(connection)
    })
    client.on('reconnect', () => {
      if (this.isCurrent(connection)) this.state = 'connecting'
    })
    client.on('close', () => {
      if (!this.isCurrent(connection) || this.state === 'error') return
      this.state = 'disconnected'
      this.connectedSince = undefined
    })
    client.on('error', (error: Error & { code?: string | number }) => {
      if (!this.isCurrent(connection)) return
      this.setError(`${settings.url}: ${describeError(error)}`)
      if (typeof error.code === 'number' && AUTH_REFUSALS.has(error.code)) {
        // Retrying the same credentials only hammers the broker: wait for new settings.
        this.state = 'error'
        client.end(true)
      }
    })
    client.on('message', (topic, payload, packet) => {
      if (this.isCurrent(connection)) void this.command(connection, topic, payload, packet)
    })
  }

  /** Offline status first (a clean disconnect sends no last will), then the end of the connection. */
  private async disconnect(): Promise<void> {
    const connection = this.connection
    if (!connection) return
    this.connection = undefined
    const { client, settings } = connection
    if (client.connected) {
      const offline = client.publishAsync(bridgeStatusTopic(settings.topicPrefix), offlineStatus(settings), { qos: settings.qos, retain: true })
      await this.withinGrace(offline.then(() => client.endAsync()))
    }
    await client.endAsync(true).catch(() => undefined)
    this.state = 'disconnected'
    this.connectedSince = undefined
  }

  private async withinGrace(work: Promise<unknown>): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_GRACE_MS)))
    await Promise.race([work.catch(() => undefined), grace])
    clearTimeout(timer)
  }

  private publish(connection: Connection, message: OutgoingMessage, properties?: IPublishPacket['properties']): void {
    const { client, settings } = connection
    if (!client.connected || (message.telemetry && connection.pending >= MAX_PENDING_PUBLISHES)) {
      // State is republished on the next connect; values and results of this moment are lost.
      if (message.telemetry) this.dropped++
      return
    }
    connection.pending++
    client.publish(message.topic, message.payload, { qos: settings.qos, retain: message.retain, ...(properties ? { properties } : {}) }, (error) => {
      connection.pending--
      if (!error) this.published++
      else if (message.telemetry) this.dropped++
    })
  }

  private forward(event: ConsoleEvent): void {
    const connection = this.connection
    if (!connection) return
    if (event.kind === 'registered' || event.kind === 'updated') this.announced.add(event.client.endpoint)
    const prefix = connection.settings.topicPrefix
    for (const message of messagesFor(prefix, event, (endpoint) => this.clientInfo(endpoint))) this.publish(connection, message)
    // A gone client whose state could not be published keeps its place in `announced` until the next connect.
    if ((event.kind === 'deregistered' || event.kind === 'expired') && connection.client.connected) this.announced.delete(event.endpoint)
  }

  private clientInfo(endpoint: string): ClientInfo | undefined {
    const found = this.api.getClient(endpoint)
    return found.ok ? found.value : undefined
  }

  /** After a connect: the state of every registered client, and the gone state of those that left meanwhile. */
  private republishStates(connection: Connection): void {
    const prefix = connection.settings.topicPrefix
    const time = this.now()
    const present = new Set<string>()
    for (const client of this.api.listClients()) {
      present.add(client.endpoint)
      this.announced.add(client.endpoint)
      this.publish(connection, registeredState(prefix, client, 'present', time))
    }
    for (const endpoint of [...this.announced]) {
      if (present.has(endpoint)) continue
      this.publish(connection, goneState(prefix, endpoint, 'deregistered', time))
      this.announced.delete(endpoint)
    }
  }

  private async command(connection: Connection, topic: string, payload: Buffer, packet: IPublishPacket): Promise<void> {
    const target = parseCommandTopic(connection.settings.topicPrefix, topic)
    if (!target) return
    this.received++
    const command = parseCommand(target.op, payload)
    let result: Result<unknown>
    if (!command.ok) result = { ok: false, error: command.error }
    else if (this.runningCommands >= MAX_RUNNING_COMMANDS) result = fail('rate_limited', `more than ${MAX_RUNNING_COMMANDS} commands at once; try again when some have finished`)
    else {
      this.runningCommands++
      result = await performCommand(this.api, target.endpoint, command.op, command.body)
      this.runningCommands--
    }
    if (!this.isCurrent(connection)) return
    // MQTT 5: answer where the sender asked, with its correlation data.
    const responseTopic = packet.properties?.responseTopic
    const correlationData = packet.properties?.correlationData
    const message: OutgoingMessage = {
      topic: responseTopic ?? resultTopic(connection.settings.topicPrefix, target.endpoint, command.id),
      payload: JSON.stringify(commandResult(command, target.endpoint, result, this.now())),
      retain: false,
      telemetry: false,
    }
    this.publish(connection, message, responseTopic && correlationData ? { correlationData } : undefined)
  }
}
