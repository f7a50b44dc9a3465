/**
 * The DTLS 1.2 PSK server against independent implementations: libcoap's coap-client built on OpenSSL and on
 * GnuTLS, and node-dtls-client. Registers, both cipher suites, failures, sessions, and requests server → client.
 */
import { spawn } from 'node:child_process'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { connectDtls } from '../../bench/dtls-client-socket.ts'
import { BATTERY_PATH, Fleet } from '../../bench/fleet.ts'
import type { CipherSuiteName } from '../../electron/coap/dtls/cipher-suites.ts'
import { ConsoleService } from '../../electron/console/console-service.ts'
import type { ConsoleEvent } from '../../shared/api/events.ts'
import { coapsClient, registerArgs, UdpRelay, type LibcoapTls } from '../support/dtls-peers.ts'
import { eventually } from '../support/gateway-harness.ts'
import { startObjecttwin, type RunningObjecttwin } from '../support/run-objecttwin.ts'
import { hostLacks } from '../support/host-tools.ts'

/** libcoap's clients (libcoap3-bin, with coap-client-notls) are the independent peers; CI installs them on Linux. */
const NO_LIBCOAP = hostLacks('coap-client-notls')

const TLS: LibcoapTls[] = ['openssl', 'gnutls']
const SUITES: CipherSuiteName[] = ['TLS_PSK_WITH_AES_128_CCM_8', 'TLS_PSK_WITH_AES_128_CBC_SHA256']
const hex = (ascii: string): string => Buffer.from(ascii).toString('hex')

/** Binds `endpoint` to PSK identity `<endpoint>-id` with key `<endpoint>-secret-key` (libcoap's -k takes the bytes as text). */
function bind(service: ConsoleService, endpoint: string): { identity: string; key: string } {
  const credentials = { identity: `${endpoint}-id`, key: `${endpoint}-secret-key` }
  const set = service.setSecurity({ endpoint, identity: credentials.identity, key: hex(credentials.key) })
  expect(set.ok, JSON.stringify(set)).toBe(true)
  return credentials
}

function logs(service: ConsoleService): string[] {
  const lines: string[] = []
  service.onEvent((e: ConsoleEvent) => {
    if (e.kind === 'log') lines.push(e.message)
  })
  return lines
}

describe.skipIf(NO_LIBCOAP).each(SUITES)('a server that offers only %s', (suite) => {
  let service: ConsoleService
  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0, dtls: { cipherSuites: [suite] } })
  })
  afterAll(async () => service.close())

  it.each(TLS)('registers a coap-client-%s with a hand-written Register: 2.01, listed as secure', async (tls) => {
    const endpoint = `libcoap-${tls}-${suite.endsWith('CCM_8') ? 'ccm' : 'cbc'}`
    const credentials = bind(service, endpoint)
    const log = logs(service)
    const r = await coapsClient(tls, registerArgs(service.coapsPort, endpoint), credentials)
    expect(r.code, r.output).toBe('2.01')
    expect(r.locationPath).toEqual(['rd', expect.stringMatching(/^[0-9a-f]+$/)])
    expect(service.server.getClient(endpoint)).toMatchObject({ endpoint, secure: true, lifetime: 60, objects: [{ objectId: 1 }, { objectId: 3 }] })
    expect(log.find((l) => l.includes('DTLS session'))).toContain(`PSK identity "${credentials.identity}", ${suite}`)
  })

  it('serves node-dtls-client with the suite too', async () => {
    // Fleet names its one client "<prefix>-000001".
    const credentials = bind(service, 'ndc-suite-000001')
    const fleet = await Fleet.open(1, { endpointPrefix: 'ndc-suite', openSocket: () => connectDtls({ address: '127.0.0.1', port: service.coapsPort }, { ...credentials, key: Buffer.from(credentials.key), cipher: suite }) })
    try {
      const client = fleet.clients[0]!
      await fleet.register(client, { address: '127.0.0.1', port: service.coapsPort })
      expect(service.server.getClient(client.endpoint)).toMatchObject({ secure: true })
    } finally {
      await fleet.close()
    }
  })
})

describe.skipIf(NO_LIBCOAP)('DTLS failures and sessions', () => {
  let service: ConsoleService
  let log: string[]
  beforeAll(async () => {
    service = await ConsoleService.create({ coapPort: 0 })
    log = logs(service)
  })
  afterAll(async () => service.close())

  it.each(TLS)('fails a coap-client-%s with a wrong key cleanly (decrypt_error), registers nothing, and keeps serving', async (tls) => {
    const endpoint = `wrong-key-${tls}`
    const credentials = bind(service, endpoint)
    const failedBefore = service.dtlsStats().handshakesFailed
    const r = await coapsClient(tls, registerArgs(service.coapsPort, endpoint), { ...credentials, key: 'not-the-right-key', waitS: 3 })
    expect(r.code, r.output).toBeUndefined()
    expect(r.output).toMatch(/decrypt error|Alert '51'/i)
    expect(service.server.getClient(endpoint)).toBeUndefined()
    expect(service.dtlsStats().handshakesFailed).toBe(failedBefore + 1)
    expect(log.some((l) => l.includes(`wrong PSK for identity "${credentials.identity}"`))).toBe(true)
    // The same client with the right key is let in at once.
    const again = await coapsClient(tls, registerArgs(service.coapsPort, endpoint), credentials)
    expect(again.code, again.output).toBe('2.01')
  })

  it.each(TLS)('answers an unknown identity from coap-client-%s with unknown_psk_identity', async (tls) => {
    const r = await coapsClient(tls, registerArgs(service.coapsPort, 'nobody'), { identity: 'who-is-this', key: 'some-key-bytes', waitS: 3 })
    expect(r.code, r.output).toBeUndefined()
    expect(r.output).toMatch(/unknown PSK identity|Alert '115'/i)
    expect(service.server.getClient('nobody')).toBeUndefined()
    expect(log.some((l) => l.includes('unknown PSK identity "who-is-this"'))).toBe(true)
  })

  it('ends the session when the client says close_notify', async () => {
    const credentials = bind(service, 'closer')
    const r = await coapsClient('openssl', registerArgs(service.coapsPort, 'closer'), credentials)
    expect(r.code).toBe('2.01')
    // coap-client closes its session on exit: nothing is left behind.
    await eventually(async () => service.dtlsStats().sessions === 0, 'no DTLS session left')
    expect(log.some((l) => /DTLS session with 127\.0\.0\.1:\d+ closed: the client sent close_notify/.test(l))).toBe(true)
  })

  it('reads from and observes a client over its DTLS session (requests server → client)', async () => {
    const credentials = bind(service, 'dtls-fleet-000001')
    const server = { address: '127.0.0.1', port: service.coapsPort }
    const fleet = await Fleet.open(1, { endpointPrefix: 'dtls-fleet', openSocket: () => connectDtls(server, { ...credentials, key: Buffer.from(credentials.key) }) })
    try {
      const client = fleet.clients[0]!
      await fleet.register(client, server)
      const read = await service.read(client.endpoint, BATTERY_PATH)
      expect(read.ok && read.value.records?.[0]?.value).toBe(87)
      const observed = await service.observe(client.endpoint, ['/1031/0/1'])
      expect(observed.ok && observed.value.success).toBe(true)
      const notified = new Promise<number>((resolve) => service.onEvent((e) => e.kind === 'notification' && e.endpoint === client.endpoint && resolve(e.records.length)))
      expect(fleet.notify(client, 25)).toBe(true)
      expect(await notified).toBe(25)
    } finally {
      await fleet.close()
    }
    // Its session is gone with its close_notify: a request to it fails at once, it does not time out.
    await eventually(async () => service.dtlsStats().sessions === 0, 'the fleet client session to end')
    const after = await service.read('dtls-fleet-000001', BATTERY_PATH, { timeoutMs: 20_000 })
    expect(after.ok ? after.value : after.error).toMatchObject({ code: expect.stringMatching(/unreachable|transport/) })
  })

  it('takes a new handshake on an established association (a client restarted on the same port, RFC 6347 §4.2.8)', async () => {
    const credentials = bind(service, 'restarted')
    // Through a relay, so both clients reach the server from one address and port. The first is killed
    // after its handshake (its answers withheld, so it waits): no close_notify, the server keeps its session.
    let withholdAnswers = true
    const relay = await UdpRelay.start({ address: '127.0.0.1', port: service.coapsPort }, (datagram, direction, index) => (withholdAnswers && direction === 'toClient' && index >= 3 ? undefined : datagram))
    const localPort = 40_000 + Math.floor(Math.random() * 20_000)
    try {
      const first = spawn('coap-client-openssl', ['-B', '30', '-u', credentials.identity, '-k', credentials.key, '-p', String(localPort), `coaps://127.0.0.1:${relay.port}/3/0`], { stdio: 'ignore' })
      try {
        await eventually(async () => service.dtlsStats().sessions === 1, 'the first session')
      } finally {
        first.kill('SIGKILL')
      }
      withholdAnswers = false
      const completed = service.dtlsStats().handshakesCompleted
      const r = await coapsClient('openssl', registerArgs(relay.port, 'restarted'), { ...credentials, localPort })
      expect(r.code, r.output).toBe('2.01')
      expect(service.dtlsStats().handshakesCompleted).toBe(completed + 1)
    } finally {
      await relay.close()
    }
  })
})

describe.skipIf(NO_LIBCOAP)('DTLS session limits', () => {
  let service: ConsoleService | undefined
  afterEach(async () => service?.close())

  it('refuses a client beyond maxSessions with an alert, and keeps the sessions it has', async () => {
    service = await ConsoleService.create({ coapPort: 0, dtls: { maxSessions: 1 } })
    const s = service
    const a = bind(s, 'holder-000001')
    const server = { address: '127.0.0.1', port: s.coapsPort }
    const fleet = await Fleet.open(1, { endpointPrefix: 'holder', openSocket: () => connectDtls(server, { ...a, key: Buffer.from(a.key) }) })
    try {
      await fleet.register(fleet.clients[0]!, server)
      const b = bind(s, 'second')
      const r = await coapsClient('gnutls', registerArgs(s.coapsPort, 'second'), { ...b, waitS: 3 })
      expect(r.code, r.output).toBeUndefined()
      expect(r.output).toMatch(/internal error|Alert '80'/i)
      const read = await s.read(fleet.clients[0]!.endpoint, BATTERY_PATH)
      expect(read.ok && read.value.records?.[0]?.value).toBe(87)
    } finally {
      await fleet.close()
    }
  })

  it('closes a session idle past the timeout', async () => {
    service = await ConsoleService.create({ coapPort: 0, dtls: { idleTimeoutMs: 400 } })
    const s = service
    const credentials = bind(s, 'idler')
    // Its answers are withheld so it waits, then it is killed: it never says close_notify.
    const relay = await UdpRelay.start({ address: '127.0.0.1', port: s.coapsPort }, (datagram, direction, index) => (direction === 'toClient' && index >= 3 ? undefined : datagram))
    const killed = spawn('coap-client-gnutls', ['-B', '30', '-u', credentials.identity, '-k', credentials.key, `coaps://127.0.0.1:${relay.port}/3/0`], { stdio: 'ignore' })
    try {
      await eventually(async () => s.dtlsStats().sessions === 1, 'a session')
      killed.kill('SIGKILL')
      await eventually(async () => s.dtlsStats().sessions === 0, 'the idle session to be closed', 10_000)
    } finally {
      killed.kill('SIGKILL')
      await relay.close()
    }
  })
})

describe.skipIf(NO_LIBCOAP)('objecttwin serve --coaps-port', () => {
  let running: RunningObjecttwin | undefined
  afterAll(async () => running?.stop('SIGTERM', 5000))

  it('prints coaps=<port> and registers a DTLS client whose identity was set over REST', async () => {
    running = startObjecttwin(['serve', '--memory', '--http-port', '0', '--coap-port', '0', '--coaps-port', '0'])
    const [, http, coap, coaps] = await running.line(/^listening http=(\d+) coap=(\d+) coaps=(\d+)$/, 20_000)
    expect(Number(coaps)).toBeGreaterThan(0)
    expect(coaps).not.toBe(coap)
    const base = `http://127.0.0.1:${http}`
    const put = await fetch(`${base}/api/security/cli-dev`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ identity: 'cli-dev-id', key: hex('cli-dev-secret') }) })
    expect(put.status).toBe(200)
    const r = await coapsClient('openssl', registerArgs(Number(coaps), 'cli-dev'), { identity: 'cli-dev-id', key: 'cli-dev-secret' })
    expect(r.code, r.output).toBe('2.01')
    const clients = (await (await fetch(`${base}/api/clients`)).json()) as Array<{ endpoint: string; secure: boolean }>
    expect(clients).toEqual([expect.objectContaining({ endpoint: 'cli-dev', secure: true })])
  })
})
