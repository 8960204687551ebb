/* ops/matmul.c - matrix products with NumPy batch broadcasting:
 *     ag_matmul      a [..., m, k] @ b [..., k, n]        -> [..., m, n]
 *     ag__matmul_nt  a [..., m, k] @ b [..., n, k]^T      -> [..., m, n]   (internal)
 *     ag__matmul_tn  a [..., k, m]^T @ b [..., k, n]      -> [..., m, n]   (internal)
 * Both operands need at least 2 dimensions; the leading (batch) dimensions broadcast.
 *
 * Each batch is one call of the packed GEMM (ops/gemm.c), which reads transposed operands
 * while packing. The three ops' backward rules use each other, so no rule ever materialises a
 * transposed copy, and with create_graph the rules record the same ops again:
 *     y = a b      da = g b^T (nt)     db = a^T g (tn)
 *     y = a b^T    da = g b            db = g^T a (tn)
 *     y = a^T b    da = b g^T (nt)     db = a g
 * Results are deterministic: every element sums its k products in a fixed order whatever the
 * number of threads.
 */
#include "../autograd/internal.h"
#include "gemm.h"

typedef struct mm_plan {
    bool ta, tb;                   /* a stored [k, m] / b stored [n, k] */
    int nbatch;                    /* broadcast batch dimensions */
    int64_t bshape[AG_MAX_DIMS];   /* their sizes */
    int64_t astride[AG_MAX_DIMS];  /* element stride of a's matrix per batch index (0: broadcast) */
    int64_t bstride[AG_MAX_DIMS];
    int64_t batches, m, k, n;
} mm_plan;

/* One GEMM per batch. Many small products run in parallel over the batches (each GEMM then
 * stays on its thread); large ones one after the other, each using the threads itself. */
static void kernel(const mm_plan *pl, const ag_tensor *A, const ag_tensor *B, ag_tensor *Y)
{
    size_t es = Y->dtype == AG_F32 ? sizeof(float) : sizeof(double);
    int64_t m = pl->m, k = pl->k, n = pl->n;
    int64_t per = m * n, work = pl->batches * m * n;
    if (k > 0 && per < INT64_MAX / k) per *= k;
    if (k > 0 && work < INT64_MAX / k) work *= k;
    const char *pa = A->data, *pb = B->data;
    char *py = Y->data;
    ag_gemm_args g = {.dtype = Y->dtype, .ta = pl->ta, .tb = pl->tb, .m = m, .n = n, .k = k,
                      .alpha = 1, .beta = 0, .lda = pl->ta ? m : k, .ldb = pl->tb ? k : n,
                      .ldc = n};
#define MM_BATCH(bi)                                                                       \
    do {                                                                                   \
        int64_t oa = 0, ob = 0, rest = (bi);                                               \
        for (int d = pl->nbatch - 1; d >= 0; d--) {                                        \
            int64_t idx = rest % pl->bshape[d];                                            \
            rest /= pl->bshape[d];                                                         \
            oa += idx * pl->astride[d];                                                    \
            ob += idx * pl->bstride[d];                                                    \
        }                                                                                  \
        ag_gemm_args gb = g;                                                               \
        gb.a = pa + (size_t)oa * es;                                                       \
        gb.b = pb + (size_t)ob * es;                                                       \
        gb.c = py + (size_t)((bi) * m * n) * es;                                           \
        ag__gemm(&gb);                                                                     \
    } while (0)
    if (pl->batches > 1 && per < (int64_t)1 << 20) {
        AG_PFOR_WORK(bi, pl->batches, work, MM_BATCH(bi););
    } else {
        for (int64_t bi = 0; bi < pl->batches; bi++) MM_BATCH(bi);
    }
#undef MM_BATCH
}

/* y = a b:   da = g b^T,  db = a^T g (over the broadcast batch shape; the engine sums
 * broadcast batch dimensions back to each input's shape). */
static int matmul_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad && !(gin[0] = ag__matmul_nt(g, b))) return -1;
    if (b->requires_grad && !(gin[1] = ag__matmul_tn(a, g))) return -1;
    return 0;
}

/* y = a b^T (a [m,k], b [n,k]):   da = g b,   db = g^T a. */
static int matmul_nt_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad && !(gin[0] = ag_matmul(g, b))) return -1;
    if (b->requires_grad && !(gin[1] = ag__matmul_tn(g, a))) return -1;
    return 0;
}

/* y = a^T b (a [k,m], b [k,n]):   da = b g^T,   db = a g. */
static int matmul_tn_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad && !(gin[0] = ag__matmul_nt(b, g))) return -1;
    if (b->requires_grad && !(gin[1] = ag_matmul(a, g))) return -1;
    return 0;
}

static const ag_op OP_MATMUL = {"matmul", matmul_backward};
static const ag_op OP_MATMUL_NT = {"_matmul_nt", matmul_nt_backward};
static const ag_op OP_MATMUL_TN = {"_matmul_tn", matmul_tn_backward};

/* Checks the shapes and fills the plan and the output shape; false with an error otherwise. */
static bool plan_matmul(const char *fn, const ag_tensor *a, const ag_tensor *b, mm_plan *pl,
                        int *nd, int64_t *shape)
{
    char sa[AG_SHAPE_BUF], sb[AG_SHAPE_BUF];
    const ag_tensor *ops[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const ag_tensor *t = ops[i];
        if (t->ndim >= 2) continue;
        ag_shape_str(t, sa, sizeof sa);
        if (t->ndim == 1)
            ag__error("%s: needs at least 2 dimensions, got %s (argument %d); reshape a "
                      "vector to [1,%lld] or [%lld,1]", fn, sa, i + 1, (long long)t->shape[0],
                      (long long)t->shape[0]);
        else
            ag__error("%s: needs at least 2 dimensions, got %s (argument %d, a 0-d "
                      "tensor); multiply by a scalar with ag_mul", fn, sa, i + 1);
        return false;
    }
    int na = a->ndim - 2, nb = b->ndim - 2, no = na > nb ? na : nb;
    pl->m = a->shape[na + pl->ta];
    pl->k = a->shape[na + !pl->ta];
    pl->n = b->shape[nb + !pl->tb];
    int64_t bk = b->shape[nb + pl->tb];
    if (bk != pl->k) {
        ag__error("%s: inner dimensions differ: %s%s @ %s%s (%lld vs %lld: the %s dimension "
                  "of a must equal the %s of b)", fn, ag_shape_str(a, sa, sizeof sa),
                  pl->ta ? "^T" : "", ag_shape_str(b, sb, sizeof sb), pl->tb ? "^T" : "",
                  (long long)pl->k, (long long)bk, pl->ta ? "second-to-last" : "last",
                  pl->tb ? "last" : "second-to-last");
        return false;
    }
    /* batch dimensions, aligned from the right; strides in elements (0 where broadcast) */
    int64_t sa_el = pl->m * pl->k, sb_el = pl->k * pl->n;
    pl->nbatch = no;
    pl->batches = 1;
    for (int d = no - 1; d >= 0; d--) {
        int ia = d - (no - na), ib = d - (no - nb);
        int64_t xa = ia >= 0 ? a->shape[ia] : 1, xb = ib >= 0 ? b->shape[ib] : 1;
        if (xa != xb && xa != 1 && xb != 1) {
            ag__error("%s: batch dimensions cannot broadcast: %s @ %s (batch dimension "
                      "%d: %lld vs %lld; each pair must be equal or one of them 1)", fn,
                      ag_shape_str(a, sa, sizeof sa), ag_shape_str(b, sb, sizeof sb), d,
                      (long long)xa, (long long)xb);
            return false;
        }
        pl->bshape[d] = xa == 1 ? xb : xa;
        if (pl->bshape[d] > 0 && pl->batches > INT64_MAX / 16 / pl->bshape[d]) {
            ag__error("%s: the result of %s @ %s would be too large", fn,
                      ag_shape_str(a, sa, sizeof sa), ag_shape_str(b, sb, sizeof sb));
            return false;
        }
        pl->astride[d] = xa == 1 ? 0 : sa_el;
        pl->bstride[d] = xb == 1 ? 0 : sb_el;
        sa_el *= xa;
        sb_el *= xb;
        pl->batches *= pl->bshape[d];
        shape[d] = pl->bshape[d];
    }
    shape[no] = pl->m;
    shape[no + 1] = pl->n;
    *nd = no + 2;
    int64_t numel = 1;
    for (int d = 0; d < *nd; d++) {
        if (shape[d] > 0 && numel > INT64_MAX / 16 / shape[d]) {
            ag__error("%s: the result of %s @ %s would be too large", fn,
                      ag_shape_str(a, sa, sizeof sa), ag_shape_str(b, sb, sizeof sb));
            return false;
        }
        numel *= shape[d];
    }
    return true;
}

static ag_tensor *product(const char *fn, const ag_op *op, bool ta, bool tb, ag_tensor *a,
                          ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    mm_plan pl = {.ta = ta, .tb = tb};
    int nd;
    int64_t shape[AG_MAX_DIMS];
    if (!ag__check(fn, 2, in)) return NULL;
    if (!plan_matmul(fn, a, b, &pl, &nd, shape)) return NULL;
    ag_tensor *y = ag__new(a->dtype, nd, shape);
    if (!y) return NULL;
    kernel(&pl, a, b, y);
    return ag__finish(y, op, 2, in, NULL);
}

ag_tensor *ag_matmul(ag_tensor *a, ag_tensor *b)
{
    return product("ag_matmul", &OP_MATMUL, false, false, a, b);
}

ag_tensor *ag__matmul_nt(ag_tensor *a, ag_tensor *b)
{
    return product("ag__matmul_nt", &OP_MATMUL_NT, false, true, a, b);
}

ag_tensor *ag__matmul_tn(ag_tensor *a, ag_tensor *b)
{
    return product("ag__matmul_tn", &OP_MATMUL_TN, true, false, a, b);
}
