import { ConsoleService, type ConsoleOptions } from '../console/console-service.ts'
import { openWithPortFallback } from './port-fallback.ts'

export interface ShellLogger {
  info(message: string): void
  warn(message: string): void
  error(message: string): void
}

/** The LwM2M port gateways expect (RFC 7252 / OMA LwM2M default). */
export const DEFAULT_COAP_PORT = 5683

/**
 * Until the user stores other settings, the desktop app starts its local gateway on the virtual
 * radio (an ECG, a heart-rate and a thermometer sensor), so a first run shows live data at once.
 * The settings panel switches it to a real adapter (stored by the service).
 */
export const FIRST_RUN_LOCAL_GATEWAY = { enabled: true, adapter: 'virtual', virtualSensors: ['ecg', 'hr', 'thermometer'] } as const satisfies ConsoleOptions['localGateway']

export interface ShellConsoleOptions {
  /** Electron's userData folder: the database, the local gateway's object IDs. */
  readonly dataDir: string
  readonly log: ShellLogger
  /** OBJECTTWIN_COAP_HOST (default loopback) and OBJECTTWIN_COAP_PORT (default 5683, 0 = any). */
  readonly env?: Readonly<Record<string, string | undefined>>
  /** Anything else for ConsoleService.create (tests: an in-memory store). */
  readonly overrides?: Partial<ConsoleOptions>
}

/** OBJECTTWIN_COAP_PORT as a port number, or the default; a bad value is said and ignored. */
export function coapPortFrom(value: string | undefined, log: ShellLogger): number {
  if (value === undefined || value === '') return DEFAULT_COAP_PORT
  if (/^\d{1,5}$/.test(value) && Number(value) <= 65535) return Number(value)
  log.warn(`OBJECTTWIN_COAP_PORT must be a port number from 0 to 65535, not "${value}"; using ${DEFAULT_COAP_PORT}`)
  return DEFAULT_COAP_PORT
}

/**
 * The console engine of the desktop app: data in userData, the LwM2M server on CoAP port 5683
 * (any free port when another program holds it), the local gateway from the stored settings or
 * the first-run demo, and the engine's warnings into the log.
 */
export async function startConsole(options: ShellConsoleOptions): Promise<ConsoleService> {
  const { log, env = {} } = options
  const coapHost = env['OBJECTTWIN_COAP_HOST'] || '127.0.0.1'
  const service = await openWithPortFallback(
    (coapPort) =>
      ConsoleService.create({
        dataDir: options.dataDir,
        coapHost,
        coapPort,
        localGateway: FIRST_RUN_LOCAL_GATEWAY,
        onWarning: (message) => log.warn(message),
        ...options.overrides,
      }),
    coapPortFrom(env['OBJECTTWIN_COAP_PORT'], log),
    (message) => log.warn(`CoAP: ${message}`),
  )
  const ports = service.coapPorts
  log.info(`LwM2M server listening on ${coapHost} (CoAP/UDP ${[ports.ipv4 !== undefined ? `IPv4 ${ports.ipv4}` : '', ports.ipv6 !== undefined ? `IPv6 ${ports.ipv6}` : ''].filter(Boolean).join(', ')}); data in ${options.dataDir}`)
  return service
}

/** Console events of level warn and error go to the log file too; returns the unsubscribe. */
export function logConsoleEvents(service: Pick<ConsoleService, 'onEvent'>, log: ShellLogger): () => void {
  return service.onEvent((event) => {
    if (event.kind === 'log' && event.level !== 'info') log[event.level](event.message)
  })
}
