import { spawn, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../bin/objecttwin.js', import.meta.url))

/** Runs the real launcher, as `npx objecttwin` would; kills it by PID if it outlives the timeout. */
export function runObjecttwin(args: string[], timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
    const timer = setTimeout(() => {
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
      reject(new Error(`objecttwin ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr}`))
    }, timeoutMs)
    child.on('error', reject)
    child.on('exit', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

/** A long-running objecttwin process (`serve`, `gateway`): its output, the lines it prints, and how it stops. */
export interface RunningObjecttwin {
  readonly child: ChildProcess
  /** stdout and stderr so far. */
  output(): string
  /** The first stdout line matching `pattern` (already printed or still to come). */
  line(pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray>
  /** Sends `signal` and resolves with the exit code (SIGKILL after `timeoutMs`). */
  stop(signal: NodeJS.Signals, timeoutMs: number): Promise<number | null>
}

/** Starts the real launcher and leaves it running; stop it with `stop` (a test's afterEach should). */
export function startObjecttwin(args: string[]): RunningObjecttwin {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')))
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')))
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)))
  const running = (): boolean => child.exitCode === null && child.signalCode === null
  return {
    child,
    output: () => stdout + stderr,
    async line(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const match = stdout.split('\n').map((l) => pattern.exec(l)).find((m) => m !== null)
        if (match) return match
        if (!running()) throw new Error(`objecttwin ${args.join(' ')} exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}; output: ${stdout}${stderr}`)
        if (Date.now() > deadline) throw new Error(`objecttwin ${args.join(' ')} printed no ${pattern} within ${timeoutMs} ms; output: ${stdout}${stderr}`)
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    async stop(signal, timeoutMs) {
      if (!running()) return exited
      child.kill(signal)
      const timer = setTimeout(() => {
        if (running() && child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
      }, timeoutMs)
      try {
        return await exited
      } finally {
        clearTimeout(timer)
      }
    },
  }
}
