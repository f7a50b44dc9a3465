import { describe, expect, it } from 'vitest'
import { CookieJar } from './cookie.ts'

describe('CookieJar', () => {
  const peer = { address: '127.0.0.1', port: 5000 }
  const hello = Buffer.from('client hello parameters')

  it('verifies its cookie for the same peer and hello only', () => {
    const jar = new CookieJar()
    const cookie = jar.cookieFor(peer, hello)
    expect(jar.verify(peer, hello, cookie)).toBe(true)
    expect(jar.verify({ ...peer, port: 5001 }, hello, cookie)).toBe(false)
    expect(jar.verify({ ...peer, address: '127.0.0.2' }, hello, cookie)).toBe(false)
    expect(jar.verify(peer, Buffer.from('another hello'), cookie)).toBe(false)
    expect(jar.verify(peer, hello, Buffer.alloc(0))).toBe(false)
    expect(jar.verify(peer, hello, Buffer.alloc(cookie.length))).toBe(false)
  })

  it('still takes a cookie of the previous secret after one rotation, not after two', () => {
    let now = 0
    const jar = new CookieJar({ rotateMs: 1000, now: () => now })
    const cookie = jar.cookieFor(peer, hello)
    now = 1500
    expect(jar.verify(peer, hello, cookie)).toBe(true)
    now = 3000
    expect(jar.verify(peer, hello, cookie)).toBe(false)
  })

  it('does not accept a cookie of another jar (another server or a restart)', () => {
    expect(new CookieJar().verify(peer, hello, new CookieJar().cookieFor(peer, hello))).toBe(false)
  })
})
