import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ConsoleService } from '../../electron/console/console-service.ts'
import { openDatabase } from '../../electron/store/database.ts'
import { RegistrationStore } from '../../electron/store/registration-store.ts'
import { ContentFormat } from '../../shared/lwm2m/content-format.ts'
import { parsePath } from '../../shared/lwm2m/path.ts'
import { EventLog, startServer, waitFor } from '../support/server-harness.ts'
import { TestClient } from '../support/test-client.ts'

const cleanups: (() => Promise<void> | void)[] = []

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'objecttwin-persist-'))
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

async function service(dataDir: string, coapPort = 0): Promise<ConsoleService> {
  const s = await ConsoleService.create({ dataDir, coapPort, requestTimeoutMs: 3000 })
  cleanups.push(() => s.close())
  return s
}

async function client(endpoint: string, serverPort: number, queueMode = false): Promise<TestClient> {
  const c = await TestClient.start({ endpoint, serverPort, queueMode })
  cleanups.push(() => c.close())
  return c
}

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup()
})

describe('restart persistence', () => {
  it('keeps clients and observations across a restart on the same database and port', async () => {
    const dataDir = tempDir()
    const first = await service(dataDir)
    const port = first.coapPort
    const c = await client('persisted', port)
    expect((await c.register()).code).toBe('2.01')
    const observed = await first.observe('persisted', ['/1031/0/1'], { format: 'senml-json' })
    expect(observed).toMatchObject({ ok: true, value: { code: '2.05' } })
    const before = first.getClient('persisted')
    await first.close()

    const second = await service(dataDir, port)
    expect(second.coapPort).toBe(port)
    const log = new EventLog(second)
    const restored = second.getClient('persisted')
    expect(restored).toMatchObject({ ok: true, value: { endpoint: 'persisted', registrationId: c.registrationId, port: c.port, lwm2mVersion: '1.1' } })
    expect(restored.ok && before.ok && restored.value.registeredAt).toBe(before.ok ? before.value.registeredAt : NaN)

    // The server observes again: the old token died with the old process.
    await waitFor(() => c.activeObservations().length === 2, 'the restarted server to observe again')
    expect(c.observations[1]).toMatchObject({ paths: ['/1031/0/1'], format: ContentFormat.SENML_JSON })
    await waitFor(() => second.listObservations('persisted').find((o) => o.active), 'the restored observation')

    expect((await c.update()).code).toBe('2.04')
    const t0 = 1_767_226_000
    const batch = Array.from({ length: 10 }, (_, i) => ({ path: parsePath('/1031/0/1'), value: i * 11, type: 'integer' as const, time: t0 + i * 0.004 }))
    c.notify('/1031/0/1', batch)
    const n = await log.wait('notification', (e) => e.endpoint === 'persisted')
    expect(n.records.map((r) => [r.value, r.time])).toEqual(batch.map((r) => [r.value, r.time]))
    expect(await second.read('persisted', '/3/0/9')).toMatchObject({ ok: true, value: { code: '2.05', records: [{ value: 100 }] } })
  })

  it('forgets a de-registered client across a restart', async () => {
    const dataDir = tempDir()
    const first = await service(dataDir)
    const c = await client('gone', first.coapPort)
    await c.register()
    await c.deregister()
    await first.close()
    const second = await service(dataDir)
    expect(second.listClients()).toEqual([])
  })

  it('re-observes a sleeping queue-mode client when it next updates', async () => {
    const dataDir = tempDir()
    const first = await service(dataDir)
    const port = first.coapPort
    const c = await client('persisted-q', port, true)
    await c.register()
    expect((await first.observe('persisted-q', ['/3/0/9'])).ok).toBe(true)
    await first.close()

    const second = await service(dataDir, port)
    expect(second.getClient('persisted-q')).toMatchObject({ ok: true, value: { state: 'sleeping', queuedRequests: 1 } })
    expect(c.activeObservations()).toHaveLength(1)
    expect((await c.update()).code).toBe('2.04')
    await waitFor(() => c.activeObservations().length === 2, 'the observation after the update')
    await waitFor(() => second.listObservations('persisted-q').find((o) => o.active), 'the restored observation')
  })
})

describe('damaged rows', () => {
  it('skips damaged registrations and observations, and keeps the rest', async () => {
    const file = join(tempDir(), 'objecttwin.db')
    const db = openDatabase(file)
    cleanups.push(() => db.close())
    const store = new RegistrationStore(db)

    const first = await startServer({ store })
    const c = await client('healthy', first.port)
    await c.register()
    await first.close()
    const insert = db.prepare('INSERT INTO registrations (endpoint, registration_id, data, updated_at) VALUES (?, ?, ?, 0)')
    insert.run('not-json', 'aaaa', '{"v":1,')
    insert.run('wrong-shape', 'bbbb', '{"v":1,"params":null}')
    insert.run('wrong-version', 'cccc', '{"v":9}')
    db.prepare('INSERT INTO observations (id, endpoint, data, created_at) VALUES (?, ?, ?, 0)').run('o1', 'healthy', '[[[')

    const second = await startServer({ store, port: first.port })
    cleanups.push(() => second.close())
    expect(second.server.listClients().map((x) => x.endpoint)).toEqual(['healthy'])
    const warnings = second.log.of('log').filter((e) => e.level === 'warn').map((e) => e.message)
    expect(warnings).toEqual(
      expect.arrayContaining([
        'stored registration of not-json is damaged; skipped',
        'stored registration of wrong-shape is not usable; skipped',
        'stored registration of wrong-version is not usable; skipped',
      ]),
    )
    // The server still works for the healthy client and for new ones.
    expect((await c.update()).code).toBe('2.04')
    expect(await second.server.read('healthy', '/3/0/0')).toMatchObject({ ok: true, value: { code: '2.05' } })
    const newcomer = await client('newcomer', second.port)
    expect((await newcomer.register()).code).toBe('2.01')
  })
})
