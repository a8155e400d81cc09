/** The five category operations. */
import { resourcePath, toCategory } from '../domain/representations.js'
import { ApiProblem } from '../errors.js'
import * as categories from '../repositories/categories.js'
import type { Handlers } from './types.js'

const notFound = (): ApiProblem => new ApiProblem('not-found', 'No category with this id.')
const nameTaken = (): ApiProblem => new ApiProblem('conflict', 'A category with this name exists already.', {
  errors: [{ pointer: '/name', detail: 'is already used by another of your categories' }]
})

const idTaken = (): ApiProblem => new ApiProblem('conflict', 'A category with this id exists already.', {
  errors: [{ pointer: '/id', detail: 'is already one of your categories' }]
})

export const categoryHandlers: Handlers<'listCategories' | 'createCategory' | 'getCategory' | 'updateCategory' | 'deleteCategory'> = {
  async listCategories (request) {
    const rows = await categories.list(request.db, request.user.id)
    return { items: rows.map(toCategory) }
  },

  async createCategory (request, reply) {
    const { id, name, color } = request.body
    const userId = request.user.id
    const row = await categories.insert(request.db, userId, { id, name: name.trim(), color })
    if (row === 'conflict') throw nameTaken()
    if (row === 'id-taken') throw idTaken()
    reply.code(201).header('location', resourcePath(userId, 'categories', row.id))
    return toCategory(row)
  },

  async getCategory (request) {
    const row = await categories.findById(request.db, request.user.id, request.params.category_id)
    if (row === undefined) throw notFound()
    return toCategory(row)
  },

  async updateCategory (request) {
    const { name, color } = request.body
    const changes = {
      ...(name === undefined ? {} : { name: name.trim() }),
      ...(color === undefined ? {} : { color })
    }
    const row = await categories.update(request.db, request.user.id, request.params.category_id, changes)
    if (row === 'missing') throw notFound()
    if (row === 'conflict') throw nameTaken()
    return toCategory(row)
  },

  async deleteCategory (request, reply) {
    const removed = await categories.remove(request.db, request.user.id, request.params.category_id)
    if (!removed) throw notFound()
    return await reply.code(204).send()
  }
}
