import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import { closeSync, constants, existsSync, fstatSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { dirname } from 'node:path'

/**
 * Encrypts secrets (PSK keys) before they reach the database, so a copied database file gives no keys away.
 * The desktop app protects them with Electron's safeStorage (the OS keychain; electron/main), the headless
 * console with a key file only its owner can read.
 */
export interface KeyProtector {
  /** What protects the keys, for the log and the status ("safeStorage (keychain)", "key file /…/objecttwin.key"). */
  readonly description: string
  /** `context` (the endpoint name) is bound to the ciphertext: a blob moved to another row does not decrypt. */
  protect(secret: Uint8Array, context: string): Uint8Array
  /** Throws, naming the cause, when the blob was not made by this protector for this context. */
  unprotect(blob: Uint8Array, context: string): Uint8Array
}

const VERSION = 1
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_BYTES = 32

/** AES-256-GCM with a 32-byte master key: `version ‖ iv ‖ tag ‖ ciphertext`, the context as additional data. */
class AesGcmSealer {
  private readonly masterKey: () => Buffer

  constructor(masterKey: () => Buffer) {
    this.masterKey = masterKey
  }

  seal(secret: Uint8Array, context: string): Uint8Array {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.masterKey(), iv)
    cipher.setAAD(Buffer.from(context, 'utf8'))
    const body = Buffer.concat([cipher.update(secret), cipher.final()])
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body])
  }

  open(blob: Uint8Array, context: string): Uint8Array {
    const data = Buffer.from(blob)
    if (data.length < 1 + IV_BYTES + TAG_BYTES || data[0] !== VERSION) throw new Error('the stored key is not in a format this console wrote')
    const decipher = createDecipheriv('aes-256-gcm', this.masterKey(), data.subarray(1, 1 + IV_BYTES))
    decipher.setAAD(Buffer.from(context, 'utf8'))
    decipher.setAuthTag(data.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES))
    try {
      return Buffer.concat([decipher.update(data.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()])
    } catch {
      throw new Error('the stored key does not decrypt with this master key (another key file, or a row moved to another endpoint)')
    }
  }
}

/**
 * The headless console's protector: AES-256-GCM under a master key kept in `file` (mode 0600, created on first
 * use). A key file that others may read, or that belongs to another user, is refused rather than used.
 */
export class FileKeyProtector implements KeyProtector {
  readonly description: string
  private readonly file: string
  private readonly sealer = new AesGcmSealer(() => this.load())
  private key: Buffer | undefined

  constructor(file: string) {
    this.file = file
    this.description = `key file ${file}`
  }

  protect(secret: Uint8Array, context: string): Uint8Array {
    return this.sealer.seal(secret, context)
  }

  unprotect(blob: Uint8Array, context: string): Uint8Array {
    return this.sealer.open(blob, context)
  }

  private load(): Buffer {
    this.key ??= readOrCreateKeyFile(this.file)
    return this.key
  }
}

function readOrCreateKeyFile(file: string): Buffer {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  if (!existsSync(file)) {
    // Written aside, then linked into place: a second console starting at once never sees a half-written key.
    const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
    try {
      writeFileSync(temp, randomBytes(KEY_BYTES), { mode: 0o600, flag: 'wx' })
      linkSync(temp, file)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new Error(`cannot create the key file ${file}: ${(e as Error).message}`, { cause: e })
    } finally {
      rmSync(temp, { force: true })
    }
  }
  const fd = openSync(file, constants.O_RDONLY)
  try {
    checkOwnerOnly(file, fd)
    const key = readFileSync(fd)
    if (key.length !== KEY_BYTES) throw new Error(`the key file ${file} holds ${key.length} bytes, not ${KEY_BYTES}; it is damaged`)
    return key
  } finally {
    closeSync(fd)
  }
}

function checkOwnerOnly(file: string, fd: number): void {
  // Windows has no POSIX modes; the file lives in the user's own profile there.
  if (process.platform === 'win32') return
  const stat = fstatSync(fd)
  if (typeof process.getuid === 'function' && stat.uid !== process.getuid()) throw new Error(`the key file ${file} belongs to another user (uid ${stat.uid}); refusing to use it`)
  if ((stat.mode & 0o077) !== 0) {
    throw new Error(`the key file ${file} can be read by others (mode ${(stat.mode & 0o777).toString(8)}); make it owner-only (chmod 600) and restart`)
  }
}

/** For a console without a data directory (`serve --memory`, tests): a master key that lives as long as the process. */
export class MemoryKeyProtector implements KeyProtector {
  readonly description = 'in memory (nothing is stored on disk)'
  private readonly sealer: AesGcmSealer

  constructor() {
    const key = randomBytes(KEY_BYTES)
    this.sealer = new AesGcmSealer(() => key)
  }

  protect(secret: Uint8Array, context: string): Uint8Array {
    return this.sealer.seal(secret, context)
  }

  unprotect(blob: Uint8Array, context: string): Uint8Array {
    return this.sealer.open(blob, context)
  }
}
