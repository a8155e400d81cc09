/**
 * The contract: openapi.yaml read once at start-up, and the type aliases every other layer
 * uses. Types come from src/generated (openapi-typescript); nothing here restates a schema.
 */
import { existsSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { parse } from 'yaml'
import { dereference } from './dereference.js'
import type { components, operations, paths } from '../generated/openapi.js'
import type { components as validatedComponents, operations as validatedOperations } from '../generated/openapi-validated.js'
import { operationIndex } from '../generated/operations.js'

export type { components, operations, paths }
/** Operations as a handler receives them: request members with a default are present. */
export type ValidatedOperations = validatedOperations
/** Schemas as a handler receives them: members with a default are present. */
export type ValidatedSchemas = validatedComponents['schemas']
export { operationIndex }

type Schemas = components['schemas']
// Aliases of the generated schemas the other layers name (add one when a layer needs it).
export type Task = Schemas['Task']
export type TaskPatch = Schemas['TaskPatch']
export type Category = Schemas['Category']
export type User = Schemas['User']
export type BatchOperation = Schemas['BatchOperation']
export type BatchResult = Schemas['BatchResult']

export type OperationId = keyof operations

/** The path of openapi.yaml: beside package.json, whether running from src/ (tsx) or dist/src/ (node). */
function locateContract (): string {
  for (const relative of ['../../openapi.yaml', '../../../openapi.yaml']) {
    const candidate = fileURLToPath(new URL(relative, import.meta.url))
    if (existsSync(candidate)) return candidate
  }
  throw new Error('openapi.yaml not found beside package.json')
}

export const contractPath = locateContract()
/** The contract as written, served verbatim at /openapi.yaml. */
export const contractText = readFileSync(contractPath, 'utf8')

export interface OpenApiDocument {
  openapi: string
  info: { title: string, version: string }
  paths: Record<string, Record<string, OpenApiOperation | unknown>>
  components: Record<string, Record<string, unknown>>
  [key: string]: unknown
}

export interface OpenApiOperation {
  operationId: string
  parameters?: unknown[]
  requestBody?: { required?: boolean, content: Record<string, { schema: unknown }> }
  responses: Record<string, unknown>
  security?: unknown[]
  'x-no-fastify-config'?: boolean
  /** Bytes a request body may have on this operation, when more than the global 1 MiB. */
  'x-body-limit'?: number
}

/** A fresh parse of the contract each call: callers may mutate what they get. */
export function loadContract (): OpenApiDocument {
  return parse(contractText) as OpenApiDocument
}

const HTTP_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const

export interface ContractOperation {
  operationId: string
  method: string
  /** The OpenAPI path template (`/api/{user_id}/tasks`). */
  path: string
  operation: OpenApiOperation
}

/** Every operation the contract declares, in document order. */
export function listOperations (document: OpenApiDocument = loadContract()): ContractOperation[] {
  const result: ContractOperation[] = []
  for (const [path, item] of Object.entries(document.paths)) {
    for (const method of HTTP_METHODS) {
      const operation = item[method] as OpenApiOperation | undefined
      if (operation !== undefined) result.push({ operationId: operation.operationId, method: method.toUpperCase(), path, operation })
    }
  }
  return result
}

let dereferenced: OpenApiDocument | undefined
/** The contract with every `$ref` inlined (see dereference.ts); computed once, never mutated. */
export function dereferencedContract (): OpenApiDocument {
  dereferenced ??= Object.freeze(dereference(loadContract()))
  return dereferenced
}

let readOnly: ReadonlySet<string> | undefined
/** Every property some schema of the contract marks `readOnly` (server-assigned: id, version…). */
export function readOnlyProperties (): ReadonlySet<string> {
  if (readOnly === undefined) {
    const names = new Set<string>()
    for (const schema of Object.values(dereferencedContract().components.schemas ?? {})) {
      for (const [name, property] of Object.entries((schema as { properties?: Record<string, { readOnly?: boolean }> }).properties ?? {})) {
        if (property.readOnly === true) names.add(name)
      }
    }
    readOnly = names
  }
  return readOnly
}
