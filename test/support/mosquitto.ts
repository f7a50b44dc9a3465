import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createConnection, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * A real Mosquitto broker for the MQTT bridge's tests (issue 7), on 127.0.0.1 and a port of its own, with the
 * Mosquitto command-line clients as independent peers: `mosquitto_sub` to see what the bridge published,
 * `mosquitto_pub` / `mosquitto_rr` to send it commands.
 */

export const MOSQUITTO = '/usr/sbin/mosquitto'

export function mosquittoInstalled(): boolean {
  return existsSync(MOSQUITTO) && spawnSync('mosquitto_sub', ['--help']).error === undefined
}

/** A port that was free a moment ago (a listener on port 0, closed again): mosquitto cannot pick one itself. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve(true)
    })
    socket.once('error', () => resolve(false))
  })
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

export interface BrokerOptions {
  /** user → password; anonymous clients are then refused. */
  readonly users?: Readonly<Record<string, string>>
  /** Listen with TLS only (PEM files): the broker's certificate and key, and the CA the clients check them with. */
  readonly tls?: { readonly caFile: string; readonly certFile: string; readonly keyFile: string }
}

export interface Broker {
  readonly port: number
  readonly url: string
  /** Arguments that point a Mosquitto client at this broker (with the first user's credentials, if any). */
  readonly clientArgs: readonly string[]
  /** Starts (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>
  /** Stops the broker process (SIGTERM, by its pid). */
  stop(): Promise<void>
  /** Stops it and removes its files. */
  close(): Promise<void>
}

export async function startBroker(options: BrokerOptions = {}): Promise<Broker> {
  const dir = mkdtempSync(join(tmpdir(), 'ot-mosquitto-'))
  const port = await freePort()
  // No limit on a subscriber's queue: mosquitto_sub must see every message of a burst, not what fits in 1000.
  const lines = [`listener ${port} 127.0.0.1`, 'persistence false', 'max_queued_messages 0', 'log_dest stderr', 'log_type error', 'log_type warning']
  if (options.tls) lines.push(`cafile ${options.tls.caFile}`, `certfile ${options.tls.certFile}`, `keyfile ${options.tls.keyFile}`)
  // Started as root, mosquitto switches to the `mosquitto` user, which cannot read this private directory.
  if (process.getuid?.() === 0) lines.push('user root')
  const users = Object.entries(options.users ?? {})
  if (users.length > 0) {
    const passwords = join(dir, 'passwords')
    writeFileSync(passwords, '')
    for (const [user, password] of users) {
      const made = spawnSync('mosquitto_passwd', ['-b', passwords, user, password], { encoding: 'utf8' })
      if (made.status !== 0) throw new Error(`mosquitto_passwd failed: ${made.stderr || made.error?.message}`)
    }
    lines.push('allow_anonymous false', `password_file ${passwords}`)
  } else {
    lines.push('allow_anonymous true')
  }
  const config = join(dir, 'mosquitto.conf')
  writeFileSync(config, lines.join('\n') + '\n')

  let child: ChildProcess | undefined
  let log = ''
  const start = async (): Promise<void> => {
    if (child) throw new Error('the broker is already running')
    const started = spawn(MOSQUITTO, ['-c', config], { stdio: ['ignore', 'ignore', 'pipe'] })
    child = started
    started.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString()))
    const deadline = Date.now() + 10_000
    while (!(await accepts(port))) {
      if (started.exitCode !== null) throw new Error(`mosquitto exited with ${started.exitCode}: ${log.trim()}`)
      if (Date.now() > deadline) throw new Error(`mosquitto did not accept connections on port ${port} within 10 s: ${log.trim()}`)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
  const stop = async (): Promise<void> => {
    const running = child
    child = undefined
    if (!running || running.pid === undefined) return
    process.kill(running.pid, 'SIGTERM')
    await exited(running)
  }
  await start()
  const [first] = users
  return {
    port,
    url: `${options.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${port}`,
    clientArgs: ['-h', '127.0.0.1', '-p', String(port), ...(first ? ['-u', first[0], '-P', first[1]] : []), ...(options.tls ? ['--cafile', options.tls.caFile] : [])],
    start,
    stop,
    close: async () => {
      await stop()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

export interface ReceivedMessage {
  readonly topic: string
  readonly payload: string
}

export interface Subscriber {
  /** Resolves once the broker acknowledged the subscription: what is published after it is seen. */
  readonly ready: Promise<void>
  /** The first `count` messages, or a rejection naming the topic and what came when `mosquitto_sub` gives up. */
  readonly messages: Promise<ReceivedMessage[]>
  /** What has come so far. */
  received(): readonly ReceivedMessage[]
  stop(): Promise<void>
}

/**
 * `mosquitto_sub -v -d -C count -W seconds` on `topic`: debug lines tell when it has subscribed, `-v` lines
 * ("topic payload") are the messages. JSON payloads are one line.
 */
export function subscribe(broker: Broker, topic: string, count: number, options: { seconds?: number; args?: readonly string[] } = {}): Subscriber {
  const seconds = options.seconds ?? 20
  // stdbuf: piped, mosquitto_sub's stdout is block-buffered and "Subscribed" would show only at its exit.
  const child = spawn('stdbuf', ['-oL', 'mosquitto_sub', ...broker.clientArgs, '-t', topic, '-v', '-d', '-C', String(count), '-W', String(seconds), ...(options.args ?? [])], { stdio: ['ignore', 'pipe', 'pipe'] })
  const received: ReceivedMessage[] = []
  let output = ''
  let pending = ''
  let markReady: () => void = () => undefined
  const ready = new Promise<void>((resolve) => (markReady = resolve))
  child.stdout?.on('data', (chunk: Buffer) => {
    pending += chunk.toString()
    const lines = pending.split('\n')
    pending = lines.pop() ?? ''
    for (const line of lines) {
      output += line + '\n'
      if (line.startsWith('Subscribed (mid')) markReady()
      else if (line.startsWith('Client ') || line === '') continue
      else {
        const space = line.indexOf(' ')
        received.push(space < 0 ? { topic: line, payload: '' } : { topic: line.slice(0, space), payload: line.slice(space + 1) })
      }
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const messages = exited(child).then((code) => {
    if (received.length >= count) return received.slice(0, count)
    throw new Error(`mosquitto_sub on ${topic} got ${received.length} of ${count} messages (exit ${code}):\n${output.slice(-2000)}`)
  })
  // Neither promise may go unhandled when a test fails early.
  messages.catch(() => undefined)
  return {
    ready: Promise.race([ready, messages.then(() => undefined)]),
    messages,
    received: () => received,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM')
      await exited(child)
    },
  }
}

async function runClient(command: string, args: readonly string[]): Promise<string> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()))
  child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()))
  const code = await exited(child)
  if (code !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${code}: ${err.trim() || out.trim()}`)
  return out
}

/** `mosquitto_pub -t topic -m payload`. */
export async function publish(broker: Broker, topic: string, payload: string, args: readonly string[] = []): Promise<void> {
  await runClient('mosquitto_pub', [...broker.clientArgs, '-t', topic, '-m', payload, ...args])
}

/** `mosquitto_rr` (MQTT 5 request/response): publishes with a response topic and prints the one answer. */
export async function request(broker: Broker, topic: string, responseTopic: string, payload: string, seconds = 20): Promise<string> {
  return (await runClient('mosquitto_rr', [...broker.clientArgs, '-t', topic, '-e', responseTopic, '-m', payload, '-W', String(seconds)])).trim()
}
