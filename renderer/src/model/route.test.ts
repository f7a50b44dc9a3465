import { describe, expect, it } from 'vitest'
import { formatRoute, parseRoute, type Route } from './route.ts'

describe('routes', () => {
  it('round-trips every view', () => {
    const routes: Route[] = [
      { view: 'clients' },
      { view: 'client', endpoint: 'gw/1 ü' },
      { view: 'client', endpoint: 'ecg-gw', path: '/1031/0/2' },
      { view: 'monitor', endpoint: 'ecg-gw', path: '/1031/0/1' },
      { view: 'events' },
      { view: 'wire' },
      { view: 'inspector' },
      { view: 'history' },
      { view: 'history', endpoint: 'ecg 1' },
      { view: 'history', endpoint: 'ecg-gw', path: '/1031/0/1' },
      { view: 'gateway' },
      { view: 'wall' },
      { view: 'mqtt' },
      { view: 'security' },
      { view: 'about' },
    ]
    for (const r of routes) expect(parseRoute(formatRoute(r))).toEqual(r)
  })

  it('falls back to the clients list for anything unknown or malformed', () => {
    expect(parseRoute('')).toEqual({ view: 'clients' })
    expect(parseRoute('#/nowhere')).toEqual({ view: 'clients' })
    expect(parseRoute('#/monitor/ep')).toEqual({ view: 'clients' })
    expect(parseRoute('#/clients/%E0%A4%A')).toEqual({ view: 'clients' })
    expect(parseRoute('#/clients/ep/x/y')).toEqual({ view: 'client', endpoint: 'ep' })
  })
})
