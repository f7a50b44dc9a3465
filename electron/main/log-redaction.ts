import { redactValue } from '../../shared/security/redact.ts'

/** The part of an electron-log message a hook may rewrite. */
export interface LogMessageLike {
  readonly data: unknown[]
}

/**
 * An electron-log hook (`log.hooks.push(redactLogMessage)`): every message, to every transport (file, console),
 * has its keys, tokens and passwords redacted before it is written.
 */
export function redactLogMessage<M extends LogMessageLike>(message: M): M {
  return { ...message, data: message.data.map(redactValue) }
}
