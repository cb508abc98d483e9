using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Float32 matrix products for the small blocks of the fused attention (a head's 64 x 64 tokens by 64 dimensions),
/// on one thread with AVX2 and FMA: C = A B or C = A^T B, row-major, C overwritten.
/// </summary>
/// <remarks>
/// Why not MKL through libtorch: its batched product ran these blocks at ~60% of its large-matrix rate in a cct_2 step,
/// and each call goes through the dispatcher and autograd. Here a block of 4 rows x 16 columns of C stays in eight
/// registers while A's elements are broadcast and B's rows streamed; with the operands packed into contiguous buffers
/// (a strided B with a 1.5 KB row pitch ran ~30% slower) it runs at about MKL's one-thread 1024^3 rate.
/// </remarks>
internal static unsafe class SmallGemm
{
    /// <summary>Whether the CPU runs these kernels (AVX2 and FMA).</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>C (m x n, row pitch ldc) = A (m x k, lda) B (k x n, ldb); n a multiple of 8.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k)
    {
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
                Block4x16(a + (long)i * lda, lda, b + j, ldb, c + (long)i * ldc + j, ldc, k);
            for (; i < m; i++)
                Row16(a + (long)i * lda, 1, b + j, ldb, c + (long)i * ldc + j, k);
        }
        if (j < n)
            for (int i = 0; i < m; i++)
                Row8(a + (long)i * lda, 1, b + j, ldb, c + (long)i * ldc + j, k);
    }

    /// <summary>
    /// C (m x n, ldc) = A^T B where A is stored k x m (row pitch lda) and B is k x n (ldb); n a multiple of 8. With
    /// <paramref name="accumulate"/>, C += A^T B (only where m is a multiple of 4 and n of 16).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposedA(float* a, int lda, float* b, int ldb, float* c, int ldc, int m, int n, int k, bool accumulate = false)
    {
        if (accumulate && (m % 4 != 0 || n % 16 != 0))
            throw new ArgumentException($"Accumulating products take m a multiple of 4 and n of 16; got m = {m}, n = {n}.");
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            int i = 0;
            for (; i + 4 <= m; i += 4)
                Block4x16Transposed(a + i, lda, b + j, ldb, c + (long)i * ldc + j, ldc, k, accumulate);
            for (; i < m; i++)
                Row16(a + i, lda, b + j, ldb, c + (long)i * ldc + j, k);
        }
        if (j < n)
            for (int i = 0; i < m; i++)
                Row8(a + i, lda, b + j, ldb, c + (long)i * ldc + j, k);
    }

    // Rows of A at a0..a3, read at a common index: one index update per step (four pointer updates ran ~25% slower).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x16(float* a0, int lda, float* b, int ldb, float* c, int ldc, int k)
    {
        var c00 = Vector256<float>.Zero; var c01 = c00; var c10 = c00; var c11 = c00;
        var c20 = c00; var c21 = c00; var c30 = c00; var c31 = c00;
        float* a1 = a0 + lda, a2 = a1 + lda, a3 = a2 + lda;
        for (int t = 0; t < k; t++, b += ldb)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var x = Vector256.Create(a0[t]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[t]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[t]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[t]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01); c += ldc;
        Avx.Store(c, c10); Avx.Store(c + 8, c11); c += ldc;
        Avx.Store(c, c20); Avx.Store(c + 8, c21); c += ldc;
        Avx.Store(c, c30); Avx.Store(c + 8, c31);
    }

    // A^T: the four rows of C take four neighbouring elements of one row of A. Accumulating starts from C's values.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Block4x16Transposed(float* a, int lda, float* b, int ldb, float* c, int ldc, int k, bool accumulate)
    {
        var c00 = Vector256<float>.Zero; var c01 = c00; var c10 = c00; var c11 = c00;
        var c20 = c00; var c21 = c00; var c30 = c00; var c31 = c00;
        if (accumulate)
        {
            c00 = Avx.LoadVector256(c); c01 = Avx.LoadVector256(c + 8);
            c10 = Avx.LoadVector256(c + ldc); c11 = Avx.LoadVector256(c + ldc + 8);
            c20 = Avx.LoadVector256(c + 2 * ldc); c21 = Avx.LoadVector256(c + 2 * ldc + 8);
            c30 = Avx.LoadVector256(c + 3 * ldc); c31 = Avx.LoadVector256(c + 3 * ldc + 8);
        }
        for (int t = 0; t < k; t++, b += ldb, a += lda)
        {
            var b0 = Avx.LoadVector256(b);
            var b1 = Avx.LoadVector256(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01); c += ldc;
        Avx.Store(c, c10); Avx.Store(c + 8, c11); c += ldc;
        Avx.Store(c, c20); Avx.Store(c + 8, c21); c += ldc;
        Avx.Store(c, c30); Avx.Store(c + 8, c31);
    }

    // One row of C, 16 or 8 columns: A's elements step by aStep (1 along a row of A, lda down a column of A).
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row16(float* a, int aStep, float* b, int ldb, float* c, int k)
    {
        var c0 = Vector256<float>.Zero;
        var c1 = c0;
        for (int t = 0; t < k; t++, b += ldb, a += aStep)
        {
            var x = Vector256.Create(*a);
            c0 = Fma.MultiplyAdd(x, Avx.LoadVector256(b), c0);
            c1 = Fma.MultiplyAdd(x, Avx.LoadVector256(b + 8), c1);
        }
        Avx.Store(c, c0);
        Avx.Store(c + 8, c1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Row8(float* a, int aStep, float* b, int ldb, float* c, int k)
    {
        var c0 = Vector256<float>.Zero;
        for (int t = 0; t < k; t++, b += ldb, a += aStep)
            c0 = Fma.MultiplyAdd(Vector256.Create(*a), Avx.LoadVector256(b), c0);
        Avx.Store(c, c0);
    }
}
