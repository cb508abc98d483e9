using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>AVX2 building blocks of the fused attention: exp, horizontal max and sum, an 8 x 8 transpose.</summary>
internal static unsafe class FloatVectors
{
    /// <summary>
    /// e^x on 8 lanes, within ~2 ulp of the exact value for x in [-87, 88] (clamped outside): x = n ln2 + r with
    /// |r| &lt;= ln2/2, e^r from a degree-7 polynomial (Cephes' single-precision coefficients), 2^n put into the exponent.
    /// </summary>
    /// <remarks>
    /// Why not <c>Vector256.Exp</c>: .NET 10's float version took 11.4 ns per element here, slower than scalar
    /// <c>MathF.Exp</c>; this one is a dozen instructions for 8 elements.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Exp(Vector256<float> x)
    {
        x = Avx.Min(Avx.Max(x, Vector256.Create(-87.3f)), Vector256.Create(88.3f));
        var n = Avx.RoundToNearestInteger(Avx.Multiply(x, Vector256.Create(1.44269504088896341f)));
        // ln2 in two parts, so that n * ln2 is subtracted without rounding away r's low bits.
        var r = Fma.MultiplyAddNegated(n, Vector256.Create(0.693359375f), x);
        r = Fma.MultiplyAddNegated(n, Vector256.Create(-2.12194440e-4f), r);
        var y = Vector256.Create(1.9875691500e-4f);
        y = Fma.MultiplyAdd(y, r, Vector256.Create(1.3981999507e-3f));
        y = Fma.MultiplyAdd(y, r, Vector256.Create(8.3334519073e-3f));
        y = Fma.MultiplyAdd(y, r, Vector256.Create(4.1665795894e-2f));
        y = Fma.MultiplyAdd(y, r, Vector256.Create(1.6666665459e-1f));
        y = Fma.MultiplyAdd(y, r, Vector256.Create(5.0000001201e-1f));
        y = Fma.MultiplyAdd(y, Avx.Multiply(r, r), Avx.Add(r, Vector256.Create(1f)));
        var twoToN = Avx2.ShiftLeftLogical(Avx2.Add(Avx.ConvertToVector256Int32(n), Vector256.Create(127)), 23).AsSingle();
        return Avx.Multiply(y, twoToN);
    }

    /// <summary>The largest of the 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Max(Vector256<float> v)
    {
        var x = Sse.Max(v.GetLower(), v.GetUpper());
        x = Sse.Max(x, Sse.Shuffle(x, x, 0b_01_00_11_10));
        return Sse.Max(x, Sse.Shuffle(x, x, 0b_10_11_00_01)).ToScalar();
    }

    /// <summary>The sum of the 8 lanes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Sum(Vector256<float> v)
    {
        var x = Sse.Add(v.GetLower(), v.GetUpper());
        x = Sse.Add(x, Sse.Shuffle(x, x, 0b_01_00_11_10));
        return Sse.Add(x, Sse.Shuffle(x, x, 0b_10_11_00_01)).ToScalar();
    }

    /// <summary>
    /// Asks for the cache lines of <paramref name="bytes"/> bytes at <paramref name="start"/> to be loaded (into all
    /// cache levels) without waiting for them.
    /// </summary>
    public static void Prefetch(void* start, long bytes)
    {
        for (long offset = 0; offset < bytes; offset += 64)
            Sse.Prefetch0((byte*)start + offset);
    }

    /// <summary>Writes the transpose of the 8 x 8 block at <paramref name="source"/> (row pitch ls) to <paramref name="destination"/> (row pitch ld).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Transpose8x8(float* source, int ls, float* destination, int ld)
    {
        var r0 = Avx.LoadVector256(source);
        var r1 = Avx.LoadVector256(source + ls);
        var r2 = Avx.LoadVector256(source + 2 * ls);
        var r3 = Avx.LoadVector256(source + 3 * ls);
        var r4 = Avx.LoadVector256(source + 4 * ls);
        var r5 = Avx.LoadVector256(source + 5 * ls);
        var r6 = Avx.LoadVector256(source + 6 * ls);
        var r7 = Avx.LoadVector256(source + 7 * ls);
        // Interleave pairs of rows, then pairs of pairs, within each 128-bit half; then swap the halves across.
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var u0 = Avx.Shuffle(t0, t2, 0x44); var u1 = Avx.Shuffle(t0, t2, 0xEE);
        var u2 = Avx.Shuffle(t1, t3, 0x44); var u3 = Avx.Shuffle(t1, t3, 0xEE);
        var u4 = Avx.Shuffle(t4, t6, 0x44); var u5 = Avx.Shuffle(t4, t6, 0xEE);
        var u6 = Avx.Shuffle(t5, t7, 0x44); var u7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(destination, Avx.Permute2x128(u0, u4, 0x20));
        Avx.Store(destination + ld, Avx.Permute2x128(u1, u5, 0x20));
        Avx.Store(destination + 2 * ld, Avx.Permute2x128(u2, u6, 0x20));
        Avx.Store(destination + 3 * ld, Avx.Permute2x128(u3, u7, 0x20));
        Avx.Store(destination + 4 * ld, Avx.Permute2x128(u0, u4, 0x31));
        Avx.Store(destination + 5 * ld, Avx.Permute2x128(u1, u5, 0x31));
        Avx.Store(destination + 6 * ld, Avx.Permute2x128(u2, u6, 0x31));
        Avx.Store(destination + 7 * ld, Avx.Permute2x128(u3, u7, 0x31));
    }
}
