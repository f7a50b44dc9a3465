import { describe, expect, it } from 'vitest'
import { SECURE_WEB_PREFERENCES, isAllowedExternalUrl, isTrustedSender } from '../../electron/main/window-policy.ts'

describe('Electron window policy', () => {
  it('uses the security baseline', () => {
    expect(SECURE_WEB_PREFERENCES).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webviewTag: false })
  })

  it('opens only http(s) links externally', () => {
    expect(isAllowedExternalUrl('https://openmobilealliance.org')).toBe(true)
    expect(isAllowedExternalUrl('file:///etc/passwd')).toBe(false)
    expect(isAllowedExternalUrl('javascript:alert(1)')).toBe(false)
    expect(isAllowedExternalUrl('not a url')).toBe(false)
  })

  it('answers IPC only for the bundled page or the dev server', () => {
    expect(isTrustedSender('file:///opt/ObjectTwin/resources/app.asar/out/renderer/index.html', undefined)).toBe(true)
    expect(isTrustedSender('file:///tmp/evil.html', undefined)).toBe(false)
    expect(isTrustedSender('http://localhost:5173/', 'http://localhost:5173')).toBe(true)
    expect(isTrustedSender('http://localhost:5173/', undefined)).toBe(false)
    expect(isTrustedSender('https://example.com/', 'http://localhost:5173')).toBe(false)
    expect(isTrustedSender(undefined)).toBe(false)
  })
})
