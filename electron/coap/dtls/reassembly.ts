import { DecodeError, type HandshakeFragment, type HandshakeMessage } from './handshake-messages.ts'

interface Partial {
  readonly type: number
  readonly body: Buffer
  /** Received byte ranges [start, end), sorted and merged. */
  ranges: Array<[number, number]>
}

/**
 * Puts fragmented handshake messages back together (RFC 6347 §4.2.3). Fragments may overlap and
 * come in any order; only messages from `nextSeq` to a few beyond are buffered, each of bounded length.
 */
export class HandshakeReassembler {
  private readonly partial = new Map<number, Partial>()
  private readonly maxLength: number
  private readonly lookahead: number

  constructor(options: { maxLength?: number; lookahead?: number } = {}) {
    this.maxLength = options.maxLength ?? 16_384
    this.lookahead = options.lookahead ?? 4
  }

  /** Stores a fragment of a message not yet handed out; throws DecodeError when it contradicts earlier ones. */
  add(fragment: HandshakeFragment, nextSeq: number): void {
    if (fragment.messageSeq < nextSeq || fragment.messageSeq >= nextSeq + this.lookahead) return
    if (fragment.length > this.maxLength) throw new DecodeError(`handshake message of ${fragment.length} bytes exceeds ${this.maxLength}`)
    let message = this.partial.get(fragment.messageSeq)
    if (!message) {
      message = { type: fragment.type, body: Buffer.alloc(fragment.length), ranges: [] }
      this.partial.set(fragment.messageSeq, message)
    } else if (message.type !== fragment.type || message.body.length !== fragment.length) {
      throw new DecodeError(`fragments of handshake message ${fragment.messageSeq} disagree on its type or length`)
    }
    fragment.body.copy(message.body, fragment.offset)
    message.ranges = merge([...message.ranges, [fragment.offset, fragment.offset + fragment.body.length]])
  }

  /** The message `seq` once all of it is here (then forgotten). */
  take(seq: number): HandshakeMessage | undefined {
    const message = this.partial.get(seq)
    if (!message) return undefined
    const [first] = message.ranges
    const complete = message.body.length === 0 || (message.ranges.length === 1 && first !== undefined && first[0] === 0 && first[1] === message.body.length)
    if (!complete) return undefined
    this.partial.delete(seq)
    return { type: message.type, messageSeq: seq, body: message.body }
  }
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  ranges.sort((a, b) => a[0] - b[0])
  const out: Array<[number, number]> = []
  for (const range of ranges) {
    const last = out[out.length - 1]
    if (last && range[0] <= last[1]) last[1] = Math.max(last[1], range[1])
    else out.push([range[0], range[1]])
  }
  return out
}
