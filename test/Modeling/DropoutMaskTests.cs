using Microsoft.ML.CompactTransformer.Modeling;
using Microsoft.ML.CompactTransformer.Native;
using static TorchSharp.torch;

namespace Microsoft.ML.CompactTransformer.Tests.Modeling;

/// <summary>The vectorised dropout keep masks (Modeling/DropoutMask): their statistics, their tail, their seeds.</summary>
public sealed class DropoutMaskTests
{
    public DropoutMaskTests() => TorchRuntime.EnsureInitialized();

    [Theory]
    [InlineData(0.1)]
    [InlineData(0.5)]
    public void KeepsOneMinusPEverywhereAndIndependentlyOfTheNeighbours(double p)
    {
        const int count = 1 << 21;
        using var mask = empty(count);
        DropoutMask.Fill(mask, 12345, p);
        var values = mask.data<float>().ToArray();
        float scale = (float)(1 / (1 - p));
        Assert.All(values, v => Assert.True(v == 0f || v == scale, $"a mask value {v} is neither 0 nor {scale}"));

        // Each of the 8 lanes (position mod 8) on its own, and pairs of neighbours: next element (another lane) and
        // next draw of the same lane (8 on). Bounds are ~5 standard deviations of a binomial count.
        var keptPerLane = new int[8];
        int bothNext = 0, bothSameLane = 0;
        for (int i = 0; i < count; i++)
        {
            bool kept = values[i] != 0;
            if (kept) keptPerLane[i % 8]++;
            if (kept && i + 1 < count && values[i + 1] != 0) bothNext++;
            if (kept && i + 8 < count && values[i + 8] != 0) bothSameLane++;
        }
        double q = 1 - p;
        foreach (int kept in keptPerLane)
            AssertNear(kept, count / 8, q);
        AssertNear(bothNext, count - 1, q * q);
        AssertNear(bothSameLane, count - 8, q * q);
    }

    [Theory]
    [InlineData(64, 2)]
    [InlineData(49, 3)]
    [InlineData(5, 7)]
    public void AStreamTakenRowByRowGivesTheMaskFilledAtOnce(int row, int rows)
    {
        // The fused attention draws a head's mask a row at a time; the rows must continue one stream (groups of 8
        // spanning rows included) and equal the mask of the same seed in one piece.
        using var whole = empty(row * rows);
        DropoutMask.Fill(whole, 2024, 0.25);
        var stream = new DropoutMaskStream(2024, 0.25);
        var pieces = new float[row * rows];
        for (int r = 0; r < rows; r++)
            stream.Take(pieces.AsSpan(r * row, row));
        Assert.Equal(whole.data<float>().ToArray(), pieces);
    }

    [Fact]
    public void TheSameSeedGivesTheSameMaskAndAnotherSeedAnotherOneIncludingTheTail()
    {
        using var a = empty(1003);
        using var b = empty(1003);
        using var c = empty(1003);
        DropoutMask.Fill(a, 7, 0.3);
        DropoutMask.Fill(b, 7, 0.3);
        DropoutMask.Fill(c, 8, 0.3);
        Assert.True(a.eq(b).all().item<bool>(), "same seed, other mask");
        Assert.False(a.eq(c).all().item<bool>(), "another seed gave the same mask");
        // The last 3 elements come from the scalar tail.
        using var tail = a.narrow(0, 1000, 3);
        Assert.True(tail.eq(0).logical_or(tail.eq((float)(1 / 0.7))).all().item<bool>());
        using var tails = stack(Enumerable.Range(0, 64).Select(seed => { var m = empty(1003); DropoutMask.Fill(m, (ulong)seed, 0.5); return m.narrow(0, 1000, 3); }));
        double keptInTails = tails.ne(0).to_type(ScalarType.Float64).mean().item<double>();
        Assert.InRange(keptInTails, 0.3, 0.7); // 192 draws at p = 0.5
    }

    [Fact]
    public void RefusesAnythingButAContiguousFloatTensorOnTheCpu()
    {
        using var doubles = empty(8, dtype: ScalarType.Float64);
        var ex = Assert.Throws<ArgumentException>(() => DropoutMask.Fill(doubles, 1, 0.1));
        Assert.Contains("Float64", ex.Message);
        using var strided = empty(4, 4).t();
        Assert.Throws<ArgumentException>(() => DropoutMask.Fill(strided, 1, 0.1));
        using var floats = empty(8);
        Assert.Throws<ArgumentOutOfRangeException>(() => DropoutMask.Fill(floats, 1, 1.0));
    }

    private static void AssertNear(int observed, int trials, double probability)
    {
        double mean = trials * probability, sd = Math.Sqrt(trials * probability * (1 - probability));
        Assert.InRange(observed, mean - 5 * sd, mean + 5 * sd);
    }
}
