/**
 * The virtual controller as an HCI UART (H4) device on a pseudo-terminal, so that any noble process can open it with
 * noble's UART driver (`hciDriver: 'uart', bindParams: { uart: { port: PATH } }`) as if a USB dongle were attached.
 *
 * `socat -d -d PTY,link=PATH,raw,echo=0,wait-slave STDIO` owns the pty master and relays it to our pipes. With
 * wait-slave, socat exits when the host closes the port (EIO on the master); we then treat the dongle as unplugged
 * (links drop), and start a fresh socat on the same PATH, so the device keeps being served until stop().
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { EventEmitter } from 'node:events'
import { existsSync, lstatSync, unlinkSync } from 'node:fs'
import type { VirtualHciController } from './hci-controller.ts'
import { H4Deframer } from './h4.ts'

export interface PtyServerOptions {
  /** socat executable (default 'socat' from PATH). */
  socat?: string
  /** How long to wait for socat to create the link (default 5000 ms). */
  startTimeoutMs?: number
  /** Log function (default none). */
  log?: (message: string) => void
}

export interface PtyServerEvents {
  /** A host opened the pty. */
  host: []
  /** The host closed the pty (links dropped). */
  hostGone: []
  /** socat failed repeatedly; serving stopped. */
  error: [error: Error]
}

/** Serves one controller on a pseudo-terminal until stopped. */
export class PtyServer extends EventEmitter<PtyServerEvents> {
  readonly path: string
  readonly controller: VirtualHciController
  /** /dev/pts/N of the current socat. */
  device: string | undefined
  private child: ChildProcess | undefined
  private stopping = false
  private readonly socat: string
  private readonly startTimeoutMs: number
  private readonly log: (message: string) => void
  private quickFailures = 0
  private restartTimer: ReturnType<typeof setTimeout> | undefined

  constructor(controller: VirtualHciController, path: string, options: PtyServerOptions = {}) {
    super()
    if (!path || /[,:!'"\s\\]/.test(path)) throw new Error(`pty path must not contain spaces or any of , : ! ' " \\ (socat syntax): '${path}'`)
    if (existsSync(path) && !lstatSync(path).isSymbolicLink()) throw new Error(`${path} exists and is not a symbolic link; refusing to replace it`)
    this.path = path
    this.controller = controller
    this.socat = options.socat ?? 'socat'
    this.startTimeoutMs = options.startTimeoutMs ?? 5000
    this.log = options.log ?? (() => {})
  }

  /** PID of the current socat (for the record; stop() ends it). */
  get pid(): number | undefined {
    return this.child?.pid
  }

  /** Start socat and resolve once PATH links to the pty. */
  async start(): Promise<void> {
    await this.spawnSocat()
  }

  /** Stop serving: kill socat (by PID), detach the controller, remove the link. */
  async stop(): Promise<void> {
    this.stopping = true
    if (this.restartTimer) clearTimeout(this.restartTimer)
    this.restartTimer = undefined
    const child = this.child
    if (child && child.exitCode === null && child.signalCode === null) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL')
        }, 2000)
        child.once('exit', () => {
          clearTimeout(t)
          resolve()
        })
        child.kill('SIGTERM')
      })
    }
    this.child = undefined
    this.controller.detach()
    try {
      if (lstatSync(this.path).isSymbolicLink()) unlinkSync(this.path)
    } catch {
      // already gone
    }
  }

  private spawnSocat(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const args = ['-d', '-d', '-t', '0.1', `PTY,link=${this.path},raw,echo=0,wait-slave,pty-interval=0.05`, 'STDIO']
      const child = spawn(this.socat, args, { stdio: ['pipe', 'pipe', 'pipe'] })
      this.child = child
      const startedAt = performance.now()
      let ready = false
      let hostSeen = false
      let stderr = ''
      const deframer = new H4Deframer((packet) => this.controller.receive(packet))
      const timer = setTimeout(() => {
        if (ready) return
        child.kill('SIGKILL')
        reject(new Error(`socat did not create ${this.path} within ${this.startTimeoutMs} ms: ${stderr.trim()}`))
      }, this.startTimeoutMs)

      child.on('error', (e) => {
        clearTimeout(timer)
        if (!ready) reject(new Error(`cannot run ${this.socat}: ${e.message}`))
      })
      child.stdin?.on('error', () => {}) // EPIPE after socat exits
      child.stdout?.on('data', (chunk: Buffer) => deframer.push(chunk))
      child.stderr?.setEncoding('utf8')
      child.stderr?.on('data', (text: string) => {
        stderr = (stderr + text).slice(-4000)
        for (const line of text.split('\n')) {
          const pty = /PTY is (\S+)/.exec(line)
          if (pty) {
            this.device = pty[1]
            if (!ready) {
              ready = true
              this.attach(child)
              // socat announces the pty around the time it creates the link; wait for the link itself.
              const poll = (): void => {
                if (existsSync(this.path) || child.exitCode !== null || performance.now() - startedAt > this.startTimeoutMs) {
                  clearTimeout(timer)
                  resolve()
                } else setTimeout(poll, 5)
              }
              poll()
            }
          }
          if (line.includes('starting data transfer loop') && !hostSeen) {
            hostSeen = true
            this.log(`host opened ${this.path}`)
            this.emit('host')
          }
        }
      })
      child.on('exit', (code, signal) => {
        clearTimeout(timer)
        if (this.child === child) this.child = undefined
        if (!ready) {
          reject(new Error(`socat exited (${signal ?? code}) before creating ${this.path}: ${stderr.trim()}`))
          return
        }
        if (this.stopping) return
        // The host closed the port: the dongle is "unplugged"; serve again on the same path.
        this.controller.detach()
        if (hostSeen) this.emit('hostGone')
        this.log(`socat exited (${signal ?? code}); serving ${this.path} again`)
        this.quickFailures = performance.now() - startedAt < 1000 && !hostSeen ? this.quickFailures + 1 : 0
        if (this.quickFailures >= 5) {
          this.emit('error', new Error(`socat keeps failing on ${this.path}: ${stderr.trim()}`))
          return
        }
        this.restartTimer = setTimeout(
          () => {
            this.restartTimer = undefined
            if (this.stopping) return
            this.spawnSocat().catch((e: Error) => this.emit('error', e))
          },
          this.quickFailures ? 500 : 0,
        )
      })
    })
  }

  private attach(child: ChildProcess): void {
    const stdin = child.stdin
    if (this.controller.attached) this.controller.detach()
    this.controller.attach((packets) => {
      if (!stdin || stdin.destroyed || this.child !== child) return
      stdin.write(packets.length === 1 ? (packets[0] as Buffer) : Buffer.concat(packets))
    })
  }
}
