/* ops/matmul.c - matrix product with NumPy batch broadcasting:
 *     a [..., m, k] @ b [..., k, n] -> [..., m, n]
 * Both operands need at least 2 dimensions; the leading (batch) dimensions broadcast.
 *
 * Kernel: row-major i-k-j order (y[i, :] += a[i, k] * b[k, :], a contiguous inner loop that
 * vectorises), with simple blocking: a task is a few rows of one batch, and within it the
 * columns and k are cut into blocks so the piece of b being reused stays in cache. Each output
 * element adds its k products in increasing k, whatever the blocking or thread count, so
 * results are deterministic. Threads split the tasks (batch x row blocks).
 * (A packed, register-blocked micro-kernel is planned separately; it would replace only
 * kernel() below.)
 */
#include "../autograd/internal.h"

#define MB 4   /* output rows per task */
#define KB 128 /* k per block */
#define NB 512 /* output columns per block */

typedef struct mm_plan {
    int nbatch;                    /* broadcast batch dimensions */
    int64_t bshape[AG_MAX_DIMS];   /* their sizes */
    int64_t astride[AG_MAX_DIMS];  /* element stride of a's matrix per batch index (0: broadcast) */
    int64_t bstride[AG_MAX_DIMS];
    int64_t batches, m, k, n;
} mm_plan;

static void kernel(const mm_plan *pl, const ag_tensor *A, const ag_tensor *B, ag_tensor *Y)
{
    int64_t m = pl->m, K = pl->k, n = pl->n;
    int64_t mblocks = (m + MB - 1) / MB, iters = pl->batches * mblocks;
    int64_t work = pl->batches * m * n;
    if (K > 0 && work < INT64_MAX / K) work *= K;
    AG_DISPATCH(Y->dtype, T, const T *pa = A->data; const T *pb = B->data; T *py = Y->data;
        AG_PFOR_WORK(it, iters, work,
            int64_t bi = it / mblocks, i0 = (it % mblocks) * MB;
            int64_t i1 = i0 + MB < m ? i0 + MB : m;
            int64_t oa = 0, ob = 0, rest = bi;
            for (int d = pl->nbatch - 1; d >= 0; d--) {
                int64_t idx = rest % pl->bshape[d];
                rest /= pl->bshape[d];
                oa += idx * pl->astride[d];
                ob += idx * pl->bstride[d];
            }
            const T *a = pa + oa, *b = pb + ob;
            T *y = py + bi * m * n;
            for (int64_t i = i0; i < i1; i++)
                for (int64_t j = 0; j < n; j++) y[i * n + j] = 0;
            for (int64_t j0 = 0; j0 < n; j0 += NB) {
                int64_t jw = j0 + NB < n ? NB : n - j0;
                for (int64_t k0 = 0; k0 < K; k0 += KB) {
                    int64_t k1 = k0 + KB < K ? k0 + KB : K;
                    for (int64_t i = i0; i < i1; i++) {
                        T *restrict yr = y + i * n + j0;
                        const T *ar = a + i * K;
                        for (int64_t kk = k0; kk < k1; kk++) {
                            T aik = ar[kk];
                            const T *restrict br = b + kk * n + j0;
                            AG_SIMD
                            for (int64_t j = 0; j < jw; j++) yr[j] += aik * br[j];
                        }
                    }
                }
            });
        );
}

/* matmul: y = a @ b.   da = g @ b^T,  db = a^T @ g (over the broadcast batch shape; the
 * engine sums broadcast batch dimensions back to each input's shape). */
static int matmul_backward(ag_node *n, ag_tensor *y, ag_tensor *g, ag_tensor **gin)
{
    (void)y;
    ag_tensor *a = n->inputs[0], *b = n->inputs[1];
    if (a->requires_grad) {
        ag_tensor *bt = ag_transpose(b, -1, -2);
        gin[0] = ag_matmul(g, bt);
        ag__release(bt);
        if (!gin[0]) return -1;
    }
    if (b->requires_grad) {
        ag_tensor *at = ag_transpose(a, -1, -2);
        gin[1] = ag_matmul(at, g);
        ag__release(at);
        if (!gin[1]) return -1;
    }
    return 0;
}

static const ag_op OP_MATMUL = {"matmul", matmul_backward};

/* Checks the shapes and fills the plan and the output shape; false with an error otherwise. */
static bool plan_matmul(const ag_tensor *a, const ag_tensor *b, mm_plan *pl, int *nd,
                        int64_t *shape)
{
    char sa[AG_SHAPE_BUF], sb[AG_SHAPE_BUF];
    const ag_tensor *ops[2] = {a, b};
    for (int i = 0; i < 2; i++) {
        const ag_tensor *t = ops[i];
        if (t->ndim >= 2) continue;
        ag_shape_str(t, sa, sizeof sa);
        if (t->ndim == 1)
            ag__error("ag_matmul: needs at least 2 dimensions, got %s (argument %d); reshape a "
                      "vector to [1,%lld] or [%lld,1]", sa, i + 1, (long long)t->shape[0],
                      (long long)t->shape[0]);
        else
            ag__error("ag_matmul: needs at least 2 dimensions, got %s (argument %d, a 0-d "
                      "tensor); multiply by a scalar with ag_mul", sa, i + 1);
        return false;
    }
    int na = a->ndim - 2, nb = b->ndim - 2, no = na > nb ? na : nb;
    pl->m = a->shape[na];
    pl->k = a->shape[na + 1];
    pl->n = b->shape[nb + 1];
    if (b->shape[nb] != pl->k) {
        ag__error("ag_matmul: inner dimensions differ: %s @ %s (%lld vs %lld: the last dimension "
                  "of a must equal the second-to-last of b)", ag_shape_str(a, sa, sizeof sa),
                  ag_shape_str(b, sb, sizeof sb), (long long)pl->k, (long long)b->shape[nb]);
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
            ag__error("ag_matmul: batch dimensions cannot broadcast: %s @ %s (batch dimension "
                      "%d: %lld vs %lld; each pair must be equal or one of them 1)",
                      ag_shape_str(a, sa, sizeof sa), ag_shape_str(b, sb, sizeof sb), d,
                      (long long)xa, (long long)xb);
            return false;
        }
        pl->bshape[d] = xa == 1 ? xb : xa;
        if (pl->bshape[d] > 0 && pl->batches > INT64_MAX / 16 / pl->bshape[d]) {
            ag__error("ag_matmul: the result of %s @ %s would be too large",
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
            ag__error("ag_matmul: the result of %s @ %s would be too large",
                      ag_shape_str(a, sa, sizeof sa), ag_shape_str(b, sb, sizeof sb));
            return false;
        }
        numel *= shape[d];
    }
    return true;
}

ag_tensor *ag_matmul(ag_tensor *a, ag_tensor *b)
{
    ag_tensor *in[2] = {a, b};
    mm_plan pl;
    int nd;
    int64_t shape[AG_MAX_DIMS];
    if (!ag__check("ag_matmul", 2, in)) return NULL;
    if (!plan_matmul(a, b, &pl, &nd, shape)) return NULL;
    ag_tensor *y = ag__new(a->dtype, nd, shape);
    if (!y) return NULL;
    kernel(&pl, a, b, y);
    return ag__finish(y, &OP_MATMUL, 2, in, NULL);
}
