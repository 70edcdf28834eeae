/*
 * Decoding of the init plan (layout in plan.h). Runs before clone, so it may
 * take its time; every offset and length is checked against the message, and
 * a bad record is reported by index, never guessed at.
 */
#include <errno.h>
#include <string.h>

#include "plan.h"

enum slot_kind { N, S, L, U, F };

#define PLAN_OP_SIG(name, code, a, b, c, d) [code] = {a, b, c, d},
static const unsigned char signatures[OP_MAX][4] = {PLAN_OPS(PLAN_OP_SIG)};

static char *plan_pointers[PLAN_MAX_POINTERS];
static uint32_t pointers_used;

static int ref_in_blob(const struct plan *plan, struct plan_ref ref)
{
	return ref.off <= plan->blob_len && ref.len <= plan->blob_len - ref.off;
}

static int check_string(const struct plan *plan, struct plan_ref ref)
{
	/* The terminating NUL sits just past the string, inside the blob. */
	if (!ref_in_blob(plan, ref) || ref.len >= plan->blob_len - ref.off)
		return -1;
	if (plan->blob[ref.off + ref.len] != 0)
		return -1;
	return memchr(plan->blob + ref.off, 0, ref.len) == NULL ? 0 : -1;
}

static int build_list(struct plan *plan, struct plan_ref ref, int64_t count, uint32_t *at)
{
	if (!ref_in_blob(plan, ref) || count < 0 || count > PLAN_MAX_POINTERS)
		return -1;
	if ((uint64_t)pointers_used + (uint64_t)count + 1 > PLAN_MAX_POINTERS)
		return -1;
	if (count == 0 ? ref.len != 0 : (ref.len == 0 || plan->blob[ref.off + ref.len - 1] != 0))
		return -1;
	*at = pointers_used;
	const char *cursor = plan->blob + ref.off;
	const char *end = cursor + ref.len;
	for (int64_t i = 0; i < count; i++) {
		const char *nul = memchr(cursor, 0, (size_t)(end - cursor));
		if (nul == NULL)
			return -1;
		plan_pointers[pointers_used++] = (char *)cursor;
		cursor = nul + 1;
	}
	if (cursor != end)
		return -1;
	plan_pointers[pointers_used++] = NULL;
	return 0;
}

static int check_op(struct plan *plan, uint32_t index, int fd_limit)
{
	const struct plan_op *op = &plan->ops[index];
	if (op->code == 0 || op->code >= OP_MAX)
		return -1;
	for (int slot = 0; slot < 4; slot++) {
		struct plan_ref ref = op->str[slot];
		switch (signatures[op->code][slot]) {
		case N:
			if (ref.off != 0 || ref.len != 0)
				return -1;
			break;
		case S:
			if (check_string(plan, ref) < 0)
				return -1;
			break;
		case L:
			if (build_list(plan, ref, op->num[slot], &plan->list_at[index][slot]) < 0)
				return -1;
			break;
		case U:
			if (!ref_in_blob(plan, ref) || op->num[slot] < 0 || op->num[slot] > 65536 ||
			    (uint64_t)ref.len != (uint64_t)op->num[slot] * 4)
				return -1;
			break;
		case F:
			/* The blob starts 8-byte aligned (header and records are multiples of 8). */
			if (!ref_in_blob(plan, ref) || ref.off % 8 != 0 || op->num[slot] < 1 ||
			    op->num[slot] > PLAN_MAX_FILTER || (uint64_t)ref.len != (uint64_t)op->num[slot] * 8)
				return -1;
			break;
		}
	}
	if (op->code == OP_SETNS && (op->num[0] < 3 || op->num[0] >= fd_limit))
		return -1;
	return 0;
}

int plan_decode(struct plan *plan, const void *message, uint32_t size, int fd_limit, int *bad_op)
{
	const struct plan_header *header = message;
	*bad_op = -1;
	pointers_used = 0;
	if (size < PLAN_HEADER_SIZE || header->magic != PLAN_MAGIC || header->version != PLAN_VERSION)
		return -1;
	if (header->op_count == 0 || header->op_count > PLAN_MAX_OPS)
		return -1;
	uint64_t records = (uint64_t)header->op_count * PLAN_OP_SIZE;
	if ((uint64_t)PLAN_HEADER_SIZE + records + header->blob_len != size)
		return -1;
	plan->ops = (const struct plan_op *)((const char *)message + PLAN_HEADER_SIZE);
	plan->op_count = header->op_count;
	plan->blob = (const char *)message + PLAN_HEADER_SIZE + records;
	plan->blob_len = header->blob_len;

	int clones = 0;
	for (uint32_t i = 0; i < plan->op_count; i++) {
		*bad_op = (int)i;
		if (check_op(plan, i, fd_limit) < 0)
			return -1;
		/* Joins happen before the clone and the other ops after it, but
		 * for cgroup entries and the sync points that wait for them, which
		 * may be on either side, and writes to host paths, which only come
		 * before it. */
		uint32_t code = plan->ops[i].code;
		int before = code == OP_SETNS ||
			     (code == OP_WRITE && (plan->ops[i].flags & PF_HOST_PATH));
		if (code == OP_CLONE) {
			if (++clones > 1)
				return -1;
		} else if (code != OP_CGROUP_ENTER && code != OP_SYNC && before != (clones == 0))
			return -1;
	}
	if (clones != 1 || plan->ops[plan->op_count - 1].code != OP_EXEC) {
		*bad_op = -1;
		return -1;
	}
	*bad_op = -1;
	return 0;
}

const char *plan_str(const struct plan *plan, uint32_t index, int slot)
{
	return plan->blob + plan->ops[index].str[slot].off;
}

char *const *plan_list(const struct plan *plan, uint32_t index, int slot)
{
	return &plan_pointers[plan->list_at[index][slot]];
}
