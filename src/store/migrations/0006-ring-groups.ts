import { sql, type Kysely, type Migration } from 'kysely';

/**
 * Ring groups (issue 4 §4, product.md §2 item 6): a dialable number that rings several extensions
 * by a strategy. `ring_groups.number` shares the tenant's dial space with `extensions.number`; a
 * unique constraint covers the groups among themselves, the repositories check across the two
 * tables (a trigger would not be portable through the schema builder).
 *
 * Members cascade with their extension: deleting an extension removes it from every group rather
 * than refusing (a phone leaving the company should not need its groups edited first); the group
 * keeps ringing the others. The round-robin memory is the extension that last answered; it is set
 * to null when that extension goes, and the rotation starts over from the first member.
 */
export const ringGroups: Migration = {
  async up(db: Kysely<unknown>): Promise<void> {
    await db.schema
      .createTable('ring_groups')
      .addColumn('id', 'text', (c) => c.primaryKey())
      .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id').onDelete('cascade'))
      .addColumn('number', 'text', (c) => c.notNull())
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('description', 'text')
      .addColumn('strategy', 'text', (c) => c.notNull().check(sql`strategy in ('simultaneous', 'sequential', 'round_robin')`))
      .addColumn('ring_timeout_seconds', 'integer', (c) => c.notNull())
      .addColumn('member_timeout_seconds', 'integer', (c) => c.notNull())
      .addColumn('fallback_number', 'text')
      .addColumn('last_answered_extension_id', 'text', (c) => c.references('extensions.id').onDelete('set null'))
      .addColumn('site_id', 'text', (c) => c.references('sites.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .addUniqueConstraint('ring_groups_tenant_number_unique', ['tenant_id', 'number'])
      .execute();
    await db.schema.createIndex('ring_groups_site_idx').on('ring_groups').column('site_id').execute();

    await db.schema
      .createTable('ring_group_members')
      .addColumn('ring_group_id', 'text', (c) => c.notNull().references('ring_groups.id').onDelete('cascade'))
      .addColumn('extension_id', 'text', (c) => c.notNull().references('extensions.id').onDelete('cascade'))
      // Lower rings first (sequential, round robin); ties keep the order the members were given in.
      .addColumn('priority', 'integer', (c) => c.notNull())
      .addColumn('position', 'integer', (c) => c.notNull())
      // Null: the group's member_timeout_seconds.
      .addColumn('timeout_seconds', 'integer')
      .addPrimaryKeyConstraint('ring_group_members_pk', ['ring_group_id', 'extension_id'])
      .execute();
    // "Which groups is this extension in", for the cascade and the extension's delete audit.
    await db.schema.createIndex('ring_group_members_extension_idx').on('ring_group_members').column('extension_id').execute();
  },

  async down(db: Kysely<unknown>): Promise<void> {
    await db.schema.dropTable('ring_group_members').ifExists().execute();
    await db.schema.dropTable('ring_groups').ifExists().execute();
  },
};
