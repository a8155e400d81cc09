/**
 * Subtasks and manual order (API.md part two, "Subtasks and manual order").
 * - tasks.parent_id: another task of the same user, by the composite foreign key
 *   (user_id, parent_id) → (user_id, id): a parent can never be someone else's. Purging a
 *   parent leaves the children that were trashed on their own (not with it) without one:
 *   ON DELETE SET NULL (parent_id) (PostgreSQL 15+), which keeps user_id.
 * - tasks.position: the order among siblings, a fractional-indexing key compared bytewise
 *   (collation "C"), at most 64 printable ASCII bytes. Existing tasks are numbered per user
 *   in creation order with the keys fractional-indexing itself gives a list ("a0", "a1", …,
 *   "az", "b00", …), all top level.
 * - Live siblings never share a position: a unique index over (user_id, parent_id, position)
 *   with NULLS NOT DISTINCT (top-level tasks are siblings too), partial to tasks not in the
 *   trash (a restore that finds its place taken goes last). It also serves sort=position
 *   under one parent; tasks_user_position_idx serves it across all levels.
 * - The tree's rules (parent alive, no cycle, at most 4 levels) hold in the database: a row
 *   trigger checks a new or changed parent. It runs after the statement-level trigger of the
 *   change record has locked the user's change counter, which every write of that user takes
 *   first: so two concurrent moves of one user are checked one after the other, each seeing
 *   the other's result (a volatile function's query sees what committed before it ran), and
 *   cannot together build a cycle. Its refusals are check violations named after the rule.
 * - A task inserted without a position goes last among its live siblings: a row trigger
 *   fills it with task_position_after(the last sibling's key), which is fractional-indexing's
 *   generateKeyBetween(last, null) (its integer part, incremented) written in PL/pgSQL, so a
 *   create stays one statement; the statement-level lock of the change record comes first,
 *   so concurrent inserts of one user read each other's keys. Moves, which need a key between
 *   two others, take theirs from the library itself.
 * - The change record names a change of parent_id or position `task.moved` (API.md's
 *   precedence: trash, completion, move, update).
 * Frozen: never import src/, never edit once released.
 */
import { type Kysely, sql } from 'kysely'

/** fractional-indexing's integer keys: 'a' + 1 digit, 'b' + 2, 'c' + 3, 'd' + 4 (base 62). */
const DIGITS = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

export async function up (db: Kysely<any>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const tasks = sql.id((rows[0] as { schema: string }).schema, 'tasks')

  await sql`ALTER TABLE tasks ADD COLUMN parent_id uuid`.execute(db)
  await sql`ALTER TABLE tasks ADD COLUMN position text COLLATE "C"`.execute(db)
  // Numbering existing tasks is no change of theirs: no version, no event (the change
  // record's trigger ignores an update that keeps the version).
  const digit = (n: ReturnType<typeof sql>): ReturnType<typeof sql> => sql`substr(${DIGITS}, (${n})::int + 1, 1)`
  await sql`
    WITH numbered AS (
      SELECT user_id, id, (row_number() OVER (PARTITION BY user_id ORDER BY created_at, id) - 1)::bigint AS n FROM tasks
    ), keyed AS (
      SELECT user_id, id, CASE
        WHEN n < 62 THEN 'a' || ${digit(sql`n`)}
        WHEN n < 62 + 3844 THEN 'b' || ${digit(sql`(n - 62) / 62`)} || ${digit(sql`(n - 62) % 62`)}
        WHEN n < 62 + 3844 + 238328 THEN 'c' || ${digit(sql`(n - 3906) / 3844`)} || ${digit(sql`(n - 3906) / 62 % 62`)} || ${digit(sql`(n - 3906) % 62`)}
        ELSE 'd' || ${digit(sql`(n - 242234) / 238328`)} || ${digit(sql`(n - 242234) / 3844 % 62`)} || ${digit(sql`(n - 242234) / 62 % 62`)} || ${digit(sql`(n - 242234) % 62`)}
      END AS position FROM numbered
    )
    UPDATE tasks t SET position = k.position FROM keyed k WHERE t.user_id = k.user_id AND t.id = k.id
  `.execute(db)
  await sql`ALTER TABLE tasks ALTER COLUMN position SET NOT NULL`.execute(db)
  await sql`ALTER TABLE tasks ADD CONSTRAINT tasks_position_form CHECK (octet_length(position) BETWEEN 1 AND 64 AND position ~ '^[!-~]+$')`.execute(db)
  await sql`ALTER TABLE tasks ADD CONSTRAINT tasks_parent_fkey FOREIGN KEY (user_id, parent_id) REFERENCES tasks (user_id, id) ON DELETE SET NULL (parent_id)`.execute(db)
  await sql`ALTER TABLE tasks ADD CONSTRAINT tasks_parent_not_self CHECK (parent_id IS DISTINCT FROM id)`.execute(db)
  // The foreign key's own lookups (purging a parent) and the walks down a tree: subtasks only.
  await sql`CREATE INDEX tasks_user_parent_idx ON tasks (user_id, parent_id) WHERE parent_id IS NOT NULL`.execute(db)
  await sql`CREATE UNIQUE INDEX tasks_sibling_position_idx ON tasks (user_id, parent_id, position) NULLS NOT DISTINCT WHERE deleted_at IS NULL`.execute(db)
  await sql`CREATE INDEX tasks_user_position_idx ON tasks (user_id, position, id) WHERE deleted_at IS NULL`.execute(db)

  await sql`
    CREATE FUNCTION task_position_after(last text) RETURNS text LANGUAGE plpgsql IMMUTABLE STRICT AS $$
    DECLARE
      digits constant text := '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
      heads constant text := 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
      head integer := strpos(heads, substr(last, 1, 1)) - 1;
      int_length integer;
      next_int_length integer;
      zeros text := '';
      digit integer;
    BEGIN
      IF head < 0 THEN
        RAISE EXCEPTION 'invalid order key: %', last;
      END IF;
      -- The head gives the integer part's length: 'a' 2, 'b' 3 … 'z' 27; 'Z' 2 … 'A' 27.
      int_length := CASE WHEN head < 26 THEN 27 - head ELSE head - 24 END;
      FOR i IN REVERSE int_length..2 LOOP
        digit := strpos(digits, substr(last, i, 1));
        IF digit = 62 THEN
          zeros := '0' || zeros;
        ELSE
          RETURN substr(last, 1, i - 1) || substr(digits, digit + 1, 1) || zeros;
        END IF;
      END LOOP;
      IF head = 51 THEN
        RAISE EXCEPTION 'no integer key after %', last;
      END IF;
      next_int_length := CASE WHEN head + 1 < 26 THEN 26 - head ELSE head - 23 END;
      RETURN substr(heads, head + 2, 1) || CASE
        WHEN next_int_length > int_length THEN zeros || '0'
        WHEN next_int_length < int_length THEN substr(zeros, 2)
        ELSE zeros
      END;
    END
    $$
  `.execute(db)
  await sql`
    CREATE FUNCTION fill_task_position() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.parent_id IS NULL THEN
        NEW.position := coalesce(${sql.id((rows[0] as { schema: string }).schema, 'task_position_after')}((
          SELECT max(t.position) FROM ${tasks} t WHERE t.user_id = NEW.user_id AND t.parent_id IS NULL AND t.deleted_at IS NULL)), 'a0');
      ELSE
        NEW.position := coalesce(${sql.id((rows[0] as { schema: string }).schema, 'task_position_after')}((
          SELECT max(t.position) FROM ${tasks} t WHERE t.user_id = NEW.user_id AND t.parent_id = NEW.parent_id AND t.deleted_at IS NULL)), 'a0');
      END IF;
      RETURN NEW;
    END
    $$
  `.execute(db)
  // Before the change record's trigger (triggers of one kind run in name order): the event
  // holds the position.
  await sql`
    CREATE TRIGGER tasks_fill_position BEFORE INSERT ON tasks
    FOR EACH ROW WHEN (NEW.position IS NULL) EXECUTE FUNCTION fill_task_position()
  `.execute(db)

  await sql`
    CREATE FUNCTION check_task_tree() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      ancestor uuid := NEW.parent_id;
      above integer := 0;
      below integer := 0;
      alive boolean;
    BEGIN
      IF TG_OP = 'UPDATE' AND NEW.parent_id IS NOT DISTINCT FROM OLD.parent_id AND OLD.deleted_at IS NULL THEN
        RETURN NEW;
      END IF;
      -- A subtree restored in one statement: its parent may come back in the same statement,
      -- before or after this row (a row trigger sees the rows the statement already changed).
      SELECT p.deleted_at IS NULL OR (TG_OP = 'UPDATE' AND p.deleted_at = OLD.deleted_at) INTO alive
      FROM ${tasks} p WHERE p.user_id = NEW.user_id AND p.id = NEW.parent_id;
      IF alive IS NOT TRUE THEN
        RAISE EXCEPTION 'the parent is not a task of this user outside the trash'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_parent_alive';
      END IF;
      -- Up: the ancestors, which must not include the task itself (bounded: trees are short).
      WHILE ancestor IS NOT NULL AND above <= 4 LOOP
        IF ancestor = NEW.id THEN
          RAISE EXCEPTION 'the parent is the task itself or one of its subtasks'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_parent_cycle';
        END IF;
        above := above + 1;
        SELECT p.parent_id INTO ancestor FROM ${tasks} p WHERE p.user_id = NEW.user_id AND p.id = ancestor;
      END LOOP;
      -- Down: the levels of live subtasks under the task (none for a new one).
      IF TG_OP = 'UPDATE' THEN
        WITH RECURSIVE subtree(id, depth) AS (
          SELECT c.id, 1 FROM ${tasks} c WHERE c.user_id = NEW.user_id AND c.parent_id = NEW.id AND c.deleted_at IS NULL
          UNION ALL
          SELECT c.id, s.depth + 1 FROM ${tasks} c JOIN subtree s ON c.user_id = NEW.user_id AND c.parent_id = s.id
          WHERE c.deleted_at IS NULL AND s.depth < 4
        )
        SELECT coalesce(max(depth), 0) INTO below FROM subtree;
      END IF;
      IF above + 1 + below > 4 THEN
        RAISE EXCEPTION 'the task would be more than 4 levels deep'
          USING ERRCODE = 'check_violation', CONSTRAINT = 'tasks_parent_depth';
      END IF;
      RETURN NEW;
    END
    $$
  `.execute(db)
  // Only tasks outside the trash are checked: trashed subtrees keep their shape.
  await sql`
    CREATE TRIGGER tasks_check_tree BEFORE INSERT OR UPDATE OF parent_id, deleted_at ON tasks
    FOR EACH ROW WHEN (NEW.parent_id IS NOT NULL AND NEW.deleted_at IS NULL)
    EXECUTE FUNCTION check_task_tree()
  `.execute(db)

  await replaceChangeRecord(db, sql`
          WHEN NEW.parent_id IS DISTINCT FROM OLD.parent_id OR NEW.position IS DISTINCT FROM OLD.position THEN 'task.moved'`)
}

/** record_task_change as 202611281200_change_record.ts wrote it, with `moved` among its rules. */
async function replaceChangeRecord (db: Kysely<any>, moved: ReturnType<typeof sql>): Promise<void> {
  const { rows } = await sql<{ schema: string }>`SELECT current_schema() AS schema`.execute(db)
  const table = (name: string): ReturnType<typeof sql.id> => sql.id((rows[0] as { schema: string }).schema, name)
  await sql`
    CREATE OR REPLACE FUNCTION record_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      kind text;
      taken bigint;
    BEGIN
      IF TG_OP = 'DELETE' THEN
        taken := ${table('next_change_seq')}(OLD.user_id);
        INSERT INTO ${table('events')} (user_id, seq, type, entity_id, data)
        VALUES (OLD.user_id, taken, 'task.purged', OLD.id, jsonb_build_object('id', OLD.id));
        RETURN OLD;
      END IF;
      IF TG_OP = 'UPDATE' THEN
        IF NEW.version = OLD.version THEN
          RETURN NEW;
        END IF;
        kind := CASE
          WHEN OLD.deleted_at IS NULL AND NEW.deleted_at IS NOT NULL THEN 'task.deleted'
          WHEN OLD.deleted_at IS NOT NULL AND NEW.deleted_at IS NULL THEN 'task.restored'
          WHEN NEW.completed AND NOT OLD.completed THEN 'task.completed'
          WHEN OLD.completed AND NOT NEW.completed THEN 'task.reopened'${moved}
          ELSE 'task.updated'
        END;
      ELSE
        kind := 'task.created';
      END IF;
      taken := ${table('next_change_seq')}(NEW.user_id);
      NEW.change_seq := taken;
      INSERT INTO ${table('events')} (user_id, seq, type, entity_id, data)
      VALUES (NEW.user_id, taken, kind, NEW.id,
              to_jsonb(NEW) - ARRAY['user_id', 'search', 'priority_rank', 'title_sort', 'change_seq']);
      RETURN NEW;
    END
    $$
  `.execute(db)
}

export async function down (db: Kysely<any>): Promise<void> {
  await replaceChangeRecord(db, sql``)
  await sql`DROP TRIGGER tasks_check_tree ON tasks`.execute(db)
  await sql`DROP FUNCTION check_task_tree()`.execute(db)
  await sql`DROP TRIGGER tasks_fill_position ON tasks`.execute(db)
  await sql`DROP FUNCTION fill_task_position(), task_position_after(text)`.execute(db)
  await sql`DROP INDEX tasks_user_position_idx, tasks_sibling_position_idx, tasks_user_parent_idx`.execute(db)
  await sql`ALTER TABLE tasks DROP CONSTRAINT tasks_parent_not_self, DROP CONSTRAINT tasks_parent_fkey, DROP CONSTRAINT tasks_position_form`.execute(db)
  await sql`ALTER TABLE tasks DROP COLUMN position, DROP COLUMN parent_id`.execute(db)
}
