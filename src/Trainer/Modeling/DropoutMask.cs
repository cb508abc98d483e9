using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using TorchSharp;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Modeling;

/// <summary>
/// Inverted-dropout keep masks written straight into a CPU float32 tensor: each element is <c>1/(1-p)</c> where a
/// 32-bit draw is at least <c>p * 2^32</c> (probability 1 - p, to 2^-33) and 0 elsewhere. The draws come from
/// xoshiro128** (Blackman and Vigna) run on 8 independent lanes at once, the lanes' states seeded from one 64-bit
/// seed through splitmix64, so a mask depends only on its seed and its length.
/// </summary>
/// <remarks>
/// Why not libtorch: its uniform fill draws one Mersenne-Twister number per element, serially, and the comparison and
/// scaling are two more passes; for one head of a cct_2 half-batch (32 x 64 x 64) that was 0.67 ms against 0.07 ms
/// here (mask and product), for cct_7 (32 x 256 x 256) 16.6 against 2.2 ms, on one thread.
/// </remarks>
internal static class DropoutMask
{
    private const int Lanes = 8;

    /// <summary>Whether <paramref name="mask"/> can be filled here: a contiguous float32 CPU tensor.</summary>
    public static bool CanFill(Tensor mask) =>
        mask.device_type == DeviceType.CPU && mask.dtype == ScalarType.Float32 && mask.is_contiguous()
        && mask.numel() <= int.MaxValue / sizeof(float);

    /// <summary>Fills <paramref name="mask"/> with the keep mask of drop probability <paramref name="p"/> drawn from <paramref name="seed"/>.</summary>
    public static void Fill(Tensor mask, ulong seed, double p)
    {
        if (!CanFill(mask))
            throw new ArgumentException($"A dropout mask is a contiguous float32 CPU tensor; got {mask.dtype} on {mask.device_type}.", nameof(mask));
        if (p is < 0 or >= 1)
            throw new ArgumentOutOfRangeException(nameof(p), p, "A dropout probability is in [0, 1).");
        var values = MemoryMarshal.Cast<byte, float>(mask.bytes);
        uint threshold = (uint)Math.Min(Math.Round(p * 4294967296.0), uint.MaxValue);
        float scale = (float)(1.0 / (1 - p));

        Span<uint> seeds = stackalloc uint[4 * Lanes];
        ulong state = seed;
        foreach (ref uint word in seeds)
            word = (uint)SplitMix64(ref state);
        var s0 = Vector256.Create<uint>(seeds[..Lanes]);
        var s1 = Vector256.Create<uint>(seeds.Slice(Lanes, Lanes));
        var s2 = Vector256.Create<uint>(seeds.Slice(2 * Lanes, Lanes));
        var s3 = Vector256.Create<uint>(seeds.Slice(3 * Lanes, Lanes));

        // AVX2 compares signed lanes only: flipping the top bit of both sides turns the unsigned comparison into a signed one.
        var signBit = Vector256.Create(0x80000000u);
        var signedThreshold = Vector256.Create(threshold ^ 0x80000000u).AsInt32();
        var survivor = Vector256.Create(scale);
        ref float first = ref MemoryMarshal.GetReference(values);
        int count = values.Length, whole = count - count % Lanes, i = 0;
        for (; i < whole; i += Lanes)
        {
            var keep = Vector256.GreaterThanOrEqual((Next(ref s0, ref s1, ref s2, ref s3) ^ signBit).AsInt32(), signedThreshold).AsSingle();
            Vector256.StoreUnsafe(keep & survivor, ref first, (nuint)i);
        }
        if (i < count)
        {
            // The last, partial group takes the first lanes of one more step.
            Span<uint> tail = stackalloc uint[Lanes];
            Next(ref s0, ref s1, ref s2, ref s3).CopyTo(tail);
            for (int j = 0; i + j < count; j++)
                values[i + j] = tail[j] >= threshold ? scale : 0f;
        }
    }

    // One xoshiro128** step on every lane: the output of the current state, then the state's advance.
    private static Vector256<uint> Next(ref Vector256<uint> s0, ref Vector256<uint> s1, ref Vector256<uint> s2, ref Vector256<uint> s3)
    {
        var scaled = s1 * 5u;
        var result = ((scaled << 7) | (scaled >>> 25)) * 9u;
        var shifted = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= shifted;
        s3 = (s3 << 11) | (s3 >>> 21);
        return result;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        ulong z = state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
