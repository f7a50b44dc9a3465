/**
 * Runs DTLS handshakes (node-dtls-client) in a worker thread, so the clients' CPU is not the server's: keeps
 * `concurrency` handshakes in flight for `durationMs`, each closed (close_notify) as soon as it is done.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { connectDtls } from './dtls-client-socket.ts'

export interface HandshakeJob {
  readonly port: number
  readonly identity: string
  readonly keyHex: string
  readonly cipher: 'TLS_PSK_WITH_AES_128_CCM_8' | 'TLS_PSK_WITH_AES_128_CBC_SHA256'
  readonly concurrency: number
  readonly durationMs: number
}

export interface HandshakeOutcome {
  /** Handshakes completed within the duration (a straggler finishing later does not stretch the time base). */
  readonly ok: number
  readonly failed: number
  readonly elapsedMs: number
  /** Handshake times (ms), ClientHello to Finished. */
  readonly latencies: number[]
  readonly firstError?: string
}

async function run(job: HandshakeJob): Promise<HandshakeOutcome> {
  const latencies: number[] = []
  let ok = 0
  let failed = 0
  let firstError: string | undefined
  const started = performance.now()
  const end = started + job.durationMs
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t0 = performance.now()
      try {
        // node-dtls-client does not retransmit: a lost datagram costs the loop this timeout.
        const socket = await connectDtls({ address: '127.0.0.1', port: job.port }, { identity: job.identity, key: Buffer.from(job.keyHex, 'hex'), cipher: job.cipher, timeoutMs: 2000 })
        const t1 = performance.now()
        latencies.push(t1 - t0)
        if (t1 <= end) ok++
        await new Promise<void>((resolve) => socket.close(resolve))
      } catch (e) {
        failed++
        firstError ??= (e as Error).message
      }
    }
  }
  await Promise.all(Array.from({ length: job.concurrency }, worker))
  return { ok, failed, elapsedMs: Math.min(performance.now(), end) - started, latencies, ...(firstError ? { firstError } : {}) }
}

if (parentPort) {
  const port = parentPort
  void run(workerData as HandshakeJob).then((outcome) => port.postMessage(outcome))
}
