/**
 * Reminders (API.md "Reminders"): the `fire_reminder` task of the job queue (queue.ts). A
 * task's reminders are armed as jobs, keyed by task and place, due at their time, by a
 * trigger in the transaction that sets them, moves the due, or completes or trashes the task
 * (db/migrations/202611282000_reminders.ts): so a change and what it cancels commit together.
 * The job fires the reminder if it is still due for that time (repositories/reminders.ts):
 * once, however many processes run the queue and however often a job runs (its process died
 * after firing: the firing is recorded with its event). A job that waited while no process
 * ran fires late at the next start, or not at all past 24 hours. How late each fired is
 * reported to the metrics (todo_reminder_lateness_seconds).
 */
import type { FastifyPluginAsync } from 'fastify'
import fp from 'fastify-plugin'
import { reminderFired } from '../metrics/signals.js'
import * as reminders from '../repositories/reminders.js'

/** What arm_task_reminders puts in a job. */
interface ReminderJob {
  user_id: string
  task_id: string
  reminder: number
  scheduled_for: string
}

const reminderJobs: FastifyPluginAsync = async (app) => {
  app.jobQueue.define('fire_reminder', async (payload) => {
    const job = payload as ReminderJob
    if (await reminders.fire(app.database.forUser(job.user_id), job.user_id, job.task_id, job.reminder, job.scheduled_for)) {
      app.wakeStreams(job.user_id)
      // Lateness as this process's clock sees it, once the firing has committed.
      reminderFired(app, (Date.now() - Date.parse(job.scheduled_for)) / 1000)
    }
  })
}

export default fp(reminderJobs, { name: 'reminder-jobs', dependencies: ['job-queue', 'database', 'stream-wakeups'] })
