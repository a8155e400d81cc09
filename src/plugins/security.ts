/**
 * Security headers on every response with @fastify/helmet. Its default Content-Security-Policy
 * (scripts and styles from this origin, inline styles, data: images) is the one Swagger UI at
 * /docs needs, so it applies everywhere; JSON responses are never rendered as HTML anyway.
 */
import helmet from '@fastify/helmet'
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'

const security: FastifyPluginAsync = async (app) => {
  await app.register(helmet, { global: true })
}

export default fp(security, { name: 'security' })
