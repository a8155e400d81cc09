/**
 * graphile-worker's log lines into the service's logger (pino). The library logs every job it
 * completes at `info`: those go to debug, so that a busy queue does not flood the service's
 * log; its warnings and errors keep their level. Without a logger (the migration step), only
 * warnings and errors are written, to stderr.
 */
import type { FastifyBaseLogger } from 'fastify'
import { Logger, type LogLevel } from 'graphile-worker'

export function queueLogger (log: FastifyBaseLogger | undefined): Logger {
  return new Logger((scope) => (level: LogLevel, message: string) => {
    const fields = { queue: scope }
    switch (level as string) {
      case 'error':
        if (log === undefined) process.stderr.write(`job queue: ${message}\n`)
        else log.error(fields, message)
        return
      case 'warning':
        if (log === undefined) process.stderr.write(`job queue: ${message}\n`)
        else log.warn(fields, message)
        return
      default:
        log?.debug(fields, message)
    }
  })
}
