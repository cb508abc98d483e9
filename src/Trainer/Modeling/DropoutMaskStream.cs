using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// The keep-mask values of <see cref="DropoutMask"/> as a stream: <see cref="Take"/> writes the next values, continuing
/// where the previous call stopped, so a mask can be drawn a row at a time (by the fused attention) and still equal,
/// value for value, the one <see cref="DropoutMask.Fill"/> writes at once for the same seed.
/// </summary>
/// <remarks>
/// xoshiro128** (Blackman and Vigna) on 8 independent lanes, the lanes' states seeded from one 64-bit seed through
/// splitmix64; 8 consecutive values come from one step of the 8 lanes. A value is <c>1/(1-p)</c> where its 32-bit draw
/// is at least <c>p * 2^32</c> (probability 1 - p, to 2^-33), else 0.
/// </remarks>
internal struct DropoutMaskStream
{
    private const int Lanes = 8;

    private Vector256<uint> s0, s1, s2, s3;
    private readonly Vector256<int> signedThreshold;
    private readonly Vector256<float> survivor;
    // The values of the last step not yet handed out: the last `pendingCount` lanes of `pending`.
    private Vector256<float> pending;
    private int pendingCount;

    /// <summary>A stream of keep-mask values of drop probability <paramref name="p"/> in [0, 1), drawn from <paramref name="seed"/>.</summary>
    public DropoutMaskStream(ulong seed, double p)
    {
        if (p is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "A dropout probability is in [0, 1).");
        uint threshold = (uint)Math.Min(Math.Round(p * 4294967296.0), uint.MaxValue);
        // AVX2 compares signed lanes only: flipping the top bit of both sides turns the unsigned comparison into a signed one.
        signedThreshold = Vector256.Create(threshold ^ 0x80000000u).AsInt32();
        survivor = Vector256.Create((float)(1.0 / (1 - p)));
        Span<uint> seeds = stackalloc uint[4 * Lanes];
        ulong state = seed;
        foreach (ref uint word in seeds)
            word = (uint)SplitMix64(ref state);
        s0 = Vector256.Create<uint>(seeds[..Lanes]);
        s1 = Vector256.Create<uint>(seeds.Slice(Lanes, Lanes));
        s2 = Vector256.Create<uint>(seeds.Slice(2 * Lanes, Lanes));
        s3 = Vector256.Create<uint>(seeds.Slice(3 * Lanes, Lanes));
        pending = default;
        pendingCount = 0;
    }

    /// <summary>Writes the next <c>destination.Length</c> values of the stream.</summary>
    public void Take(Span<float> destination)
    {
        int count = destination.Length, i = 0;
        ref float first = ref MemoryMarshal.GetReference(destination);
        for (; i < count && pendingCount > 0; i++, pendingCount--)
            Unsafe.Add(ref first, i) = pending.GetElement(Lanes - pendingCount);
        for (; i + Lanes <= count; i += Lanes)
            Vector256.StoreUnsafe(Next(), ref first, (nuint)i);
        if (i < count)
        {
            // A partial group takes the first lanes of one more step and keeps the rest for the next call.
            pending = Next();
            pendingCount = Lanes;
            for (; i < count; i++, pendingCount--)
                Unsafe.Add(ref first, i) = pending.GetElement(Lanes - pendingCount);
        }
    }

    // The mask values of one xoshiro128** step on every lane: the output of the current state, then the state's advance.
    private Vector256<float> Next()
    {
        var scaled = s1 * 5u;
        var draw = ((scaled << 7) | (scaled >>> 25)) * 9u;
        var shifted = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= shifted;
        s3 = (s3 << 11) | (s3 >>> 21);
        var keep = Vector256.GreaterThanOrEqual((draw ^ Vector256.Create(0x80000000u)).AsInt32(), signedThreshold).AsSingle();
        return keep & survivor;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
