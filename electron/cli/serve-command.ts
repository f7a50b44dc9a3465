import { randomBytes } from 'node:crypto'
import { homedir } from 'node:os'
import { join } from 'node:path'
import type { Command } from 'commander'
import { parseSensorList } from '../ble/virtual/sensors/index.ts'
import type { SensorKind } from '../ble/virtual/sensors/index.ts'
import { ConsoleService } from '../console/console-service.ts'
import { MqttUrl } from '../../shared/api/mqtt-schemas.ts'
import { isLoopback, startHttpApi } from '../console/http-api.ts'
import { CliError, type CliIo } from './program.ts'
import { pskFrom, pskHelp, type PskOptions } from './psk-options.ts'
import { exitAfterShutdown, shutdownSignal } from './shutdown-signal.ts'

interface ServeOptions extends PskOptions {
  host: string
  httpPort: string
  coapPort: string
  coapsPort?: string
  dataDir: string
  token?: string
  memory?: boolean
  reobserve?: boolean
  demo?: boolean
  demoSensors: string
  mqtt?: string
  historyDays: string
  historyMb: string
}

function positive(value: string, name: string): number {
  const n = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0) throw new CliError(`${name} must be a positive number, not "${value}"`)
  return n
}

function port(value: string, name: string): number {
  if (!/^\d{1,5}$/.test(value) || Number(value) > 65535) throw new CliError(`${name} must be a port number from 0 to 65535, not "${value}"`)
  return Number(value)
}

/** `serve`: the headless console — embedded LwM2M server plus the REST/SSE API. */
export function registerServeCommand(program: Command, io: CliIo): void {
  program
    .command('serve')
    .description('run the headless console: embedded LwM2M server and the REST/SSE API')
    .option('--host <address>', 'address for HTTP and CoAP; anything but loopback needs a token', '127.0.0.1')
    .option('--http-port <port>', 'HTTP port (0 = any free port)', '8080')
    .option('--coap-port <port>', 'CoAP/UDP port (0 = any free port)', '5683')
    .option('--coaps-port <port>', 'CoAP over DTLS 1.2 with PSK (0 = any free port; default 5684, or any free port when --coap-port is 0)')
    .option('--data-dir <dir>', 'where registrations and history are kept', join(homedir(), '.objecttwin'))
    .option('--memory', 'keep nothing on disk (for trials and tests)')
    .option('--reobserve', "re-establish a client's observations when it registers again")
    .option('--token <token>', 'bearer token the API requires (generated when the host is not loopback)')
    .option('--history-days <n>', 'keep stored values this many days', '30')
    .option('--history-mb <n>', 'keep at most this many MiB of stored values, dropping the oldest first', '2048')
    .option('--demo', 'also run a local gateway on the virtual radio with simulated sensors, registered to this server')
    .option('--demo-sensors <list>', 'simulated sensors of --demo (ecg, hr, thermometer, battery; repeats give more of a kind)', 'ecg,hr,thermometer')
    .option('--mqtt <url>', 'run the MQTT bridge to this broker (mqtt://host:1883 or mqtts://host:8883); other bridge settings as stored')
    // The local gateway then registers over DTLS, its identity bound to its endpoint.
    .option('--psk-identity <id>', pskHelp("the local gateway's").identity)
    .option('--psk-key <hex>', pskHelp("the local gateway's").key)
    .option('--psk-key-file <path>', pskHelp("the local gateway's").keyFile)
    .action(async (options: ServeOptions) => {
      const httpPort = port(options.httpPort, '--http-port')
      const coapPort = port(options.coapPort, '--coap-port')
      const localPsk = pskFrom(options)
      // Tests ask for --coap-port 0 and run side by side: a fixed DTLS port would collide, so it follows.
      const coapsPort = options.coapsPort === undefined ? (coapPort === 0 ? 0 : 5684) : port(options.coapsPort, '--coaps-port')
      const history = { maxAgeMs: positive(options.historyDays, '--history-days') * 86_400_000, maxBytes: positive(options.historyMb, '--history-mb') * 1_048_576 }
      let demoSensors: SensorKind[]
      try {
        demoSensors = parseSensorList(options.demoSensors)
      } catch (e) {
        throw new CliError(`--demo-sensors: ${(e as Error).message}`)
      }
      if (demoSensors.length === 0) throw new CliError('--demo-sensors names no sensor')
      const mqttUrl = options.mqtt === undefined ? undefined : MqttUrl.safeParse(options.mqtt)
      if (mqttUrl && !mqttUrl.success) throw new CliError(`--mqtt: ${mqttUrl.error.issues[0]?.message ?? 'invalid URL'}, not "${options.mqtt}"`)
      let token = options.token
      if (!token && !isLoopback(options.host)) {
        token = randomBytes(24).toString('base64url')
        io.out(`token ${token}`)
      }
      let service: ConsoleService
      try {
        service = await ConsoleService.create({
          coapHost: options.host,
          coapPort,
          coapsPort,
          ...(options.memory ? {} : { dataDir: options.dataDir }),
          ...(options.reobserve ? { reobserveOnRegister: true } : {}),
          history,
          ...(options.demo ? { demo: true } : {}),
          ...(mqttUrl ? { mqtt: { enabled: true, url: mqttUrl.data } } : {}),
          localGateway: { virtualSensors: demoSensors, ...(localPsk ? { psk: localPsk } : {}) },
        })
      } catch (e) {
        throw new CliError((e as Error).message)
      }
      let http: Awaited<ReturnType<typeof startHttpApi>>
      try {
        http = await startHttpApi(service, { host: options.host, port: httpPort, ...(token ? { token } : {}) })
      } catch (e) {
        await service.close()
        throw new CliError(`cannot open the HTTP port ${options.host}:${httpPort}: ${(e as Error).message}`)
      }
      io.out(`listening http=${http.port} coap=${service.coapPort} coaps=${service.coapsPort}`)
      await shutdownSignal()
      await http.app.close()
      await service.close()
      exitAfterShutdown()
    })
}
