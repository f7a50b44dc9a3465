/**
 * libcoap's `coap-client-notls` (libcoap3-bin) as an independent LwM2M client of the real headless
 * console (`objecttwin serve` in a child process): hand-written Register, Update and De-register,
 * and malformed requests, each checked on the wire (libcoap's verbose output) and over the REST API.
 * libcoap's client exits after one exchange, so it cannot answer reads: device management against
 * an independent peer is covered by peer-lwm2m-node-lib.test.ts.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { ClientInfo } from '../../shared/api/schemas.ts'
import { hostLacks } from '../support/host-tools.ts'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))

interface Exit {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
}

/** Resolves to the ports of the `listening http=<port> coap=<port>` line. */
function listeningPorts(child: ChildProcess, exited: Promise<Exit>): Promise<{ httpPort: number; coapPort: number }> {
  let stdout = ''
  let stderr = ''
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()))
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no "listening" line within 20 s; stdout: ${stdout} stderr: ${stderr}`)), 20_000)
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString()
      const m = /listening http=(\d+) coap=(\d+)/.exec(stdout)
      if (!m) return
      clearTimeout(timer)
      resolve({ httpPort: Number(m[1]), coapPort: Number(m[2]) })
    })
    void exited.then(({ code, signal }) => {
      clearTimeout(timer)
      reject(new Error(`serve exited (code ${code}, signal ${signal}) before listening; stderr: ${stderr}`))
    })
  })
}

interface LibcoapExchange {
  /** The response code, e.g. "2.01"; undefined when libcoap got no answer. */
  readonly code?: string
  readonly locationPath: string[]
  readonly output: string
}

/** One `coap-client-notls` exchange; `-v 6` makes it print the response header. */
function coapClient(args: readonly string[]): Promise<LibcoapExchange> {
  return new Promise((resolve) => {
    execFile('coap-client-notls', ['-v', '6', '-B', '5', ...args], { timeout: 15_000, killSignal: 'SIGKILL' }, (_error, stdout, stderr) => {
      const output = stdout + stderr
      const header = /^v:1 t:(?:ACK|CON|NON) c:(\d\.\d\d) .*$/m.exec(output)
      const locationPath = [...(header?.[0].matchAll(/Location-Path:([^,\s\]]+)/g) ?? [])].map((m) => m[1] as string)
      resolve({ ...(header ? { code: header[1] } : {}), locationPath, output })
    })
  })
}

describe.skipIf(hostLacks('coap-client-notls', 'posix-signals'))('libcoap coap-client-notls against objecttwin serve', () => {
  let child: ChildProcess | undefined
  let exited: Promise<Exit> | undefined
  let coapPort = 0
  let api: (path: string) => Promise<{ status: number; body: unknown }>
  let rd: string

  const clients = async (): Promise<ClientInfo[]> => {
    const res = await api('/api/clients')
    expect(res.status).toBe(200)
    return res.body as ClientInfo[]
  }
  const endpoints = async (): Promise<string[]> => (await clients()).map((c) => c.endpoint).sort()

  beforeAll(async () => {
    // Spawned before anything can fail, so afterAll always knows the PID to kill.
    child = spawn(process.execPath, ['bin/objecttwin.js', 'serve', '--memory', '--http-port', '0', '--coap-port', '0'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    const spawned = child
    exited = new Promise<Exit>((resolve) => spawned.once('exit', (code, signal) => resolve({ code, signal })))
    const ports = await listeningPorts(child, exited)
    coapPort = ports.coapPort
    const base = `http://127.0.0.1:${ports.httpPort}`
    api = async (path) => {
      const res = await fetch(base + path)
      return { status: res.status, body: await res.json() }
    }
    rd = `coap://127.0.0.1:${coapPort}/rd`
  })

  afterAll(async () => {
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      process.kill(child.pid, 'SIGKILL')
      await exited
    }
  })

  let registrationId = ''

  it('registers with a hand-written Register: 2.01, Location-Path rd/<id>, listed over REST', async () => {
    const r = await coapClient(['-m', 'post', '-t', '40', '-e', '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>', `${rd}?ep=libcoap-1&lt=300&lwm2m=1.1&b=U`])
    expect(r.code).toBe('2.01')
    expect(r.locationPath).toEqual(['rd', expect.stringMatching(/^[0-9a-f]{6,}$/)])
    registrationId = r.locationPath[1] as string
    const listed = await clients()
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({
      endpoint: 'libcoap-1',
      registrationId,
      address: '127.0.0.1',
      lwm2mVersion: '1.1',
      binding: 'U',
      lifetime: 300,
      queueMode: false,
      online: true,
      rootPath: '/',
      contentFormats: [110],
      objectLinks: '</>;rt="oma.lwm2m";ct=110,</1/0>,</3/0>',
      objects: [
        { objectId: 1, instances: [0] },
        { objectId: 3, instances: [0] },
      ],
    })
    const one = await api('/api/clients/libcoap-1')
    expect(one).toMatchObject({ status: 200, body: { endpoint: 'libcoap-1', registrationId } })
  })

  it('updates the lifetime with POST /rd/<id>: 2.04', async () => {
    const before = (await clients())[0] as ClientInfo
    const r = await coapClient(['-m', 'post', `${rd}/${registrationId}?lt=600`])
    expect(r.code).toBe('2.04')
    const after = (await clients())[0] as ClientInfo
    expect(after).toMatchObject({ endpoint: 'libcoap-1', registrationId, lifetime: 600, registeredAt: before.registeredAt })
    expect(after.lastUpdateAt).toBeGreaterThanOrEqual(before.lastUpdateAt)
  })

  it('updates the object list with an Update payload: 2.04', async () => {
    const r = await coapClient(['-m', 'post', '-t', '40', '-e', '</1/0>,</3/0>,</3303/0>,</3303/1>', `${rd}/${registrationId}`])
    expect(r.code).toBe('2.04')
    expect((await clients())[0]?.objects).toEqual([
      { objectId: 1, instances: [0] },
      { objectId: 3, instances: [0] },
      { objectId: 3303, instances: [0, 1] },
    ])
  })

  it.each([
    { name: 'a Register with no endpoint name', args: ['-m', 'post', '-t', '40', '-e', '</1/0>', '/rd?lt=300&lwm2m=1.1'], code: '4.00', diagnostic: /endpoint name/ },
    { name: 'a Register with lwm2m=9.9', args: ['-m', 'post', '-t', '40', '-e', '</1/0>', '/rd?ep=libcoap-v9&lwm2m=9.9'], code: '4.12', diagnostic: /9\.9 is not supported/ },
    { name: 'a Register with bad link format', args: ['-m', 'post', '-t', '40', '-e', '</1/0>,<3/0', '/rd?ep=libcoap-badlink&lwm2m=1.1'], code: '4.00', diagnostic: /Link format/ },
    { name: 'a Register with a non-numeric lifetime', args: ['-m', 'post', '-t', '40', '-e', '</1/0>', '/rd?ep=libcoap-lt&lt=forever'], code: '4.00', diagnostic: /lifetime/ },
    { name: 'an Update of an unknown registration', args: ['-m', 'post', '/rd/0123456789ab?lt=60'], code: '4.04', diagnostic: /no registration 0123456789ab/ },
    { name: 'a De-register of an unknown registration', args: ['-m', 'delete', '/rd/0123456789ab'], code: '4.04', diagnostic: /no registration/ },
    { name: 'a GET on /rd', args: ['-m', 'get', '/rd'], code: '4.05', diagnostic: /POST/ },
    { name: 'a PUT on /rd', args: ['-m', 'put', '-e', 'x', '/rd'], code: '4.05', diagnostic: /POST/ },
    { name: 'a GET on an unknown path', args: ['-m', 'get', '/no/such/path'], code: '4.04', diagnostic: /no resource at \/no\/such\/path/ },
  ])('answers $name with $code and leaves the registrations alone', async ({ args, code, diagnostic }) => {
    const before = await clients()
    const url = `coap://127.0.0.1:${coapPort}${args.at(-1) as string}`
    const r = await coapClient([...args.slice(0, -1), url])
    expect(r.code).toBe(code)
    expect(r.output).toMatch(diagnostic)
    expect(await clients()).toEqual(before)
  })

  it('de-registers with DELETE /rd/<id>: 2.02, and the client is gone from REST', async () => {
    const r = await coapClient(['-m', 'delete', `${rd}/${registrationId}`])
    expect(r.code).toBe('2.02')
    expect(await endpoints()).toEqual([])
    expect(await api('/api/clients/libcoap-1')).toMatchObject({ status: 404, body: { error: { code: 'not_found' } } })
    // The old location is dead now.
    expect((await coapClient(['-m', 'post', `${rd}/${registrationId}`])).code).toBe('4.04')
  })

  it('replaces a registration when the same endpoint registers again', async () => {
    const first = await coapClient(['-m', 'post', '-t', '40', '-e', '</1/0>', `${rd}?ep=libcoap-again&lt=120&lwm2m=1.0&b=UQ`])
    const second = await coapClient(['-m', 'post', '-t', '40', '-e', '</1/0>,</3/0>', `${rd}?ep=libcoap-again&lt=120&lwm2m=1.2&b=U&Q`])
    expect([first.code, second.code]).toEqual(['2.01', '2.01'])
    expect(second.locationPath[1]).not.toBe(first.locationPath[1])
    const listed = await clients()
    expect(listed).toHaveLength(1)
    expect(listed[0]).toMatchObject({ endpoint: 'libcoap-again', registrationId: second.locationPath[1], lwm2mVersion: '1.2', queueMode: true })
    expect((await coapClient(['-m', 'post', `${rd}/${first.locationPath[1] as string}`])).code).toBe('4.04')
  })

  it('stops on SIGTERM with exit code 0', async () => {
    process.kill(child?.pid as number, 'SIGTERM')
    expect(await exited).toEqual({ code: 0, signal: null })
  })
})
