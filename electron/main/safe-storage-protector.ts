import { join } from 'node:path'
import { FileKeyProtector, type KeyProtector } from '../console/console-service.ts'
import type { ShellLogger } from './console-startup.ts'

/** The part of Electron's `safeStorage` the protector uses (passed in: only electron/main/index.ts imports electron). */
export interface SafeStorageLike {
  isEncryptionAvailable(): boolean
  encryptString(plainText: string): Buffer
  decryptString(encrypted: Buffer): string
  /** Linux only: which secret store backs it; "basic_text" is a fixed password, no protection at all. */
  getSelectedStorageBackend?(): string
}

/**
 * PSK keys encrypted by the OS keychain through safeStorage (Keychain on macOS, DPAPI on Windows, libsecret or
 * KWallet on Linux). safeStorage has no associated data, so the endpoint name is sealed in with the key and
 * checked on the way out: a blob moved to another endpoint's row does not open.
 */
export class SafeStorageKeyProtector implements KeyProtector {
  readonly description: string
  private readonly safeStorage: SafeStorageLike

  constructor(safeStorage: SafeStorageLike, backend: string) {
    this.safeStorage = safeStorage
    this.description = `Electron safeStorage (${backend})`
  }

  protect(secret: Uint8Array, context: string): Uint8Array {
    return this.safeStorage.encryptString(JSON.stringify({ context, key: Buffer.from(secret).toString('hex') }))
  }

  unprotect(blob: Uint8Array, context: string): Uint8Array {
    let sealed: { context?: unknown; key?: unknown }
    try {
      sealed = JSON.parse(this.safeStorage.decryptString(Buffer.from(blob))) as { context?: unknown; key?: unknown }
    } catch (e) {
      throw new Error(`safeStorage cannot decrypt the stored key (another user or machine, or a reset keychain): ${(e as Error).message}`, { cause: e })
    }
    if (sealed.context !== context || typeof sealed.key !== 'string') throw new Error('the stored key was sealed for another endpoint')
    return Buffer.from(sealed.key, 'hex')
  }
}

/**
 * safeStorage when the OS offers real protection; otherwise (no keychain, or Linux's "basic_text" fallback with a
 * hard-coded password) an owner-only key file in userData, with a warning saying so.
 */
export function desktopKeyProtector(safeStorage: SafeStorageLike, userData: string, log: Pick<ShellLogger, 'warn'>): KeyProtector {
  const backend = safeStorage.getSelectedStorageBackend?.() ?? 'os keychain'
  if (safeStorage.isEncryptionAvailable() && backend !== 'basic_text') return new SafeStorageKeyProtector(safeStorage, backend)
  const file = join(userData, 'objecttwin.key')
  log.warn(`safeStorage offers no OS-backed encryption here (${backend === 'basic_text' ? 'basic_text backend' : 'unavailable'}); PSK keys are protected by the owner-only key file ${file}`)
  return new FileKeyProtector(file)
}
