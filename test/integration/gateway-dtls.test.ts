/**
 * The gateway's LwM2M client over DTLS 1.2 with a pre-shared key (issue 9): against libcoap's OpenSSL server as an
 * independent peer, and against our own console (its DTLS server and its device identities). The handshake
 * completes, the Register reaches the server, a wrong key or a borrowed identity fails cleanly with a reason.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { Lwm2mClient, type ClientEvent } from '../../electron/client/lwm2m-client.ts'
import { DtlsClientTransport } from '../../electron/coap/dtls-client-transport.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { EventLog, waitFor } from '../support/server-harness.ts'

const KEY_A = '00112233445566778899aabbccddeeff'
const KEY_B = 'ffeeddccbbaa99887766554433221100'
const hex = (text: string): Buffer => Buffer.from(text, 'hex')

const dirs: string[] = []
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ot-dtls-'))
  dirs.push(dir)
  return dir
}
const clients: Lwm2mClient[] = []
const processes: RunningObjecttwin[] = []
afterEach(async () => {
  for (const c of clients.splice(0)) await c.stop({ deregister: false })
  for (const p of processes.splice(0)) await p.stop('SIGKILL', 5000)
})
afterAll(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** A client of `serverUri` with a PSK; the events it reported are kept. */
function dtlsClient(endpoint: string, serverUri: string, identity: string, key: string): { client: Lwm2mClient; events: ClientEvent[] } {
  const client = new Lwm2mClient({ endpoint, serverUri, psk: { identity, key: hex(key) }, requestTimeoutMs: 3000, retryInitialMs: 60_000 })
  const events: ClientEvent[] = []
  client.onEvent((e) => events.push(e))
  clients.push(client)
  return { client, events }
}

const failure = (events: readonly ClientEvent[]): string | undefined => events.flatMap((e) => (e.kind === 'registrationFailed' ? [e.reason] : []))[0]

describe('our gateway against coap-server-openssl (libcoap)', () => {
  let server: ChildProcess | undefined
  let log = ''
  let dtlsPort = 0
  const IDENTITY = 'objecttwin-gw'
  const KEY = 'libcoap-psk-0123'

  /** libcoap listens for DTLS on its port + 1: find a pair of free UDP ports. */
  async function freePortPair(): Promise<number> {
    for (;;) {
      const a = createSocket('udp4')
      const port = await new Promise<number>((resolve) => a.bind(0, '127.0.0.1', () => resolve(a.address().port)))
      const b = createSocket('udp4')
      const free = port < 65535 && (await new Promise<boolean>((resolve) => {
        b.once('error', () => resolve(false))
        b.bind(port + 1, '127.0.0.1', () => resolve(true))
      }))
      await new Promise<void>((resolve) => a.close(() => resolve()))
      if (free) await new Promise<void>((resolve) => b.close(() => resolve()))
      if (free) return port
    }
  }

  beforeAll(async () => {
    const port = await freePortPair()
    dtlsPort = port + 1
    // Line-buffered (stdbuf): its debug log goes to a pipe, which the C library would otherwise buffer until exit.
    server = spawn('stdbuf', ['-oL', '-eL', 'coap-server-openssl', '-A', '127.0.0.1', '-p', String(port), '-k', KEY, '-h', IDENTITY, '-v', '7'], { stdio: ['ignore', 'pipe', 'pipe'] })
    server.stdout?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')))
    server.stderr?.on('data', (chunk: Buffer) => (log += chunk.toString('utf8')))
    await waitFor(() => log.length > 0, 'coap-server-openssl to start logging', 10_000)
  })

  afterAll(async () => {
    if (server && server.exitCode === null) {
      const exited = new Promise((resolve) => server?.once('exit', resolve))
      server.kill('SIGTERM')
      await exited
    }
  })

  it('objecttwin gateway completes the handshake and its Register POST reaches the server (which answers 4.04: it is no LwM2M server)', async () => {
    const keyFile = join(tempDir(), 'gw.key')
    writeFileSync(keyFile, Buffer.from(KEY).toString('hex') + '\n', { mode: 0o600 })
    const gw = startObjecttwin(['gateway', '--server', `coaps://127.0.0.1:${dtlsPort}`, '--psk-identity', IDENTITY, '--psk-key-file', keyFile, '--endpoint', 'gw-libcoap', '--adapter', 'virtual', '--sensors', 'battery', '--data-dir', tempDir()])
    processes.push(gw)
    await waitFor(() => /register failed: the server answered 4\.04/.test(gw.output()), `the 4.04 of libcoap (gateway output: ${gw.output()})`, 20_000)
    expect(gw.output()).toMatch(/^gateway gw-libcoap adapter virtual server coaps:\/\/127\.0\.0\.1:\d+ psk-identity objecttwin-gw data /m)
    await waitFor(() => log.includes(`got psk_identity: '${IDENTITY}'`) && /c:POST .*Uri-Path:rd,.*Uri-Query:ep=gw-libcoap/.test(log), `the Register in the server log (log: ${log.slice(-3000)})`, 5000)
  })

  it('fails cleanly with a clear reason on a wrong key', async () => {
    const { client, events } = dtlsClient('gw-wrong', `coaps://127.0.0.1:${dtlsPort}`, IDENTITY, Buffer.from('not-the-right-key').toString('hex'))
    await client.start()
    expect(client.state).toBe('waiting')
    expect(failure(events)).toBe(`DTLS handshake with 127.0.0.1:${dtlsPort} failed: The DTLS handshake timed out: the server answered but did not complete the handshake, so it refused the PSK identity or key`)
  })
})

describe('our gateway over DTLS with our console', () => {
  let service: ConsoleService
  let events: EventLog
  let uri: string

  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, coapsPort: 0, requestTimeoutMs: 3000, onWarning: () => {} })
    events = new EventLog(service)
    uri = `coaps://127.0.0.1:${service.coapsPort}`
    expect(service.setSecurity({ endpoint: 'gw-a', identity: 'gw-a-id', key: KEY_A }).ok).toBe(true)
    expect(service.setSecurity({ endpoint: 'gw-b', identity: 'gw-b-id', key: KEY_B }).ok).toBe(true)
  })
  afterAll(async () => {
    events.unsubscribe()
    await service.close()
  })

  it('registers over DTLS; device management runs over the session; the Security object shows URI, mode and identity, never the key', async () => {
    const { client } = dtlsClient('gw-a', uri, 'gw-a-id', KEY_A)
    await client.start()
    expect(client.state).toBe('registered')
    expect(service.getClient('gw-a')).toMatchObject({ ok: true, value: { secure: true } })
    const read = await service.read('gw-a', '/3/0/0')
    expect(read.ok && read.value.records?.[0]?.value).toBe('ObjectTwin')
    // Object 0 is closed to the server (4.01), and the key is not even held in the gateway's object tree.
    const security = await service.read('gw-a', '/0/0')
    expect(security.ok && security.value.code).toBe('4.01')
    expect(client.tree.peek(parsePath('/0/0/0'))).toBe(uri)
    expect(client.tree.peek(parsePath('/0/0/2'))).toBe(0)
    expect(Buffer.from(client.tree.peek(parsePath('/0/0/3')) as Uint8Array).toString()).toBe('gw-a-id')
    expect(client.tree.isHandlerBacked(parsePath('/0/0/5'))).toBe(true)
    expect(client.tree.peek(parsePath('/0/0/5'))).toBeUndefined()

    // Another device's valid session cannot update or remove this registration.
    const location = client.registrationLocation as string
    const server = { address: '127.0.0.1', port: service.coapsPort }
    const other = new DtlsClientTransport({ server, psk: { identity: 'gw-b-id', key: hex(KEY_B) } })
    await other.listen()
    try {
      const update = await other.request(server, { method: 'POST', path: location, timeoutMs: 3000 })
      expect([update.code, Buffer.from(update.payload).toString()]).toEqual(['4.03', 'Update of gw-a refused: it registered with PSK identity "gw-a-id", this request came with PSK identity "gw-b-id"'])
      expect((await other.request(server, { method: 'DELETE', path: location, timeoutMs: 3000 })).code).toBe('4.03')
    } finally {
      await other.close()
    }
    expect(service.getClient('gw-a').ok).toBe(true)
    await client.stop()
    await events.wait('deregistered', (e) => e.endpoint === 'gw-a')
  })

  it('fails cleanly on a wrong key: the server refuses the handshake, nothing registers', async () => {
    const { client, events: seen } = dtlsClient('gw-a', uri, 'gw-a-id', KEY_B)
    await client.start()
    expect(client.state).toBe('waiting')
    expect(failure(seen)).toBe(`DTLS handshake with 127.0.0.1:${service.coapsPort} failed: received fatal alert: decrypt_error (the server refused the PSK identity or key)`)
    expect(service.getClient('gw-a').ok).toBe(false)
  })

  it('fails cleanly on an identity the console does not know', async () => {
    const { client, events: seen } = dtlsClient('gw-x', uri, 'nobody', KEY_A)
    await client.start()
    expect(failure(seen)).toMatch(new RegExp(`^DTLS handshake with 127\\.0\\.0\\.1:${service.coapsPort} failed: received fatal alert: \\w+ \\(the server refused the PSK identity or key\\)$`))
  })

  it('refuses a valid identity of A registering as B with 4.03, saying why', async () => {
    const { client, events: seen } = dtlsClient('gw-b', uri, 'gw-a-id', KEY_A)
    await client.start()
    expect(failure(seen)).toBe('the server answered 4.03: PSK identity "gw-a-id" may not register as gw-b: gw-b is bound to another PSK identity (the identity belongs to gw-a)')
    expect(service.getClient('gw-b').ok).toBe(false)
  })

  it('shakes hands anew when the server restarted and forgot the session, and goes on', async () => {
    const dataDir = tempDir()
    const first = await ConsoleService.create({ coapPort: 0, coapsPort: 0, dataDir, requestTimeoutMs: 3000, onWarning: () => {} })
    const port = first.coapsPort
    first.setSecurity({ endpoint: 'gw-r', identity: 'gw-r-id', key: KEY_A })
    const { client, events: seen } = dtlsClient('gw-r', `coaps://127.0.0.1:${port}`, 'gw-r-id', KEY_A)
    await client.start()
    expect(client.state).toBe('registered')
    await first.close()
    const second = await ConsoleService.create({ coapPort: 0, coapsPort: port, dataDir, requestTimeoutMs: 3000, onWarning: () => {} })
    try {
      const before = seen.length
      client.requestUpdate()
      await waitFor(() => seen.slice(before).some((e) => e.kind === 'updated' || e.kind === 'registered') && client.state === 'registered', `the client to be registered again (events: ${JSON.stringify(seen.slice(before))})`, 20_000)
      const read = await second.read('gw-r', '/3/0/0')
      expect(read.ok && read.value.code).toBe('2.05')
      expect(second.getClient('gw-r')).toMatchObject({ ok: true, value: { secure: true } })
    } finally {
      await client.stop()
      await second.close()
    }
  })

  it('objecttwin gateway --server coaps:// --psk-identity --psk-key registers as a process', async () => {
    const gw = startObjecttwin(['gateway', '--server', uri, '--psk-identity', 'gw-b-id', '--psk-key', KEY_B, '--endpoint', 'gw-b', '--adapter', 'virtual', '--sensors', 'battery', '--data-dir', tempDir()])
    processes.push(gw)
    const registered = await events.wait('registered', (e) => e.client.endpoint === 'gw-b', 20_000)
    expect(registered.client.secure).toBe(true)
    await gw.line(/^registered \/rd\/[0-9a-f]+ lwm2m=1\.1$/, 5000)
    expect(gw.output()).not.toContain(KEY_B)
    expect(await gw.stop('SIGTERM', 10_000)).toBe(0)
    await events.wait('deregistered', (e) => e.endpoint === 'gw-b')
  })
})

describe('the local gateway', () => {
  it('registers over DTLS with the PSK it was given, bound to its endpoint', async () => {
    const service = await ConsoleService.create({ coapPort: 0, coapsPort: 0, demo: true, localGateway: { virtualSensors: ['battery'], psk: { identity: 'local-id', key: hex(KEY_A) } }, onWarning: () => {} })
    try {
      const client = await waitFor(() => service.listClients().find((c) => c.endpoint === 'objecttwin-local'), 'the local gateway to register', 20_000)
      expect(client.secure).toBe(true)
      expect(service.listSecurity()).toEqual([{ endpoint: 'objecttwin-local', mode: 'psk', identity: 'local-id', updatedAt: expect.any(Number) }])
    } finally {
      await service.close()
    }
  })

  it('over plain CoAP on loopback is let in although NoSec registrations are refused; another plain client is not', async () => {
    const dataDir = tempDir()
    const first = await ConsoleService.create({ coapPort: 0, coapsPort: 0, dataDir, onWarning: () => {} })
    first.setSecurityPolicy({ refuseNoSec: true })
    await first.close()
    const service = await ConsoleService.create({ coapPort: 0, coapsPort: 0, dataDir, demo: true, localGateway: { virtualSensors: ['battery'] }, onWarning: () => {} })
    try {
      const client = await waitFor(() => service.listClients().find((c) => c.endpoint === 'objecttwin-local'), 'the local gateway to register', 20_000)
      expect(client.secure).toBe(false)
      const stranger = new Lwm2mClient({ endpoint: 'stranger', serverUri: `coap://127.0.0.1:${service.coapPort}`, requestTimeoutMs: 3000, retryInitialMs: 60_000 })
      const seen: ClientEvent[] = []
      stranger.onEvent((e) => seen.push(e))
      clients.push(stranger)
      await stranger.start()
      expect(failure(seen)).toBe("the server answered 4.03: NoSec registrations are refused by this server's security policy; register stranger over DTLS with a PSK, or allow it as NoSec")
    } finally {
      await service.close()
    }
  })
})
