import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { parseSensorList } from '../ble/virtual/sensors/index.ts'
import type { SensorKind } from '../ble/virtual/sensors/index.ts'
import { BleLwm2mGateway } from '../gateway/gateway.ts'
import type { AdapterSpec, GatewayEvent } from '../gateway/gateway.ts'
import { redactSecrets } from '../../shared/security/redact.ts'
import { addPskOptions, hasPskOptions, pskFrom, type PskOptions } from './psk-options.ts'
import { CliError, type CliIo } from './program.ts'
import { exitAfterShutdown, shutdownSignal } from './shutdown-signal.ts'

interface GatewayCommandOptions extends PskOptions {
  server: string
  endpoint?: string
  adapter: string
  dataDir: string
  sensors: string
  idPool?: string
  connect?: string
  lifetime?: string
}

export const DEFAULT_GATEWAY_DATA_DIR = join(homedir(), '.objecttwin', 'gateway')

function adapterSpec(value: string): AdapterSpec {
  if (value === 'hci' || value === 'virtual' || value === 'default') return value
  if (/^hci:\d+$/.test(value)) return value as `hci:${number}`
  if (value.startsWith('uart:') && value.length > 5) return value as `uart:${string}`
  throw new CliError(`--adapter must be hci, hci:N, uart:PATH, default or virtual, not "${value}"`)
}

function idPool(value: string | undefined): { min: number; max: number } | undefined {
  if (value === undefined) return undefined
  const m = /^(\d{1,5})-(\d{1,5})$/.exec(value)
  if (!m) throw new CliError(`--id-pool must be MIN-MAX (e.g. 1031-1099), not "${value}"`)
  return { min: Number(m[1]), max: Number(m[2]) }
}

/** One line per thing an operator wants to see in a journal. */
function describeEvent(e: GatewayEvent): { line: string; error?: boolean } | undefined {
  switch (e.kind) {
    case 'twinCreated': return { line: `twin /${e.objectId} ${e.name} (${e.sensor} service ${e.service})${e.reused ? '' : ' new id'}` }
    case 'twinDeleted': return { line: `twin /${e.objectId} deleted (${e.sensor}): ${e.reason}` }
    case 'serviceNotExposed': return { line: e.reason, error: true }
    case 'discoveryFailed': return { line: e.reason, error: true }
    case 'sensorConnected': return { line: `connected ${e.sensor}${e.name ? ` "${e.name}"` : ''}` }
    case 'sensorDisconnected': return { line: `disconnected ${e.sensor}: ${e.reason}${e.willReconnect ? ' (reconnecting)' : ''}` }
    case 'connectFailed': return { line: `connect ${e.sensor} failed: ${e.reason}`, error: true }
    case 'adapterState': return { line: `adapter ${e.state}` }
    case 'link': return undefined
    case 'log': return e.level === 'info' ? undefined : { line: `${e.level}: ${e.message}`, error: true }
    case 'client': {
      const c = e.event
      if (c.kind === 'registered') return { line: `registered ${c.location} lwm2m=${c.lwm2mVersion}` }
      if (c.kind === 'updated' && c.objectsChanged) return { line: 'updated the object list' }
      if (c.kind === 'deregistered') return { line: `deregistered ${c.code}` }
      if (c.kind === 'registrationFailed') return { line: `${c.operation} failed: ${c.reason}${c.retryInMs !== undefined ? ` (retry in ${c.retryInMs} ms)` : ''}`, error: true }
      if (c.kind === 'log' && c.level !== 'info') return { line: `${c.level}: ${c.message}`, error: true }
      return undefined
    }
  }
}

/** `gateway`: a standalone BLE–LwM2M gateway (e.g. on a Raspberry Pi) registered with a remote server. */
export function registerGatewayCommand(program: Command, io: CliIo): void {
  const command = program
    .command('gateway')
    .description('run a standalone BLE-LwM2M gateway: BLE sensors become ObjectTwins of an LwM2M server')
    .requiredOption('--server <uri>', 'LwM2M server, coap://HOST:PORT or coaps://HOST:PORT (DTLS-PSK)')
    .option('--endpoint <name>', 'endpoint name (default objecttwin-gw-<hostname>)')
    .option('--adapter <adapter>', 'hci, hci:N, uart:PATH (HCI controller on a serial port), default (macOS, Windows) or virtual (simulated sensors)', 'hci')
    .option('--data-dir <dir>', 'where the object ID mapping is kept', DEFAULT_GATEWAY_DATA_DIR)
    .option('--sensors <list>', 'simulated sensors of --adapter virtual (ecg, hr, thermometer, battery)', 'ecg,hr,thermometer')
    .option('--connect <addresses>', 'sensors to connect at start, comma-separated BD addresses (virtual: all by default)')
    .option('--id-pool <min-max>', 'object IDs for ObjectTwins', '1031-1099')
    .option('--lifetime <seconds>', 'registration lifetime', '300')
  addPskOptions(command, "this gateway's")
  command.action(async (options: GatewayCommandOptions) => {
    if (!/^coaps?:\/\//.test(options.server)) throw new CliError(`--server must be coap://HOST:PORT or coaps://HOST:PORT, not "${options.server}"`)
    const secure = options.server.startsWith('coaps://')
    if (secure && options.pskIdentity === undefined) throw new CliError('a coaps:// server needs --psk-identity and --psk-key (or --psk-key-file)')
    if (!secure && hasPskOptions(options)) throw new CliError('--psk-identity, --psk-key and --psk-key-file need a coaps:// server')
    const psk = pskFrom(options)
    const adapter = adapterSpec(options.adapter)
    let sensors: SensorKind[]
    try {
      sensors = parseSensorList(options.sensors)
    } catch (e) {
      throw new CliError((e as Error).message)
    }
    const lifetime = Number(options.lifetime)
    if (!Number.isInteger(lifetime) || lifetime < 10) throw new CliError(`--lifetime must be a whole number of seconds ≥ 10, not "${options.lifetime}"`)
    const connect = options.connect?.split(',').map((a) => a.trim()).filter((a) => a.length > 0)
    const pool = idPool(options.idPool)
    let gateway: BleLwm2mGateway
    try {
      gateway = new BleLwm2mGateway({
        serverUri: options.server,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        adapter,
        dataDir: options.dataDir,
        virtualSensors: sensors,
        ...(connect ? { autoConnect: connect } : {}),
        ...(pool ? { idPool: pool } : {}),
        client: { lifetime, ...(psk ? { psk } : {}) },
      })
    } catch (e) {
      throw new CliError((e as Error).message)
    }
    gateway.onEvent((e) => {
      const d = describeEvent(e)
      if (d) (d.error ? io.err : io.out)(redactSecrets(d.line))
    })
    io.out(`gateway ${gateway.endpoint} adapter ${options.adapter} server ${options.server}${psk ? ` psk-identity ${psk.identity}` : ''} data ${options.dataDir}`)
    // Listen before starting, so a signal during start-up still stops cleanly.
    const stop = shutdownSignal()
    try {
      await gateway.start()
    } catch (e) {
      await gateway.stop().catch(() => undefined)
      throw new CliError((e as Error).message)
    }
    io.out('running')
    await stop
    await gateway.stop()
    io.out('stopped')
    exitAfterShutdown()
  })
}
