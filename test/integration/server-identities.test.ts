import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { ObjectRegistry } from '../../shared/lwm2m/object-registry.ts'
import { UdpTransport } from '../../electron/coap/udp-transport.ts'
import { Lwm2mServer } from '../../electron/server/lwm2m-server.ts'
import { securityAccess, type Session } from '../../electron/server/registration-access.ts'
import { openDatabase } from '../../electron/store/database.ts'
import { MemoryKeyProtector } from '../../electron/store/key-protector.ts'
import { RegistrationStore } from '../../electron/store/registration-store.ts'
import { SecurityStore } from '../../electron/store/security-store.ts'
import { IdentityStampingTransport } from '../support/identity-stamping-transport.ts'
import { EventLog, useTestClients } from '../support/server-harness.ts'
import type { TestClient } from '../support/test-client.ts'

/**
 * The server's device-identity rules (issue 9) over real loopback UDP: one plain CoAP endpoint and one whose
 * requests carry the PSK identity a DTLS session would have authenticated (the DTLS transport's own tests run
 * the handshake itself).
 */

const KEY = Buffer.from('000102030405060708090a0b0c0d0e0f', 'hex')
const db = openDatabase(':memory:')
const security = new SecurityStore(db, new MemoryKeyProtector())
const registrations = new RegistrationStore(db)
let trustedPort: number | undefined
const trusted = (_endpoint: string, session: Session): boolean => session.peer.port === trustedPort

let plain: UdpTransport
let secure: IdentityStampingTransport
let server: Lwm2mServer
let log: EventLog
const ports = { plain: 0, secure: 0 }

async function startServer(): Promise<void> {
  plain = new UdpTransport({ host4: '127.0.0.1', port: 0 })
  secure = new IdentityStampingTransport()
  ports.plain = (await plain.listen()).port4 as number
  ports.secure = (await secure.listen()).port4 as number
  server = new Lwm2mServer({ transports: [plain, secure], registry: ObjectRegistry.withBuiltins(), store: registrations, access: securityAccess(security, { trusted }), requestTimeoutMs: 3000 })
  log = new EventLog(server)
  await server.start()
}

async function stopServer(): Promise<void> {
  log.unsubscribe()
  await server.stop()
  await Promise.all([plain.close(), secure.close()])
}

beforeAll(startServer)
afterAll(stopServer)
beforeEach(() => {
  for (const entry of security.list()) security.delete(entry.endpoint)
  security.setPolicy({ refuseNoSec: false })
  security.setPsk('ecg-a', 'id-a', KEY)
  security.setPsk('ecg-b', 'id-b', KEY)
  trustedPort = undefined
})

const clients = useTestClients(() => ({ port: ports.plain }))

/** A test client on the "DTLS" endpoint whose session authenticated as `identity`. */
async function overDtls(endpoint: string, identity: string): Promise<TestClient> {
  const c = await clients.start({ endpoint }, { port: ports.secure })
  secure.identities.set(c.port, identity)
  return c
}

describe('registration over DTLS', () => {
  it('lets an endpoint in with the identity bound to it', async () => {
    const c = await overDtls('ecg-a', 'id-a')
    expect((await c.register()).code).toBe('2.01')
    expect(server.getClient('ecg-a')).toMatchObject({ secure: true, port: c.port })
    expect((await c.update()).code).toBe('2.04')
    expect((await c.deregister()).code).toBe('2.02')
  })

  it('refuses a valid identity of endpoint A registering as B with 4.03 and a diagnostic', async () => {
    const c = await overDtls('ecg-b', 'id-a')
    const reply = await c.register()
    expect(reply.code).toBe('4.03')
    expect(reply.text).toBe('PSK identity "id-a" may not register as ecg-b: ecg-b is bound to another PSK identity (the identity belongs to ecg-a)')
    expect(server.getClient('ecg-b')).toBeUndefined()
    expect(log.of('log').some((e) => e.level === 'warn' && e.message.startsWith(`Register of ecg-b from 127.0.0.1:${c.port} refused (4.03): PSK identity "id-a"`))).toBe(true)
  })

  it('refuses an endpoint that has no identity, even with a valid one of another', async () => {
    const reply = await (await overDtls('stranger', 'id-a')).register()
    expect(reply.code).toBe('4.03')
    expect(reply.text).toBe('PSK identity "id-a" may not register as stranger: no PSK identity is bound to stranger (the identity belongs to ecg-a)')
  })

  it('refuses an Update and a De-register from a session of another identity, and from plain CoAP', async () => {
    const owner = await overDtls('ecg-a', 'id-a')
    const location = (await owner.register()).locationPath.join('/')
    const other = await overDtls('ecg-b', 'id-b')
    const update = await other.request('POST', `/${location}`)
    expect(update.code).toBe('4.03')
    expect(update.text).toBe('Update of ecg-a refused: it registered with PSK identity "id-a", this request came with PSK identity "id-b"')
    expect((await other.request('DELETE', `/${location}`)).code).toBe('4.03')
    const sneaky = await clients.start({ endpoint: 'ecg-a' })
    expect((await sneaky.request('DELETE', `/${location}`)).text).toBe('De-register of ecg-a refused: it registered with PSK identity "id-a", this request came with plain CoAP')
    expect(server.getClient('ecg-a')?.port).toBe(owner.port)
    expect((await owner.update()).code).toBe('2.04')
  })

  it('refuses the next Update once the identity is rebound, and keeps a restored registration bound to its identity', async () => {
    const owner = await overDtls('ecg-a', 'id-a')
    const location = (await owner.register()).locationPath.join('/')
    await stopServer()
    await startServer()
    // The restarted server restored the registration with its identity: another identity still cannot touch it.
    const other = await overDtls('ecg-b', 'id-b')
    expect((await other.request('POST', `/${location}`)).code).toBe('4.03')
    const again = await overDtls('ecg-a', 'id-a')
    expect((await again.request('POST', `/${location}`)).code).toBe('2.04')
    security.setPsk('ecg-a', 'id-a-new', KEY)
    const refused = await again.request('POST', `/${location}`)
    expect(refused.code).toBe('4.03')
    expect(refused.text).toMatch(/^PSK identity "id-a" may not register as ecg-a: ecg-a is bound to another PSK identity/)
  })
})

describe('removing registrations when identities change (removeRevoked)', () => {
  it('removes those made with a revoked identity and those the rules now refuse, each with a deregistered event', async () => {
    const device = await overDtls('ecg-a', 'id-a')
    const location = (await device.register()).locationPath.join('/')
    const plain = await clients.start({ endpoint: 'plain-1' })
    expect((await plain.register()).code).toBe('2.01')
    security.setNoSec('legacy')
    expect((await (await clients.start({ endpoint: 'legacy' })).register()).code).toBe('2.01')
    const local = await clients.start({ endpoint: 'objecttwin-local' })
    trustedPort = local.port
    expect((await local.register()).code).toBe('2.01')

    // Nothing has changed yet: nothing goes.
    expect(server.removeRevoked()).toEqual([])
    // Same identity, new key: the rules still let the identity in, but what was made with the old key goes.
    expect(server.removeRevoked('id-a')).toEqual(['ecg-a'])
    expect(log.of('deregistered')).toContainEqual(expect.objectContaining({ endpoint: 'ecg-a', registrationId: location.split('/')[1] }))
    expect(log.of('log').map((e) => e.message)).toContain('registration of ecg-a removed: the key of PSK identity "id-a" it registered with was revoked')
    expect((await device.request('POST', `/${location}`)).code).toBe('4.04')

    security.setPolicy({ refuseNoSec: true })
    expect(server.removeRevoked()).toEqual(['plain-1'])
    expect(server.listClients().map((c) => c.endpoint).sort()).toEqual(['legacy', 'objecttwin-local'])
  })
})

describe('registration over plain CoAP', () => {
  it('refuses an endpoint that has a PSK identity: it must use DTLS', async () => {
    const reply = await (await clients.start({ endpoint: 'ecg-a' })).register()
    expect(reply.code).toBe('4.03')
    expect(reply.text).toBe('ecg-a has a PSK identity: it must register over DTLS (coaps), not plain CoAP')
  })

  it('lets unknown endpoints in until the policy refuses NoSec; endpoints stored as NoSec stay allowed', async () => {
    const before = await clients.start({ endpoint: 'plain-1' })
    const location = (await before.register()).locationPath.join('/')
    expect(location).toMatch(/^rd\//)
    security.setPolicy({ refuseNoSec: true })
    const refused = await (await clients.start({ endpoint: 'plain-2' })).register()
    expect(refused.code).toBe('4.03')
    expect(refused.text).toBe("NoSec registrations are refused by this server's security policy; register plain-2 over DTLS with a PSK, or allow it as NoSec")
    // An existing plain registration is refused at its next Update.
    expect((await before.update()).code).toBe('4.03')
    security.setNoSec('plain-2')
    expect((await (await clients.start({ endpoint: 'plain-2' })).register()).code).toBe('2.01')
  })

  it('always lets in the session the console vouches for (its own local gateway)', async () => {
    security.setPolicy({ refuseNoSec: true })
    const local = await clients.start({ endpoint: 'objecttwin-local' })
    trustedPort = local.port
    expect((await local.register()).code).toBe('2.01')
    expect((await (await clients.start({ endpoint: 'objecttwin-local' })).register()).code).toBe('4.03')
  })
})
