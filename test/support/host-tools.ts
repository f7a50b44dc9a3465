import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { CHROMIUM } from './console-page.ts'
import { mosquittoInstalled } from './mosquitto.ts'

/**
 * What some suites need from the machine besides Node: independent peers and tools that CI installs
 * on Linux (.github/workflows/ci.yml, .ci/run), and POSIX signals. On Linux nothing is skipped: a
 * missing tool fails its suite loudly, naming it. On macOS and Windows, where the runners lack these
 * tools, a suite that needs one is skipped (`describe.skipIf(hostLacks(...))`) and says why.
 */
export type HostNeed =
  /** libcoap's client (libcoap3-bin), an independent CoAP peer. */
  | 'coap-client-notls'
  /** socat, which gives the virtual HCI controller a pseudo-terminal. */
  | 'socat'
  /** The Mosquitto broker and its command-line clients (with coreutils' stdbuf). */
  | 'mosquitto'
  /** Chromium or Chrome at CHROMIUM_PATH (default /usr/bin/chromium). */
  | 'chromium'
  /** SIGTERM and SIGINT delivered to a child process as signals (Windows kills it instead). */
  | 'posix-signals'

const runs = (command: string, args: string[]): boolean => spawnSync(command, args, { stdio: 'ignore' }).error === undefined

const CHECKS: { readonly [N in HostNeed]: () => boolean } = {
  'coap-client-notls': () => runs('coap-client-notls', ['-h']),
  socat: () => runs('socat', ['-V']),
  mosquitto: () => mosquittoInstalled() && runs('stdbuf', ['--version']),
  chromium: () => existsSync(CHROMIUM),
  'posix-signals': () => process.platform !== 'win32',
}

const known = new Map<HostNeed, boolean>()
const has = (need: HostNeed): boolean => {
  if (!known.has(need)) known.set(need, CHECKS[need]())
  return known.get(need) as boolean
}

/** True (and a line on stderr saying what is missing) when a suite needing `needs` cannot run here; always false on Linux. */
export function hostLacks(...needs: HostNeed[]): boolean {
  if (process.platform === 'linux') return false
  const missing = needs.filter((need) => !has(need))
  if (missing.length > 0) console.warn(`skipped on ${process.platform}: needs ${missing.join(', ')} (installed on the Linux CI runner only)`)
  return missing.length > 0
}
