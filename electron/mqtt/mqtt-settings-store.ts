import { z } from 'zod'
import { MqttSettings } from '../../shared/api/mqtt-schemas.ts'
import { fail, ok, type Result } from '../../shared/api/result.ts'
import type { KeyProtector } from '../store/key-protector.ts'
import type { SettingsStore } from '../store/settings-store.ts'
import { defaultMqttSettings } from './mqtt-settings.ts'

const SECTION = 'mqtt'
// A NUL, which no endpoint name may hold (SecurityEndpoint): no device's PSK blob opens as the password, nor the reverse.
const PASSWORD_CONTEXT = '\u0000mqtt password'

/**
 * The stored row: the settings with the password sealed by the KeyProtector (base64). `password` in plain text is
 * how consoles before this one stored it; it is read once and replaced.
 */
const StoredMqttSettings = MqttSettings.extend({ passwordSealed: z.base64().max(4096).optional() })

/**
 * The MQTT bridge's settings in the settings store, the password encrypted at rest by the same KeyProtector as the
 * device keys (the OS keychain on the desktop, the owner-only key file headless), so a copied database gives it
 * away no more than it gives the keys.
 */
export class MqttSettingsStore {
  private readonly store: SettingsStore
  private readonly protector: KeyProtector
  private readonly onWarning: (message: string) => void
  /** A stored password that does not decrypt: written back as it is until a new password (or none) is given. */
  private unreadable: { readonly sealed: string; readonly error: string } | undefined

  constructor(store: SettingsStore, protector: KeyProtector, onWarning: (message: string) => void) {
    this.store = store
    this.protector = protector
    this.onWarning = onWarning
  }

  /**
   * The stored settings; first run: the defaults, stored so the client id stays. A plain-text password is sealed now;
   * one that does not decrypt is left out, and {@link passwordError} says why.
   */
  load(): MqttSettings {
    if (!this.store.has(SECTION)) {
      const settings = defaultMqttSettings()
      this.save(settings)
      return settings
    }
    // A damaged row reads as absent (warned) and stays in place: the defaults serve this run only.
    const stored = this.store.read(SECTION, StoredMqttSettings)
    if (!stored) return defaultMqttSettings()
    const { passwordSealed, ...settings } = stored
    if (passwordSealed === undefined) {
      if (settings.password !== undefined) {
        const sealed = this.save(settings, { scrub: true })
        if (!sealed.ok) this.onWarning(`mqtt: the stored password stays in plain text: ${sealed.error.message}`)
      }
      return settings
    }
    try {
      const password = Buffer.from(this.protector.unprotect(Buffer.from(passwordSealed, 'base64'), PASSWORD_CONTEXT)).toString('utf8')
      return { ...settings, password }
    } catch (e) {
      const error = `the stored MQTT password cannot be decrypted (${(e as Error).message}; keys protected by ${this.protector.description}): enter the password again, or remove it`
      this.unreadable = { sealed: passwordSealed, error }
      this.onWarning(`mqtt: ${error}`)
      // A plain-text password beside the sealed one is not trusted either.
      const { password: _plain, ...rest } = settings
      return rest
    }
  }

  /** Why the stored password cannot be used, while it cannot: the bridge must not connect without it. */
  get passwordError(): string | undefined {
    return this.unreadable?.error
  }

  /**
   * Stores the settings with their password sealed. Without a password, `keepUnreadable` writes a stored password
   * that did not decrypt back as it was (the right key file may yet return); a password given, or removed, replaces it.
   * `scrub` leaves no trace of the row it replaces in the database files (a plain-text password).
   */
  save(settings: MqttSettings, options: { keepUnreadable?: boolean; scrub?: boolean } = {}): Result<void> {
    const { password, ...rest } = settings
    let passwordSealed: string | undefined
    if (password !== undefined) {
      try {
        passwordSealed = Buffer.from(this.protector.protect(Buffer.from(password, 'utf8'), PASSWORD_CONTEXT)).toString('base64')
      } catch (e) {
        return fail('unavailable', `cannot encrypt the MQTT password (keys protected by ${this.protector.description}): ${(e as Error).message}`)
      }
    } else if (options.keepUnreadable === true && this.unreadable) passwordSealed = this.unreadable.sealed
    const row = { ...rest, ...(passwordSealed !== undefined ? { passwordSealed } : {}) }
    if (options.scrub === true) this.store.overwrite(SECTION, row)
    else this.store.write(SECTION, row)
    if (passwordSealed !== this.unreadable?.sealed) this.unreadable = undefined
    return ok(undefined)
  }
}
