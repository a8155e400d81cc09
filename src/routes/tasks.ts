/** The task operations. Until the tasks issue lands they answer 501 (not-implemented). */
import { ApiProblem } from '../errors.js'
import type { Handlers } from './types.js'

const notYet = async (): Promise<never> => { throw new ApiProblem('not-implemented', 'This operation is not implemented yet.') }

export const taskHandlers: Handlers<'listTasks' | 'createTask' | 'getTask' | 'replaceTask' | 'updateTask' | 'toggleTaskCompletion' | 'deleteTask'> = {
  listTasks: notYet,
  createTask: notYet,
  getTask: notYet,
  replaceTask: notYet,
  updateTask: notYet,
  toggleTaskCompletion: notYet,
  deleteTask: notYet
}
